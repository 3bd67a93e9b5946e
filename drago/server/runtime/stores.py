"""A server's runtime stores: SQLite in the data directory, or a shared PostgreSQL.

Without a database URL (the default) tokens and node status live in
``DIR/runtime.sqlite`` and the trusted signers in ``DIR/allowed_signers``, as
always. With ``--database postgresql://...`` all three live in PostgreSQL,
where every server that shares the database sees them; each server then adds
its own signing key to the shared signers at start, so any of them can later
take the writes (a replica promoted to primary) and be trusted by the others.

The PostgreSQL modules are imported only when a URL is given: a server without
``--database`` needs neither the driver's C library nor a database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from drago.server.datadir import DataDir
from drago.server.runtime.db import Database
from drago.server.runtime.status import SqliteStatusStore, StatusStore
from drago.server.runtime.tokens import SqliteTokenStore, TokenStore
from drago.signing import AllowedSignersFile, PublicKey, SignerSource

log = logging.getLogger("drago.server")


class RuntimeDatabase(Protocol):
    def close(self) -> None: ...


class OwnKey(Protocol):
    """What the shared signers need of the server key."""

    principal: str

    def public_line(self) -> str: ...


@dataclass(frozen=True)
class Runtime:
    """The runtime stores of one server (or one offline command) and their database."""

    tokens: TokenStore
    status: StatusStore
    #: the trusted signers besides the server's own key
    signers: SignerSource
    database: RuntimeDatabase
    #: True when the stores live in a database other servers may share
    shared: bool

    def close(self) -> None:
        self.database.close()


def open_runtime(datadir: DataDir, url: str | None, *, server_key: OwnKey | None = None) -> Runtime:
    """The stores of ``url`` (PostgreSQL) or of the data directory (None).

    With a URL and a ``server_key``, that key joins the shared trusted signers
    (once: later starts find it there).
    """
    if url is None:
        db = Database(datadir.database)
        return Runtime(
            SqliteTokenStore(db),
            SqliteStatusStore(db),
            AllowedSignersFile(datadir.allowed_signers),
            db,
            shared=False,
        )
    from drago.server.runtime.postgres import PostgresDatabase
    from drago.server.runtime.postgres_stores import (
        PostgresSignerStore,
        PostgresStatusStore,
        PostgresTokenStore,
    )

    left = AllowedSignersFile(datadir.allowed_signers).entries()
    if left:
        log.warning(
            "%s (%d signers) is not used with --database: the database's list is; "
            "add them with `drago signers add --database ...`",
            datadir.allowed_signers,
            len(left),
        )
    pg = PostgresDatabase(url)
    try:
        signers = PostgresSignerStore(pg)
        if server_key is not None:
            key, _ = PublicKey.from_line(server_key.public_line())
            signers.add_server_key(server_key.principal, key)
    except BaseException:
        pg.close()
        raise
    return Runtime(PostgresTokenStore(pg), PostgresStatusStore(pg), signers, pg, shared=True)


def initialised(datadir: DataDir, url: str | None) -> bool:
    """Whether a server has started on ``datadir`` (with this kind of runtime store)."""
    if url is None:
        return datadir.initialised
    return datadir.repo.is_dir()
