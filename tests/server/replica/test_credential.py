"""The replica's own reader token: made once in the shared database, kept 0600, reused."""

from __future__ import annotations

import stat
from pathlib import Path

from drago.server.endpoint import Role
from drago.server.replica.credential import TOKEN_FILE, replica_token
from drago.server.runtime.db import Database
from drago.server.runtime.tokens import SqliteTokenStore


def store(tmp_path: Path) -> SqliteTokenStore:
    return SqliteTokenStore(Database(tmp_path / "runtime.sqlite"))


def test_a_reader_token_is_made_kept_private_and_reused(tmp_path: Path) -> None:
    tokens = store(tmp_path)
    secret = replica_token(tokens, tmp_path, None)
    principal = tokens.authenticate(secret)
    assert principal is not None and principal.role is Role.reader
    kept = tmp_path / TOKEN_FILE
    assert kept.read_text().strip() == secret
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert replica_token(tokens, tmp_path, None) == secret
    assert len(tokens.list()) == 1


def test_a_revoked_token_is_replaced(tmp_path: Path) -> None:
    tokens = store(tmp_path)
    first = replica_token(tokens, tmp_path, None)
    principal = tokens.authenticate(first)
    assert principal is not None
    tokens.revoke(principal.token_id)
    second = replica_token(tokens, tmp_path, None)
    assert second != first
    assert tokens.authenticate(second) is not None
    assert (tmp_path / TOKEN_FILE).read_text().strip() == second


def test_a_kept_token_of_another_role_is_revoked_and_replaced(tmp_path: Path) -> None:
    tokens = store(tmp_path)
    _, admin = tokens.create(Role.admin)
    (tmp_path / TOKEN_FILE).write_text(admin + "\n")
    secret = replica_token(tokens, tmp_path, None)
    assert tokens.authenticate(admin) is None
    principal = tokens.authenticate(secret)
    assert principal is not None and principal.role is Role.reader


def test_a_given_token_is_used_and_nothing_is_made(tmp_path: Path) -> None:
    tokens = store(tmp_path)
    assert replica_token(tokens, tmp_path, "drago_given") == "drago_given"
    assert tokens.list() == []
    assert not (tmp_path / TOKEN_FILE).exists()
