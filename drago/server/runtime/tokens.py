"""API tokens: created with a secret shown once, stored as a SHA-256 digest.

A secret reads ``drago_<id>_<random>``: the id finds the row, then the digest of
the whole secret is compared in constant time. The random part carries 256 bits,
so a plain SHA-256 is enough (a slow password hash protects guessable secrets,
not random ones).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

from drago.errors import InvalidRequest, NotFound
from drago.model.names import file_path, name_problem
from drago.server.endpoint import Principal, Role
from drago.server.runtime.db import Database
from drago.store.records import Identity

log = logging.getLogger("drago.server.tokens")

PREFIX = "drago"
#: Token ids per query of :meth:`SqliteTokenStore.existing` (SQLite limits parameters).
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class TokenInfo:
    """What the server keeps about a token (never the secret)."""

    id: str
    role: Role
    node: str | None
    name: str
    email: str
    created_at: float

    def principal(self) -> Principal:
        return Principal(self.id, self.name, self.email, self.role, self.node)


class TokenStore(Protocol):
    def authenticate(self, secret: str) -> Principal | None: ...

    def authenticate_many(self, secrets: Collection[str]) -> dict[str, Principal | None]:
        """:meth:`authenticate` for each of ``secrets``, in one look-up."""
        ...

    def create(
        self,
        role: Role,
        *,
        node: str | None = None,
        name: str | None = None,
        email: str | None = None,
    ) -> tuple[TokenInfo, str]:
        """A new token and its secret (the only time the secret exists)."""
        ...

    def list(self) -> list[TokenInfo]: ...

    def get(self, token_id: str) -> TokenInfo: ...

    def revoke(self, token_id: str) -> TokenInfo: ...

    def existing(self, token_ids: Collection[str]) -> set[str]:
        """Which of ``token_ids`` are tokens (not revoked), in one look-up."""
        ...


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def principals(
    secrets: Collection[str], stored: Mapping[str, tuple[str, TokenInfo]]
) -> dict[str, Principal | None]:
    """Whose token each secret is, given the stored ``(digest, info)`` of the token
    ids the secrets name (digests compared in constant time); None when none."""
    found: dict[str, Principal | None] = {}
    for secret in secrets:
        token_id = split_secret(secret)
        row = stored.get(token_id) if token_id is not None else None
        ok = row is not None and hmac.compare_digest(row[0].encode(), digest(secret).encode())
        found[secret] = row[1].principal() if ok and row is not None else None
    return found


def secret_ids(secrets: Collection[str]) -> list[str]:
    """The token ids ``secrets`` name (sorted, once each; malformed secrets name none)."""
    return sorted({i for i in map(split_secret, secrets) if i is not None})


def split_secret(secret: str) -> str | None:
    """The token id inside a secret, or None when it is not shaped like one."""
    prefix, sep, rest = secret.partition("_")
    token_id, sep2, random_part = rest.partition("_")
    if prefix != PREFIX or not sep or not sep2 or not token_id or not random_part:
        return None
    return token_id


def check_token_fields(role: Role, node: str | None) -> None:
    if role is Role.node:
        if not node:
            raise InvalidRequest("a node token needs a node (--node NAME)")
        problem = name_problem(node)
        if problem:
            raise InvalidRequest(f"node: {problem}")
    elif node is not None:
        raise InvalidRequest(f"only node tokens are bound to a node, not {role} tokens")


def unknown_node(node: str) -> NotFound:
    """Why a node token for ``node`` is refused: the node is not in the repository.

    A token for a name nobody uses yet would be a dormant credential: a typo
    never works and is never noticed, and whoever later adds a node of that name
    finds a token already bound to it. Add ``nodes/<node>.toml`` first.
    """
    path = file_path("nodes", node)
    return NotFound(
        f"there is no node {node!r} at the live revision: add {path} before creating its token",
        details={"node": node, "path": path},
    )


def revoke_tokens_of_missing_nodes(tokens: TokenStore, nodes: Collection[str]) -> list[TokenInfo]:
    """Revoke the node tokens bound to a node not in ``nodes``; the revoked ones."""
    revoked = []
    for info in tokens.list():
        if info.node is not None and info.node not in nodes:
            try:
                revoked.append(tokens.revoke(info.id))
            except NotFound:  # revoked meanwhile
                continue
    return revoked


def default_identity(role: Role, node: str | None, token_id: str) -> tuple[str, str]:
    """Name and email for a token created without them."""
    if role is Role.node and node:
        return f"node {node}", f"{node}@nodes.drago.invalid"
    return f"{role} token {token_id}", f"{role}-{token_id}@drago.invalid"


def new_token(
    role: Role, *, node: str | None, name: str | None, email: str | None
) -> tuple[TokenInfo, str]:
    """A new token's record and secret, checked (what every :class:`TokenStore` stores)."""
    role = Role(role)
    check_token_fields(role, node)
    token_id = secrets.token_hex(6)
    secret = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    default_name, default_email = default_identity(role, node, token_id)
    Identity(name or default_name, email or default_email)  # authors commits: check it now
    info = TokenInfo(
        token_id, role, node, name or default_name, email or default_email, time.time()
    )
    return info, secret


class SqliteTokenStore:
    """:class:`TokenStore` over the runtime database."""

    def __init__(self, db: Database) -> None:
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
                "INSERT INTO tokens (id, digest, role, node, name, email, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    info.id,
                    digest(secret),
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
        stored: dict[str, tuple[str, TokenInfo]] = {}
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.query(
                "SELECT digest, id, role, node, name, email, created_at FROM tokens"
                f" WHERE id IN ({marks})",
                chunk,
            )
            for row in rows:
                try:
                    stored[row[1]] = (str(row[0]), TokenInfo(row[1], Role(row[2]), *row[3:]))
                except ValueError:  # a row this version cannot read: its token does not work
                    log.warning("token %s has an unknown role %r", row[1], row[2])
        return principals(secrets, stored)

    def list(self) -> list[TokenInfo]:
        rows = self._db.query(
            "SELECT id, role, node, name, email, created_at FROM tokens ORDER BY created_at, id"
        )
        return [TokenInfo(r[0], Role(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    def get(self, token_id: str) -> TokenInfo:
        rows = self._db.query(
            "SELECT id, role, node, name, email, created_at FROM tokens WHERE id = ?",
            (token_id,),
        )
        if not rows:
            raise NotFound(f"no token {token_id!r}")
        r = rows[0]
        return TokenInfo(r[0], Role(r[1]), r[2], r[3], r[4], r[5])

    def existing(self, token_ids: Collection[str]) -> set[str]:
        wanted = sorted(set(token_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.query(f"SELECT id FROM tokens WHERE id IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found

    def revoke(self, token_id: str) -> TokenInfo:
        info = self.get(token_id)
        with self._db.transaction() as cur:
            cur.execute("DELETE FROM tokens WHERE id = ?", (token_id,))
        return info
