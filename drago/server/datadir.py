"""The server's data directory: where everything the server owns lives.

```
DIR/                    0700
  repo.git/             bare Git repository: the desired state
  runtime.sqlite        tokens and node status (0600)
  server-key            the server's ed25519 signing key (0600)
  allowed_signers       trusted signers in git's format
  bootstrap-token       the first admin token's secret (0600)
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from drago.errors import InvalidRequest


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def repo(self) -> Path:
        return self.root / "repo.git"

    @property
    def database(self) -> Path:
        return self.root / "runtime.sqlite"

    @property
    def server_key(self) -> Path:
        return self.root / "server-key"

    @property
    def allowed_signers(self) -> Path:
        return self.root / "allowed_signers"

    @property
    def bootstrap_token(self) -> Path:
        return self.root / "bootstrap-token"

    @property
    def initialised(self) -> bool:
        return self.repo.is_dir() and self.database.is_file()

    def ensure_root(self) -> None:
        """Create the directory 0700 (or tighten an existing empty one)."""
        if self.root.exists() and not self.root.is_dir():
            raise InvalidRequest(f"{self.root} exists and is not a directory")
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)

    def check_existing(self) -> None:
        """Refuse a non-empty directory that is not a drago data directory."""
        if not self.root.exists():
            return
        if not self.root.is_dir():
            raise InvalidRequest(f"{self.root} exists and is not a directory")
        if self.repo.exists():
            return
        strays = sorted(p.name for p in self.root.iterdir())
        if strays:
            raise InvalidRequest(
                f"{self.root} is not empty and not a drago data directory "
                f"(found {', '.join(strays[:5])})"
            )


def write_private(path: Path, data: str) -> None:
    """Write ``data`` to a new or existing file readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data.encode())
    finally:
        os.close(fd)
