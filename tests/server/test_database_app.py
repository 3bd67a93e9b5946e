"""The in-process server on a PostgreSQL runtime database: the API's tokens, status and
signers go to the database, and an outage is a 503, not a driver's traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from drago.server.app import open_context
from drago.server.endpoint import Role
from drago.server.runtime.stores import Runtime, open_runtime
from drago.server.settings import Settings
from tests.server.conftest import Harness
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.anyio


@pytest.fixture
def server_settings(tmp_path: Path, example_repo: Path, postgres_url: str) -> Settings:
    return Settings(data=tmp_path / "data", init_from=example_repo, database=postgres_url)


def shared(harness: Harness) -> Runtime:
    """The same database, opened as another server would."""
    assert harness.ctx.settings.database is not None
    return open_runtime(harness.ctx.datadir, harness.ctx.settings.database)


async def test_api_writes_land_in_the_shared_database(harness: Harness) -> None:
    admin = harness.auth(harness.admin)
    r = await harness.client.post(
        "/api/v1/tokens", json={"role": "node", "node": "fra-1"}, headers=admin
    )
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    r = await harness.client.put(
        "/api/v1/nodes/fra-1/status",
        json={"applied_hash": "b" * 64},
        headers=harness.auth(secret),
    )
    assert r.status_code == 200, r.text
    other = shared(harness)
    try:
        principal = other.tokens.authenticate(secret)
        assert principal is not None and principal.node == "fra-1"
        record = other.status.get("fra-1")
        assert record is not None and record.report.applied_hash == "b" * 64
        # a token made by another server works here at once
        _, theirs = other.tokens.create(Role.reader)
        r = await harness.client.get("/api/v1/whoami", headers=harness.auth(theirs))
        assert r.json()["role"] == "reader"
    finally:
        other.close()
    assert not harness.ctx.datadir.database.exists()


async def test_a_database_outage_answers_503(
    harness: Harness, postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    admin = harness.auth(harness.admin)
    assert (await harness.client.get("/api/v1/whoami", headers=admin)).status_code == 200
    postgres_cluster.drop_database(postgres_url.rsplit("/", 1)[1])
    r = await harness.client.get("/api/v1/whoami", headers=admin)
    assert r.status_code == 503
    error = r.json()["error"]
    assert error["code"] == "database_unavailable"
    assert "runtime database" in error["message"]
    assert (await harness.client.get("/healthz")).status_code == 200
    metrics = await harness.client.get("/metrics")  # after the pool's wait for a connection
    assert metrics.status_code == 200
    assert "drago_" in metrics.text


def test_a_data_directory_moved_to_a_database_gets_a_bootstrap_token(
    tmp_path: Path, example_repo: Path, postgres_url: str
) -> None:
    data = tmp_path / "data"
    first = open_context(Settings(data=data, init_from=example_repo))
    assert first.ctx.database is not None
    first.ctx.database.close()
    moved = open_context(Settings(data=data, database=postgres_url))
    try:
        assert moved.bootstrap_secret is not None  # the database had no admin
        assert (data / "bootstrap-token").read_text().strip() == moved.bootstrap_secret
        assert moved.ctx.tokens.authenticate(moved.bootstrap_secret) is not None
        assert moved.imported is None
    finally:
        assert moved.ctx.database is not None
        moved.ctx.database.close()
    again = open_context(Settings(data=data, database=postgres_url))
    assert again.bootstrap_secret is None  # it has tokens now
    assert again.ctx.database is not None
    again.ctx.database.close()
