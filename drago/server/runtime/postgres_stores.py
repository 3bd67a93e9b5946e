"""The runtime stores over PostgreSQL: tokens, node status and trusted signers.

They implement the same protocols as the SQLite stores (:class:`TokenStore`,
:class:`StatusStore`) and :class:`drago.signing.SignerSource`, and pass the same
tests (tests/server/runtime). Every call reads the database, so a token
created, a status reported or a signer added through one server is seen by
every server at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection

from drago.errors import InvalidRequest, NotFound
from drago.server.endpoint import Principal, Role
from drago.server.runtime.postgres import PostgresDatabase
from drago.server.runtime.status import StatusRecord, StatusReport
from drago.server.runtime.tokens import TokenInfo, digest, new_token, principals, secret_ids
from drago.signing import AllowedSigner, PublicKey
from drago.signing.signers import check_principal

log = logging.getLogger("drago.server.tokens")

#: Seconds another server's edit of the shared signers may take to be seen here.
SIGNERS_MAX_AGE = 1.0

TOKEN_COLUMNS = "id, role, node, name, email, created_at"


def _token(row: tuple[object, ...]) -> TokenInfo:
    token_id, role, node, name, email, created_at = row
    assert isinstance(token_id, str) and isinstance(role, str)
    assert node is None or isinstance(node, str)
    assert isinstance(name, str) and isinstance(email, str)
    assert isinstance(created_at, float)
    return TokenInfo(token_id, Role(role), node, name, email, created_at)


class PostgresTokenStore:
    """:class:`~drago.server.runtime.tokens.TokenStore` over PostgreSQL."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    def create(
        self,
        role: Role,
        *,
        node: str | None = None,
        name: str | None = None,
        email: str | None = None,
    ) -> tuple[TokenInfo, str]:
        info, secret = new_token(role, node=node, name=name, email=email)
        with self._db.transaction() as cur:
            cur.execute(
                f"INSERT INTO tokens (digest, {TOKEN_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    digest(secret),
                    info.id,
                    info.role.value,
                    info.node,
                    info.name,
                    info.email,
                    info.created_at,
                ),
            )
        return info, secret

    def authenticate(self, secret: str) -> Principal | None:
        return self.authenticate_many([secret])[secret]

    def authenticate_many(self, secrets: Collection[str]) -> dict[str, Principal | None]:
        wanted = secret_ids(secrets)
        rows = (
            self._db.query(
                f"SELECT digest, {TOKEN_COLUMNS} FROM tokens WHERE id = ANY(%s)", (wanted,)
            )
            if wanted
            else []
        )
        stored: dict[str, tuple[str, TokenInfo]] = {}
        for row in rows:
            try:
                info = _token(row[1:])
            except (ValueError, AssertionError):  # a row this version cannot read
                log.warning("token %s cannot be read (role %r)", row[1], row[2])
                continue
            stored[info.id] = (str(row[0]), info)
        return principals(secrets, stored)

    def list(self) -> list[TokenInfo]:
        rows = self._db.query(f"SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id")
        return [_token(row) for row in rows]

    def get(self, token_id: str) -> TokenInfo:
        rows = self._db.query(f"SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = %s", (token_id,))
        if not rows:
            raise NotFound(f"no token {token_id!r}")
        return _token(rows[0])

    def existing(self, token_ids: Collection[str]) -> set[str]:
        wanted = sorted(set(token_ids))
        if not wanted:
            return set()
        rows = self._db.query("SELECT id FROM tokens WHERE id = ANY(%s)", (wanted,))
        return {str(row[0]) for row in rows}

    def revoke(self, token_id: str) -> TokenInfo:
        rows = self._db.query(
            f"DELETE FROM tokens WHERE id = %s RETURNING {TOKEN_COLUMNS}", (token_id,)
        )
        if not rows:
            raise NotFound(f"no token {token_id!r}")
        return _token(rows[0])


class PostgresStatusStore:
    """:class:`~drago.server.runtime.status.StatusStore` over PostgreSQL (JSONB reports)."""

    def __init__(self, db: PostgresDatabase) -> None:
        self._db = db

    def put(self, node: str, report: StatusReport, *, seen_at: float | None = None) -> None:
        seen = time.time() if seen_at is None else seen_at
        with self._db.transaction() as cur:
            cur.execute(
                "INSERT INTO node_status (node, report, last_seen) VALUES (%s, %s::jsonb, %s)"
                " ON CONFLICT (node) DO UPDATE SET report = excluded.report,"
                " last_seen = excluded.last_seen",
                (node, report.model_dump_json(), seen),
            )

    def get(self, node: str) -> StatusRecord | None:
        rows = self._db.query(
            "SELECT report::text, last_seen FROM node_status WHERE node = %s", (node,)
        )
        if not rows:
            return None
        report, seen = rows[0]
        return StatusRecord(node, StatusReport.model_validate_json(str(report)), float(seen))

    def all(self) -> dict[str, StatusRecord]:
        rows = self._db.query(
            'SELECT node, report::text, last_seen FROM node_status ORDER BY node COLLATE "C"'
        )
        return {
            str(node): StatusRecord(
                str(node), StatusReport.model_validate_json(str(report)), float(seen)
            )
            for node, report, seen in rows
        }

    def applied(self) -> dict[str, tuple[str | None, int]]:
        rows = self._db.query(
            "SELECT node, report->>'applied_hash',"
            " COALESCE(jsonb_array_length(report->'errors'), 0) FROM node_status"
        )
        return {
            str(node): (None if applied is None else str(applied), int(errors))
            for node, applied, errors in rows
        }


class PostgresSignerStore:
    """:class:`drago.signing.SignerSource` over PostgreSQL: the trusted signers that
    every server sharing the database sees, the servers' own keys included.

    The list is read at most once per ``max_age`` seconds (a push or a history
    page checks one signature per commit: one query each was 0.5 ms per commit);
    this server's own edits are seen at once, another server's within ``max_age``.
    """

    def __init__(
        self,
        db: PostgresDatabase,
        *,
        max_age: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._max_age = SIGNERS_MAX_AGE if max_age is None else max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, tuple[AllowedSigner, ...]] | None = None
        self._edits = 0  # bumped by every edit: a read that overlapped one is not kept

    def entries(self) -> tuple[AllowedSigner, ...]:
        with self._lock:
            cached = self._cached
            if cached is not None and self._clock() - cached[0] < self._max_age:
                return cached[1]
            edits = self._edits
        read_at = self._clock()
        entries = self._read()
        with self._lock:
            if edits == self._edits:
                self._cached = (read_at, entries)
        return entries

    def _forget(self) -> None:
        with self._lock:
            self._cached = None
            self._edits += 1

    def _read(self) -> tuple[AllowedSigner, ...]:
        rows = self._db.query(
            "SELECT principal, public_key, server FROM trusted_signers"
            " ORDER BY added_at, principal, public_key"
        )
        entries = []
        for principal, line, server in rows:
            key, _ = PublicKey.from_line(str(line))
            entries.append(AllowedSigner((str(principal),), key, ("git",), server=bool(server)))
        return tuple(entries)

    def add(self, principal: str, key: PublicKey) -> AllowedSigner:
        return self._add(principal, key, server=False)

    def add_server_key(self, principal: str, key: PublicKey) -> AllowedSigner:
        """Trust a server's own key (each server adds its own at start), marked as a server's."""
        return self._add(principal, key, server=True)

    def _add(self, principal: str, key: PublicKey, *, server: bool) -> AllowedSigner:
        if key.key_type != "ssh-ed25519":
            raise InvalidRequest(f"{key.key_type} keys are not supported; use an ssh-ed25519 key")
        self._db.query(
            "INSERT INTO trusted_signers (principal, public_key, server, added_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (principal, public_key) DO NOTHING"
            " RETURNING principal",
            (check_principal(principal), key.line(), server, time.time()),
        )
        self._forget()
        return AllowedSigner((principal,), key, ("git",), server=server)

    def remove(self, principal: str) -> int:
        rows = self._db.query(
            "DELETE FROM trusted_signers WHERE principal = %s RETURNING principal", (principal,)
        )
        self._forget()
        if not rows:
            raise NotFound(f"no trusted signer with principal {principal!r} in the database")
        return len(rows)
