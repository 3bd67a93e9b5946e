"""The PostgreSQL runtime database: versioned schema, concurrent starts, outages."""

from __future__ import annotations

import threading

import pytest

from drago.errors import DatabaseUnavailable, InvalidRequest
from drago.server.endpoint import Role
from drago.server.runtime.postgres import MIGRATIONS, PostgresDatabase
from drago.server.runtime.postgres_stores import PostgresTokenStore
from drago.server.runtime.url import check_url, redacted
from tests.support.postgres import PostgresCluster


def test_schema_is_versioned_and_migrated_once(postgres_url: str) -> None:
    first = PostgresDatabase(postgres_url)
    _, secret = PostgresTokenStore(first).create(Role.admin)
    first.close()
    again = PostgresDatabase(postgres_url)  # migrating again is a no-op that keeps data
    try:
        assert again.version == len(MIGRATIONS)
        assert again.query("SELECT count(*) FROM drago_schema") == [(1,)]
        assert PostgresTokenStore(again).authenticate(secret) is not None
    finally:
        again.close()


def test_servers_starting_at_once_migrate_once(postgres_url: str) -> None:
    opened: list[PostgresDatabase] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(PostgresDatabase(postgres_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert [db.version for db in opened] == [len(MIGRATIONS)] * 4
    finally:
        for db in opened:
            db.close()


def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    db = PostgresDatabase(postgres_url)
    db.query("UPDATE drago_schema SET version = version + 1 RETURNING version")
    db.close()
    with pytest.raises(InvalidRequest, match="upgrade drago"):
        PostgresDatabase(postgres_url)


def test_an_unreachable_database_is_unavailable_not_a_driver_error(
    postgres_cluster: PostgresCluster,
) -> None:
    url = postgres_cluster.url("no_such_database")
    with pytest.raises(DatabaseUnavailable, match="no_such_database"):
        PostgresDatabase(url, connect_timeout=2)


def test_a_database_gone_while_serving_is_unavailable(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    db = PostgresDatabase(postgres_url, connect_timeout=1)
    store = PostgresTokenStore(db)
    try:
        store.list()
        postgres_cluster.drop_database(postgres_url.rsplit("/", 1)[1])
        with pytest.raises(DatabaseUnavailable):
            store.list()
    finally:
        db.close()


@pytest.mark.parametrize(
    "url",
    ["sqlite:///x", "postgresql:", "http://h/db", "/var/lib/db", "postgresql://"],
)
def test_only_postgresql_urls_are_accepted(url: str) -> None:
    with pytest.raises(InvalidRequest, match=r"postgresql://USER@HOST/DB"):
        check_url(url)


def test_passwords_never_reach_messages() -> None:
    assert check_url("postgres://u@h/db?host=/run/pg") == "postgres://u@h/db?host=/run/pg"
    shown = redacted("postgresql://u:s3cret@h:5432/db?password=s3cret&sslmode=require")
    assert "s3cret" not in shown
    assert shown.startswith("postgresql://u:***@h:5432/db?")
    with pytest.raises(InvalidRequest) as raised:
        check_url("mysql://u:s3cret@h/db")
    assert "s3cret" not in raised.value.message
