"""A replica follows its primary: the first sync, then every new revision within a second."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from drago.server.replica.follow import Follower
from tests.server.git.conftest import GitServer
from tests.server.replica.conftest import NEW_NODE, ReplicaServer, get, running_replica, wait_until

pytestmark = pytest.mark.e2e


def test_replica_serves_the_primarys_revision_with_equal_hashes(
    primary: GitServer, replica: ReplicaServer
) -> None:
    wait_until(lambda: replica.ctx.live.rendered_revision == primary.ctx.live.revision)
    assert replica.ctx.live.snapshot.hashes == primary.ctx.live.snapshot.hashes
    answer = get(replica.base, "/api/v1/nodes/fra-1/config", primary.node)
    assert answer.status_code == 200
    assert answer.headers["etag"] == f'"{primary.ctx.live.hash_of("fra-1")}"'
    health = httpx.get(replica.base + "/healthz").json()
    assert health == {
        "status": "ok",
        "revision": primary.ctx.live.revision,
        "role": "replica",
        "reasons": [],
    }


def test_a_commit_on_the_primary_is_live_on_the_replica_within_a_second(
    primary: GitServer, replica: ReplicaServer
) -> None:
    wait_until(lambda: replica.ctx.live.rendered_revision == primary.ctx.live.revision)
    started = time.monotonic()
    created = httpx.post(
        primary.base + "/api/v1/nodes",
        json=NEW_NODE,
        headers={"Authorization": f"Bearer {primary.admin}"},
    )
    assert created.status_code == 201, created.text
    revision = primary.ctx.live.revision
    wait_until(lambda: replica.ctx.live.rendered_revision == revision, timeout=1.0)
    took = time.monotonic() - started
    assert took < 1.0
    assert replica.ctx.live.hash_of("ams-1") == primary.ctx.live.hash_of("ams-1") is not None
    metrics = httpx.get(replica.base + "/metrics").text
    assert 'drago_server_role{role="replica"} 1.0' in metrics
    assert "drago_replication_lag_revisions 0.0" in metrics
    assert "drago_replication_lag_seconds 0.0" in metrics
    assert "drago_replication_primary_up 1.0" in metrics


def test_a_revision_signed_by_an_untrusted_key_is_not_mirrored(
    primary: GitServer, tmp_path: Path
) -> None:
    with running_replica(primary, tmp_path / "replica", trusted=False) as replica:
        follower = replica_follower(replica)
        wait_until(lambda: follower.refusal is not None)
        assert replica.ctx.store.head("main") is None
        assert replica.ctx.live.revision is None
        objects = replica.ctx.store.path / "objects"
        wait_until(lambda: not list(objects.glob("incoming-*")))  # a retry may be running
        assert not list((objects / "pack").glob("*.pack"))
        health = httpx.get(replica.base + "/healthz").json()
        assert health["status"] == "degraded"
        assert "was refused by the push check" in health["reasons"][0]
        assert follower.refusal is not None
        assert "is not a trusted signer" in follower.refusal.reason
        metrics = httpx.get(replica.base + "/metrics").text
        assert "drago_replication_lag_revisions 1.0" in metrics
        assert "drago_replication_lag_seconds 0.0" not in metrics
        assert 'drago_replication_fetches_total{outcome="refused"}' in metrics


def replica_follower(replica: ReplicaServer) -> Follower:
    assert replica.ctx.replica is not None
    return replica.ctx.replica.follower
