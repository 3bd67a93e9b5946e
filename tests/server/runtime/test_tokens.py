from __future__ import annotations

import stat
from pathlib import Path

import pytest

from drago.errors import InvalidRequest, NotFound
from drago.server.endpoint import Role
from drago.server.runtime.db import Database
from drago.server.runtime.stores import Runtime
from drago.server.runtime.tokens import TokenStore, digest, split_secret
from tests.server.runtime.conftest import Backend


@pytest.fixture
def store(runtime: Runtime) -> TokenStore:
    return runtime.tokens


def test_database_file_is_private(tmp_path: Path) -> None:
    db = Database(tmp_path / "runtime.sqlite")
    assert stat.S_IMODE(db.path.stat().st_mode) == 0o600
    db.close()


def test_created_secret_authenticates_as_its_token(store: TokenStore) -> None:
    info, secret = store.create(Role.node, node="fra-1")
    principal = store.authenticate(secret)
    assert principal is not None
    assert (principal.token_id, principal.role, principal.node) == (info.id, Role.node, "fra-1")
    assert principal.name == "node fra-1"
    assert secret.startswith(f"drago_{info.id}_")


def test_only_the_digest_is_stored(store: TokenStore, backend: Backend) -> None:
    _, secret = store.create(Role.admin, name="Ana", email="ana@example.org")
    rows = backend.query("SELECT * FROM tokens")
    flat = " ".join(str(v) for row in rows for v in row)
    assert secret not in flat
    assert secret.split("_", 2)[2] not in flat
    assert digest(secret) in flat


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: s + "x",
        lambda s: s.replace("drago_", "other_"),
        lambda s: "drago_" + "0" * 12 + "_" + s.split("_", 2)[2],
        lambda s: "",
        lambda s: "drago__",
    ],
)
def test_wrong_secrets_are_rejected(store: TokenStore, mangle: object) -> None:
    _, secret = store.create(Role.reader)
    assert callable(mangle)
    assert store.authenticate(mangle(secret)) is None


def test_many_secrets_are_authenticated_in_one_call(store: TokenStore) -> None:
    issued = [store.create(Role.node, node=f"n{i}") for i in range(1200)]  # > one SQL chunk
    revoked_info, revoked = issued.pop()
    store.revoke(revoked_info.id)
    good = [secret for _, secret in issued]
    wrong = [
        good[0][:-1] + ("A" if good[0][-1] != "A" else "B"),  # the right id, another secret
        "drago_" + "0" * 12 + "_x",
        "not a secret",
        "",
    ]
    found = store.authenticate_many([*good, revoked, *wrong])
    assert set(found) == {*good, revoked, *wrong}
    for info, secret in issued:
        principal = found[secret]
        assert principal is not None
        assert (principal.token_id, principal.node) == (info.id, info.node)
    assert all(found[s] is None for s in [revoked, *wrong])
    assert store.authenticate_many([]) == {}


def test_revoked_token_no_longer_authenticates(store: TokenStore) -> None:
    info, secret = store.create(Role.reader)
    assert store.revoke(info.id).id == info.id
    assert store.authenticate(secret) is None
    assert store.list() == []
    with pytest.raises(NotFound):
        store.revoke(info.id)


def test_list_shows_identity_without_secret(store: TokenStore) -> None:
    a, _ = store.create(Role.admin, name="Ana", email="ana@example.org")
    b, _ = store.create(Role.node, node="nyc-1")
    listed = store.list()
    assert {t.id for t in listed} == {a.id, b.id}
    assert store.get(a.id).email == "ana@example.org"


def test_tokens_survive_reopening(backend: Backend) -> None:
    _, secret = backend.open().tokens.create(Role.admin)
    assert backend.open().tokens.authenticate(secret) is not None


@pytest.mark.parametrize(
    ("role", "node"),
    [(Role.node, None), (Role.node, "Bad.Name"), (Role.admin, "fra-1"), (Role.reader, "x")],
)
def test_node_binding_rules(store: TokenStore, role: Role, node: str | None) -> None:
    with pytest.raises(InvalidRequest):
        store.create(role, node=node)


def test_split_secret() -> None:
    assert split_secret("drago_abc_def_ghi") == "abc"
    assert split_secret("drago_abc") is None
    assert split_secret("bearer") is None


@pytest.mark.parametrize(("name", "email"), [("a <b>", None), ("x\ny", None), (None, "a>b@c")])
def test_identity_must_be_usable_as_commit_author(
    store: TokenStore, name: str | None, email: str | None
) -> None:
    with pytest.raises(InvalidRequest):
        store.create(Role.admin, name=name, email=email)


def test_existing_finds_tokens_in_one_lookup_of_any_size(store: TokenStore) -> None:
    made = [store.create(Role.reader)[0].id for _ in range(1200)]
    revoked = set(made[::3])
    for token_id in revoked:
        store.revoke(token_id)
    asked = [*made, "nope", "x' OR '1'='1"]
    assert store.existing(asked) == set(made) - revoked
    assert store.existing([]) == set()


def test_a_row_this_version_cannot_read_fails_only_its_own_token(
    store: TokenStore, backend: Backend
) -> None:
    odd, odd_secret = store.create(Role.reader)
    _, good_secret = store.create(Role.reader)
    database = backend.open().database
    if backend.name == "sqlite":
        assert isinstance(database, Database)
        with database.transaction() as cur:
            cur.execute("UPDATE tokens SET role = 'wizard' WHERE id = ?", (odd.id,))
    else:
        assert hasattr(database, "query")
        database.query(f"UPDATE tokens SET role = 'wizard' WHERE id = '{odd.id}' RETURNING id")
    assert backend.query(f"SELECT role FROM tokens WHERE id = '{odd.id}'") == [("wizard",)]
    found = store.authenticate_many([odd_secret, good_secret])
    assert found[odd_secret] is None
    assert found[good_secret] is not None
