"""The signature status of a commit, as the history shows it.

``server``: signed by this server's key; ``verified``: signed by a trusted
signer (the data directory's allowed_signers); ``unverified``: signed, but the
signature is malformed, does not verify, or its key is not trusted;
``unsigned``: no signature.
"""

from __future__ import annotations

from typing import Literal

from dulwich.objects import Commit

from drago.errors import SignatureError
from drago.server.context import ServerContext
from drago.signing import ServerKey, TrustedSigners, verify_commit
from drago.store import CommitInfo

SignatureStatus = Literal["server", "verified", "unverified", "unsigned"]


def trusted_signers(ctx: ServerContext) -> TrustedSigners:
    key = ctx.server_key if isinstance(ctx.server_key, ServerKey) else None
    return TrustedSigners.load(ctx.datadir.allowed_signers, key)


def signature_status(
    ctx: ServerContext, info: CommitInfo, signers: TrustedSigners
) -> SignatureStatus:
    if info.signature is None:
        return "unsigned"
    commit = ctx.store.repo[info.id.encode("ascii")]
    if not isinstance(commit, Commit):
        return "unverified"
    try:
        signer = verify_commit(commit.raw_without_sig(), info.signature, signers)
    except SignatureError:
        return "unverified"
    return "server" if signer.server else "verified"
