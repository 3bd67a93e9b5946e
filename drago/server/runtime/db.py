"""The SQLite database of runtime state: one file, 0600, WAL, versioned schema.

The server and offline commands (``drago token create``) may use the database
at the same time; WAL mode and a busy timeout make that safe.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Schema migrations; index i brings the database from version i to i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        role TEXT NOT NULL,
        node TEXT,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE node_status (
        node TEXT PRIMARY KEY,
        report TEXT NOT NULL,
        last_seen REAL NOT NULL
    );
    """,
)


class Database:
    """A connection shared by threads, serialised by a lock (SQLite is fast enough)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        self._conn = sqlite3.connect(
            path, timeout=10.0, check_same_thread=False, isolation_level=None
        )
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._migrate()
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.chmod(0o600)

    def _migrate(self) -> None:
        with self.transaction() as cur:
            (version,) = cur.execute("PRAGMA user_version").fetchone()
            for index in range(version, len(MIGRATIONS)):
                for statement in MIGRATIONS[index].split(";"):
                    if statement.strip():
                        cur.execute(statement)
            cur.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        """A write transaction (``BEGIN IMMEDIATE`` .. ``COMMIT``), rolled back on error."""
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
