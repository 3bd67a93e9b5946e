"""Verify a commit's SSH signature against the trusted signers."""

from __future__ import annotations

from drago.errors import SignatureError
from drago.signing.signers import Signer, TrustedSigners
from drago.signing.sshsig import SshSignature

NAMESPACE = "git"


def verify_commit(raw_without_sig: bytes, gpgsig: bytes | None, signers: TrustedSigners) -> Signer:
    """The trusted signer of a commit, or SignatureError with the reason.

    ``raw_without_sig`` is the commit object without its ``gpgsig`` header
    (dulwich's ``Commit.raw_without_sig()``), ``gpgsig`` the header's value.
    """
    if not gpgsig or not gpgsig.strip():
        raise SignatureError("unsigned commit")
    signature = SshSignature.parse(gpgsig)
    signature.verify(raw_without_sig, namespace=NAMESPACE)
    signer = signers.find(signature.key, namespace=NAMESPACE)
    if signer is None:
        raise SignatureError(
            f"key {signature.key.fingerprint} ({signature.key.key_type}) is not a trusted signer"
        )
    return signer
