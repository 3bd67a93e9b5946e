"""The server's data directory: where everything the server owns lives.

```
DIR/                    0700
  repo.git/             bare Git repository: the desired state
  runtime.sqlite        tokens and node status (0600; absent with --database)
  server-key            the server's ed25519 signing key (0600)
  allowed_signers       trusted signers in git's format (unused with --database)
  bootstrap-token       the first admin token's secret (0600)
  server.lock           locked by the one server that owns DIR (0600; holds its pid)
```

One server owns a data directory: ``drago server`` takes :meth:`DataDir.own`
at start and keeps it until it exits (the kernel releases it however the
process ends, SIGKILL included). Owning DIR is what makes it safe to remove
what a killed owner left behind (stale Git lock files, half-written packs,
push quarantines) before serving. The offline commands (``drago token``,
``drago signers``) do not take it: they write only through paths that are
safe beside a running server (SQLite transactions; an atomic replace of
``allowed_signers``, serialised by :meth:`DataDir.editing`).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from drago.errors import Conflict, InvalidRequest

#: The file a server locks to own its data directory (left in place on exit).
OWNER_LOCK = "server.lock"


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
    def owner_lock(self) -> Path:
        return self.root / OWNER_LOCK

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
        strays = sorted(p.name for p in self.root.iterdir() if p.name != OWNER_LOCK)
        if strays:
            raise InvalidRequest(
                f"{self.root} is not empty and not a drago data directory "
                f"(found {', '.join(strays[:5])})"
            )

    def own(self) -> Owner:
        """Lock DIR for this process; Conflict naming DIR (and the holder's pid) if taken.

        The directory must exist (:meth:`ensure_root`). The lock lives as long
        as the returned :class:`Owner` (for a server: the process).
        """
        fd = os.open(self.owner_lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            by = f"another drago server (pid {holder})" if holder else "another drago server"
            raise Conflict(
                f"data directory {self.root} is in use by {by}; "
                "stop it first or give another --data directory",
                details={"data": str(self.root), "pid": holder},
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return Owner(self, fd)

    @contextmanager
    def editing(self, path: Path) -> Iterator[None]:
        """Serialise read-modify-write edits of ``path`` (a file in DIR) between processes.

        Blocks while another process edits the same file; the lock file
        (``.NAME.lock``) stays in place.
        """
        lock = path.with_name(f".{path.name}.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


class Owner:
    """Proof that this process owns a data directory; :meth:`release` gives it up."""

    def __init__(self, datadir: DataDir, fd: int) -> None:
        self.datadir = datadir
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def write_private(path: Path, data: str) -> None:
    """Write ``data`` to a new or existing file readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data.encode())
    finally:
        os.close(fd)
