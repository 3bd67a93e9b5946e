"""The SSHSIG format (OpenSSH ``PROTOCOL.sshsig``): what ``ssh-keygen -Y sign`` writes.

A signature blob is ``"SSHSIG" uint32(1) string(public key) string(namespace)
string(reserved) string(hash algorithm) string(signature)``; the key signs
``"SSHSIG" string(namespace) string(reserved) string(hash algorithm)
string(H(message))``. Git puts the armored blob in a commit's ``gpgsig`` header
with namespace ``git``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

from drago.errors import SignatureError
from drago.signing.armor import armor, dearmor
from drago.signing.keys import ED25519, PublicKey
from drago.signing.wire import Reader, string, uint32

MAGIC = b"SSHSIG"
LABEL = "SSH SIGNATURE"
VERSION = 1
HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}


@dataclass(frozen=True)
class SshSignature:
    """A parsed SSHSIG blob."""

    key: PublicKey
    namespace: str
    hash_algorithm: str
    signature_type: str
    signature: bytes

    @classmethod
    def parse(cls, armored: bytes) -> SshSignature:
        """Parse an armored signature; SignatureError says what is malformed."""
        if armored.lstrip().startswith(b"-----BEGIN PGP SIGNATURE-----"):
            raise SignatureError("signed with GPG, not an SSH key (SSHSIG expected)")
        if not armored.lstrip().startswith(f"-----BEGIN {LABEL}-----".encode()):
            raise SignatureError("not an SSH signature (SSHSIG armor expected)")
        blob = dearmor(LABEL, armored)
        reader = Reader(blob, "SSH signature")
        if reader.raw(len(MAGIC)) != MAGIC:
            raise SignatureError("bad SSH signature: missing SSHSIG magic")
        version = reader.uint32()
        if version != VERSION:
            raise SignatureError(f"unsupported SSHSIG version {version}")
        key = PublicKey.from_blob(reader.string())
        namespace = reader.string().decode("utf-8", "replace")
        reader.string()  # reserved
        hash_algorithm = reader.string().decode("ascii", "replace")
        inner = Reader(reader.string(), "SSH signature")
        signature_type = inner.string().decode("ascii", "replace")
        signature = inner.string()
        return cls(key, namespace, hash_algorithm, signature_type, signature)

    def verify(self, message: bytes, *, namespace: str) -> None:
        """Check namespace, algorithms and the signature itself over ``message``."""
        if self.namespace != namespace:
            raise SignatureError(
                f"signature namespace is {self.namespace!r}, expected {namespace!r}"
            )
        hasher = HASHES.get(self.hash_algorithm)
        if hasher is None:
            raise SignatureError(f"unsupported signature hash {self.hash_algorithm!r}")
        raw_key = self.key.ed25519_raw()
        if self.signature_type != ED25519 or len(self.signature) != 64:
            raise SignatureError(f"unsupported signature type {self.signature_type}")
        data = signed_data(message, namespace, self.hash_algorithm)
        try:
            nacl.signing.VerifyKey(raw_key).verify(data, self.signature)
        except nacl.exceptions.BadSignatureError:
            raise SignatureError(
                "signature does not verify (content changed after signing)"
            ) from None


def signed_data(message: bytes, namespace: str, hash_algorithm: str) -> bytes:
    digest = HASHES[hash_algorithm](message).digest()
    return (
        MAGIC
        + string(namespace.encode())
        + string(b"")
        + string(hash_algorithm.encode())
        + string(digest)
    )


def sign(key: nacl.signing.SigningKey, message: bytes, *, namespace: str = "git") -> bytes:
    """An armored SSHSIG signature over ``message`` (hash sha512), as ``ssh-keygen -Y sign``."""
    hash_algorithm = "sha512"
    public = PublicKey.ed25519(bytes(key.verify_key))
    signature = key.sign(signed_data(message, namespace, hash_algorithm)).signature
    blob = (
        MAGIC
        + uint32(VERSION)
        + string(public.blob)
        + string(namespace.encode())
        + string(b"")
        + string(hash_algorithm.encode())
        + string(string(ED25519.encode()) + string(signature))
    )
    return armor(LABEL, blob)
