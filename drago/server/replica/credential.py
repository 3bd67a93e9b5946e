"""The token a replica reads the primary with.

Given ``replica_token`` (environment ``DRAGO_REPLICA_TOKEN`` or the settings
file; never a flag, which ``ps`` would show), that one. Otherwise the replica
uses a reader token of its own in the runtime database it shares with the
primary: the secret is kept in ``DIR/replica-token`` (0600) and reused while it
authenticates; else a new reader token is made (and the old one revoked).
"""

from __future__ import annotations

import logging
from pathlib import Path

from drago.errors import NotFound
from drago.server.datadir import write_private
from drago.server.endpoint import Role
from drago.server.runtime.tokens import TokenStore

log = logging.getLogger("drago.server.replica")

#: Where a replica keeps its own token's secret, in its data directory.
TOKEN_FILE = "replica-token"


def replica_token(tokens: TokenStore, data: Path, given: str | None) -> str:
    if given:
        return given
    path = data / TOKEN_FILE
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        principal = tokens.authenticate(kept)
        if principal is not None and principal.role is Role.reader:
            return kept
        if principal is not None:
            try:
                tokens.revoke(principal.token_id)
            except NotFound:
                pass
    info, secret = tokens.create(Role.reader, name="drago replica", email="replica@drago.invalid")
    write_private(path, secret + "\n")
    log.info("made reader token %s for following the primary (secret in %s)", info.id, path)
    return secret
