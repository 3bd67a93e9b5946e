"""The PostgreSQL database of runtime state (``--database postgresql://...``).

Several servers share it: tokens, node status and the trusted signers are the
same for every server that points at the same database. Connections come from
a psycopg pool; each store call is one short transaction. The schema is
versioned in ``drago_schema`` and migrated on open under an advisory lock, so
servers started at the same moment migrate once. A database newer than this
drago (a later version migrated it) is refused rather than misread.

An unreachable database, or one that drops a connection, raises
:class:`~drago.errors.DatabaseUnavailable` (HTTP 503), never a driver error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from drago.errors import DatabaseUnavailable, InvalidRequest
from drago.server.runtime.url import check_url, redacted

#: ``pg_advisory_xact_lock`` key taken while migrating (b"drago" as a number).
MIGRATION_LOCK = 0x647261676F

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
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE node_status (
        node TEXT PRIMARY KEY,
        report JSONB NOT NULL,
        last_seen DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE trusted_signers (
        principal TEXT NOT NULL,
        public_key TEXT NOT NULL,
        server BOOLEAN NOT NULL DEFAULT FALSE,
        added_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (principal, public_key)
    );
    """,
)


def _unavailable(url: str, exc: Exception) -> DatabaseUnavailable:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DatabaseUnavailable(
        f"the runtime database {redacted(url)} is unavailable: {reason}",
        details={"database": redacted(url)},
    )


class PostgresDatabase:
    """A pool of connections to one PostgreSQL database, migrated on open."""

    def __init__(self, url: str, *, max_connections: int = 8, connect_timeout: float = 5.0) -> None:
        self.url = check_url(url)
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            timeout=connect_timeout,
            open=False,
            name="drago-runtime",
            kwargs={"connect_timeout": max(1, int(connect_timeout))},
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except psycopg.Error as exc:
            self._pool.close()
            raise _unavailable(url, exc) from None
        try:
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def _migrate(self) -> None:
        with self.transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cur.execute("CREATE TABLE IF NOT EXISTS drago_schema (version INTEGER NOT NULL)")
            row = cur.execute("SELECT version FROM drago_schema").fetchone()
            version = 0 if row is None else int(row[0])
            if version > len(MIGRATIONS):
                raise InvalidRequest(
                    f"the runtime database {redacted(self.url)} has schema version {version}; "
                    f"this drago knows up to {len(MIGRATIONS)}: upgrade drago"
                )
            for index in range(version, len(MIGRATIONS)):
                cur.execute(MIGRATIONS[index].encode())
            if row is None:
                cur.execute("INSERT INTO drago_schema (version) VALUES (%s)", (len(MIGRATIONS),))
            else:
                cur.execute("UPDATE drago_schema SET version = %s", (len(MIGRATIONS),))

    @property
    def version(self) -> int:
        """The schema version of the database."""
        rows = self.query("SELECT version FROM drago_schema")
        return int(rows[0][0])

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[tuple[Any, ...]]]:
        """One transaction on a pooled connection: committed on exit, rolled back on error."""
        try:
            with self._pool.connection() as conn, conn.cursor() as cur:
                yield cur
        except psycopg.OperationalError as exc:  # includes the pool's timeout
            raise _unavailable(self.url, exc) from None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as cur:
            cur.execute(sql.encode(), params)
            return cur.fetchall()

    def close(self) -> None:
        self._pool.close()
