"""SSH public keys: the wire blob, the ``authorized_keys``-style line, fingerprints."""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from drago.errors import InvalidRequest, SignatureError
from drago.signing.wire import Reader, string

ED25519 = "ssh-ed25519"


@dataclass(frozen=True)
class PublicKey:
    """An SSH public key as its type and wire blob (which repeats the type)."""

    key_type: str
    blob: bytes

    @classmethod
    def from_blob(cls, blob: bytes) -> PublicKey:
        reader = Reader(blob, "public key")
        key_type = reader.string().decode("ascii", "replace")
        return cls(key_type, blob)

    @classmethod
    def ed25519(cls, raw: bytes) -> PublicKey:
        return cls(ED25519, string(ED25519.encode()) + string(raw))

    @classmethod
    def parse(cls, key_type: str, b64: str) -> PublicKey:
        """A key from the two fields of a ``TYPE BASE64`` line; InvalidRequest if malformed."""
        try:
            blob = base64.b64decode(b64, validate=True)
            key = cls.from_blob(blob)
        except (binascii.Error, ValueError, SignatureError):
            raise InvalidRequest(f"malformed {key_type} public key") from None
        if key.key_type != key_type:
            raise InvalidRequest(f"public key says {key.key_type}, line says {key_type}")
        return key

    @classmethod
    def from_line(cls, line: str) -> tuple[PublicKey, str]:
        """A key and its comment from ``TYPE BASE64 [COMMENT]`` (a ``.pub`` file)."""
        fields = line.strip().split(None, 2)
        if len(fields) < 2:
            raise InvalidRequest("expected a public key line: TYPE BASE64 [COMMENT]")
        comment = fields[2] if len(fields) == 3 else ""
        return cls.parse(fields[0], fields[1]), comment

    def ed25519_raw(self) -> bytes:
        """The 32 key bytes of an ed25519 key; SignatureError for other types."""
        if self.key_type != ED25519:
            raise SignatureError(f"unsupported key type {self.key_type} (only {ED25519})")
        reader = Reader(self.blob, "public key")
        reader.string()
        raw = reader.string()
        if len(raw) != 32 or not reader.done:
            raise SignatureError("malformed ssh-ed25519 public key")
        return raw

    def base64(self) -> str:
        return base64.b64encode(self.blob).decode("ascii")

    def line(self, comment: str = "") -> str:
        text = f"{self.key_type} {self.base64()}"
        return f"{text} {comment}" if comment else text

    @property
    def fingerprint(self) -> str:
        """``SHA256:...`` as ``ssh-keygen -l`` prints it."""
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")
