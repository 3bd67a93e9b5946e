"""The signature status of a commit, as the history shows it.

``server``: signed by this server's key; ``verified``: signed by a trusted
signer (the data directory's allowed_signers); ``unverified``: signed, but the
signature is malformed, does not verify, or its key is not trusted;
``unsigned``: no signature.
"""

from __future__ import annotations

from typing import Literal

from drago.errors import SignatureError
from drago.server.context import ServerContext
from drago.store import CommitInfo

SignatureStatus = Literal["server", "verified", "unverified", "unsigned"]


def signature_status(ctx: ServerContext, info: CommitInfo) -> SignatureStatus:
    if info.signature is None:
        return "unsigned"
    commit = ctx.store.signed_commit(info.id)
    try:
        signer = ctx.trust.verify(commit.payload, commit.signature)
    except SignatureError:
        return "unverified"
    return "server" if signer.server else "verified"
