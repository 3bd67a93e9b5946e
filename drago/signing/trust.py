"""Trust: who may sign commits of the live branch, and the check of a commit's signature.

One :class:`Trust` per server (on its context) answers for the push check,
the review of a branch and the signature status the API shows: the trusted
signers (the server's own key plus a :class:`SignerSource`: the data
directory's ``allowed_signers``, re-read when it changes, or a database that
several servers share) and :meth:`Trust.verify`. It takes a commit as its
payload (the commit object without its signature header) and the signature,
so it knows nothing of the store; other signature kinds (OpenPGP) belong here.
"""

from __future__ import annotations

from pathlib import Path

from drago.errors import SignatureError
from drago.signing.signers import AllowedSigner, HasPublicKey, SignerSource, TrustedSigners
from drago.signing.sshsig import SshSignature

#: The SSHSIG namespace of commit signatures.
NAMESPACE = "git"


class Trust:
    def __init__(self, signers: TrustedSigners) -> None:
        self.signers = signers

    @classmethod
    def load(cls, signers: SignerSource | Path, server_key: HasPublicKey | None) -> Trust:
        """The trusted signers of ``signers`` (a path: an allowed_signers file, re-read on
        change) and ``server_key``."""
        return cls(TrustedSigners.load(signers, server_key))

    def verify(self, payload: bytes, signature: bytes | None) -> AllowedSigner:
        """The trusted signer of a commit, or SignatureError with the reason.

        ``payload`` is the commit object without its ``gpgsig`` header,
        ``signature`` the header's value (None: unsigned).
        """
        if not signature or not signature.strip():
            raise SignatureError("unsigned commit")
        parsed = SshSignature.parse(signature)
        parsed.verify(payload, namespace=NAMESPACE)
        signer = self.signers.find(parsed.key, namespace=NAMESPACE)
        if signer is None:
            raise SignatureError(
                f"key {parsed.key.fingerprint} ({parsed.key.key_type}) is not a trusted signer"
            )
        return signer

    def entries(self) -> list[AllowedSigner]:
        """Every trusted signer: the server's key first, then the source's."""
        return self.signers.entries()
