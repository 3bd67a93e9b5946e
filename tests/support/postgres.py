"""A throwaway PostgreSQL cluster for tests and benchmarks (Debian's ``postgresql``).

Benchmarks: ``with start_cluster() as cluster: url = cluster.create_database()``.

:func:`start_cluster` runs ``initdb`` and ``pg_ctl`` from
``/usr/lib/postgresql/*/bin`` in a fresh temporary directory, as the
unprivileged ``postgres`` user when we are root (PostgreSQL refuses to run as
root), on a free port of 127.0.0.1 with its unix socket in that directory and
trust authentication; leaving the ``with`` block stops it and removes the
directory. Never a system service.

Fixtures: ``postgres_cluster`` (one per test session) and ``postgres_url``
(a fresh, empty database per test, dropped afterwards). Without the binaries
they skip with the reason, except under CI (``CI`` set), where they fail: CI
installs them with ``scripts/install-system-deps``.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Where Debian installs the server binaries, one directory per major version.
BIN_GLOB = "/usr/lib/postgresql/*/bin"
#: The unprivileged user the cluster runs as when the tests run as root.
SERVICE_USER = "postgres"
#: The superuser of the throwaway cluster (initdb -U).
SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/N/bin`` holding initdb and pg_ctl."""
    candidates = [
        path
        for path in Path("/").glob(BIN_GLOB.lstrip("/"))
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file()
    ]

    def major(path: Path) -> int:
        version = path.parent.name
        return int(version) if version.isdigit() else 0

    return max(candidates, key=major, default=None)


def postgres_unavailable() -> str | None:
    """Why no cluster can be started here, or None."""
    if find_bin_dir() is None:
        return (
            f"PostgreSQL is not installed (no initdb/pg_ctl under {BIN_GLOB}; "
            "scripts/install-system-deps installs Debian's postgresql)"
        )
    try:
        import psycopg  # noqa: F401  (the pure-Python build loads the system's libpq)
    except ImportError as exc:
        return f"psycopg cannot be used here: {exc}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            return f"running as root and there is no {SERVICE_USER!r} user to run PostgreSQL as"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresCluster:
    """A running throwaway cluster: connect as :data:`SUPERUSER` over 127.0.0.1:``port``."""

    root: Path
    port: int
    bin_dir: Path

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def url(self, database: str = "postgres") -> str:
        """``postgresql://postgres@127.0.0.1:PORT/DATABASE``."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database (random name unless given); its URL."""
        import psycopg
        from psycopg import sql

        name = name or f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting whoever still uses it."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _as_service_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", SERVICE_USER, "--", *argv]


def _run(argv: list[str], log: Path) -> None:
    done = subprocess.run(
        _as_service_user(argv), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(
            f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr.strip()}\n{tail}"
        )


@contextmanager
def start_cluster(*, max_connections: int = 200) -> Iterator[PostgresCluster]:
    """Start a throwaway cluster; stop it and remove its directory on exit.

    Durability is traded for speed (``fsync=off``): the data is thrown away.
    """
    reason = postgres_unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    bin_dir = find_bin_dir()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="drago-pg-"))
    try:
        data = root / "data"
        log = root / "postgres.log"
        (root / "socket").mkdir()
        if os.geteuid() == 0:
            user = pwd.getpwnam(SERVICE_USER)
            for path in (root, root / "socket"):
                os.chown(path, user.pw_uid, user.pw_gid)
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            log,
        )
        cluster = None
        for _ in range(5):  # another process may take the free port first
            port = _free_port()
            options = " ".join(
                [
                    f"-p {port}",
                    f"-k {root / 'socket'}",
                    "-c listen_addresses=127.0.0.1",
                    f"-c max_connections={max_connections}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                ]
            )
            try:
                start = [str(bin_dir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data)]
                _run([*start, "-l", str(log), "-o", options], log)
            except RuntimeError:
                if "could not bind" in (log.read_text(errors="replace") if log.exists() else ""):
                    continue
                raise
            cluster = PostgresCluster(root, port, bin_dir)
            break
        if cluster is None:
            raise RuntimeError("PostgreSQL found no free port")
        try:
            yield cluster
        finally:
            _run([str(bin_dir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(data)], log)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _unavailable_or_fail() -> None:
    reason = postgres_unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One throwaway cluster for the whole test session."""
    _unavailable_or_fail()
    with start_cluster() as cluster:
        yield cluster


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """The URL of a fresh, empty database of the session's cluster, dropped afterwards."""
    name = f"t_{secrets.token_hex(6)}"
    url = postgres_cluster.create_database(name)
    yield url
    postgres_cluster.drop_database(name)
