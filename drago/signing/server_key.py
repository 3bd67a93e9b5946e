"""The server's own ed25519 signing key, kept as an OpenSSH private key file.

The file is in OpenSSH's format (unencrypted), so ``ssh-keygen -y -f`` and
``ssh-keygen -Y sign`` can use it too; it is created 0600 on first start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import nacl.signing

from drago.errors import DragoError
from drago.signing import sshsig
from drago.signing.armor import armor, dearmor
from drago.signing.keys import ED25519, PublicKey
from drago.signing.wire import Reader, string, uint32

LABEL = "OPENSSH PRIVATE KEY"
AUTH_MAGIC = b"openssh-key-v1\0"
DEFAULT_PRINCIPAL = "drago-server@localhost"


class ServerKey:
    """Signs the server's commits in the SSHSIG format git uses."""

    def __init__(self, key: nacl.signing.SigningKey, *, principal: str = DEFAULT_PRINCIPAL):
        self._key = key
        self.principal = principal
        self.public_key = PublicKey.ed25519(bytes(key.verify_key))

    @classmethod
    def generate(cls, *, principal: str = DEFAULT_PRINCIPAL) -> ServerKey:
        return cls(nacl.signing.SigningKey.generate(), principal=principal)

    @classmethod
    def load_or_create(cls, path: Path, *, principal: str = DEFAULT_PRINCIPAL) -> ServerKey:
        """Read the key at ``path``, or create it (0600) if the file does not exist.

        The new key is written to a temporary file and linked into place, so a
        crash never leaves a half-written key that would stop the next start.
        """
        if path.exists():
            return cls.from_openssh(path.read_bytes(), principal=principal)
        key = cls.generate(principal=principal)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, key.to_openssh())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process created the key meanwhile
        except FileExistsError:
            return cls.from_openssh(path.read_bytes(), principal=principal)
        finally:
            tmp.unlink()
        return key

    def sign(self, payload: bytes) -> bytes:
        """Armored SSHSIG over ``payload`` (namespace ``git``, sha512): a commit's gpgsig."""
        return sshsig.sign(self._key, payload, namespace="git")

    def public_line(self) -> str:
        return self.public_key.line(self.principal)

    def allowed_signers_line(self) -> str:
        return f'{self.principal} namespaces="git" {self.public_key.line()}'

    def to_openssh(self) -> bytes:
        """The key as an unencrypted ``-----BEGIN OPENSSH PRIVATE KEY-----`` file."""
        check = secrets.randbits(32)
        raw_public = bytes(self._key.verify_key)
        private = (
            uint32(check)
            + uint32(check)
            + string(ED25519.encode())
            + string(raw_public)
            + string(bytes(self._key) + raw_public)
            + string(self.principal.encode())
        )
        private += bytes(range(1, 1 + (-len(private) % 8)))
        body = (
            AUTH_MAGIC
            + string(b"none")
            + string(b"none")
            + string(b"")
            + uint32(1)
            + string(self.public_key.blob)
            + string(private)
        )
        return armor(LABEL, body)

    @classmethod
    def from_openssh(cls, text: bytes, *, principal: str = DEFAULT_PRINCIPAL) -> ServerKey:
        try:
            return cls(_parse_openssh(text), principal=principal)
        except DragoError as exc:
            raise DragoError(f"cannot read the server key: {exc.message}") from None


def _parse_openssh(text: bytes) -> nacl.signing.SigningKey:
    reader = Reader(dearmor(LABEL, text), "private key")
    if reader.raw(len(AUTH_MAGIC)) != AUTH_MAGIC:
        raise DragoError("not an openssh-key-v1 file")
    cipher, kdf = reader.string(), reader.string()
    reader.string()
    if cipher != b"none" or kdf != b"none":
        raise DragoError("the key is encrypted; the server needs an unencrypted key")
    if reader.uint32() != 1:
        raise DragoError("expected exactly one key")
    reader.string()
    private = Reader(reader.string(), "private key")
    if private.uint32() != private.uint32():
        raise DragoError("check bytes differ (corrupt key)")
    if private.string() != ED25519.encode():
        raise DragoError("the server key must be ssh-ed25519")
    public = private.string()
    secret = private.string()
    if len(secret) != 64 or secret[32:] != public:
        raise DragoError("malformed ssh-ed25519 private key")
    return nacl.signing.SigningKey(secret[:32])
