"""Key pairs of the node's interfaces, one per network, kept in the state directory.

Private keys are generated with PyNaCl and clamped as WireGuard clamps them,
stored base64 in ``keys/NETWORK.key`` with mode 0600, and never leave this
module except towards the local WireGuard device. ``keys/NETWORK.next`` holds a
rotated key until the server's config carries its public key.
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from nacl.public import PrivateKey
from nacl.utils import random

from drago.errors import DragoError


def clamp(raw: bytes) -> bytes:
    """Clamp a Curve25519 scalar the way WireGuard does."""
    if len(raw) != 32:
        raise ValueError("a WireGuard private key is 32 bytes")
    key = bytearray(raw)
    key[0] &= 248
    key[31] &= 127
    key[31] |= 64
    return bytes(key)


@dataclass(frozen=True)
class KeyPair:
    """A WireGuard key pair; the private half is hidden from repr."""

    private_key: str = field(repr=False)
    public_key: str

    @classmethod
    def from_private(cls, private_b64: str) -> KeyPair:
        raw = base64.b64decode(private_b64, validate=True)
        public = bytes(PrivateKey(raw).public_key)
        return cls(private_b64, base64.b64encode(public).decode())

    @classmethod
    def generate(cls) -> KeyPair:
        return cls.from_private(base64.b64encode(clamp(random(32))).decode())


class KeyStore:
    """The ``keys/`` folder of the state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / "keys"

    def _path(self, network: str, suffix: str) -> Path:
        return self.folder / f"{network}.{suffix}"

    def check_permissions(self) -> None:
        """Refuse key files others can read (DragoError naming the exact ``chmod``)."""
        if not self.folder.exists():
            return
        for path in sorted(self.folder.iterdir()):
            mode = stat.S_IMODE(path.stat().st_mode)
            if path.is_file() and mode & 0o077:
                raise DragoError(
                    f"private key file {path} has mode {mode:04o} and others can read it; "
                    f"fix it with: chmod 600 {path}",
                    details={"path": str(path), "mode": f"{mode:04o}"},
                )

    def _read(self, path: Path) -> KeyPair | None:
        try:
            text = path.read_text().strip()
        except FileNotFoundError:
            return None
        try:
            return KeyPair.from_private(text)
        except ValueError:
            raise DragoError(f"private key file {path} is not a base64 WireGuard key") from None

    def _write(self, path: Path, pair: KeyPair) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(pair.private_key + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)

    def get(self, network: str) -> KeyPair | None:
        """The current key pair of ``network``, or None."""
        return self._read(self._path(network, "key"))

    def ensure(self, network: str) -> KeyPair:
        """The current key pair, generated and stored on first use."""
        pair = self.get(network)
        if pair is None:
            pair = KeyPair.generate()
            self._write(self._path(network, "key"), pair)
        return pair

    def pending(self, network: str) -> KeyPair | None:
        """A rotated key pair waiting for the server to commit it."""
        return self._read(self._path(network, "next"))

    def rotate(self, network: str) -> KeyPair:
        """Generate the next key pair (the current one stays in use until promoted)."""
        pair = KeyPair.generate()
        self._write(self._path(network, "next"), pair)
        return pair

    def promote(self, network: str) -> None:
        """Make the pending key pair the current one."""
        os.replace(self._path(network, "next"), self._path(network, "key"))

    def forget(self, network: str) -> None:
        """Delete the keys of a network the node left."""
        for suffix in ("key", "next"):
            self._path(network, suffix).unlink(missing_ok=True)

    def networks(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(p.stem for p in self.folder.glob("*.key"))
