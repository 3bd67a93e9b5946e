"""Writes through a replica go to the primary; the writer reads its write on the replica at once."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import httpx
import pytest

from drago.server.metrics import Metrics
from drago.server.replica.forward import Forwarder, forwarded
from tests.server.git.conftest import GitServer, running_git_server
from tests.server.git.gitenv import GitUser
from tests.server.replica.conftest import NEW_NODE, ReplicaServer, get, running_replica, wait_until

pytestmark = pytest.mark.e2e


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("POST", "/api/v1/nodes", "", True),
        ("PUT", "/api/v1/nodes/fra-1/keys/backbone", "", True),
        ("POST", "/api/v1/branches/review/x/merge", "", True),
        ("DELETE", "/api/v1/tokens/abc", "", True),
        ("POST", "/repo.git/git-receive-pack", "", True),
        ("GET", "/repo.git/info/refs", "service=git-receive-pack", True),
        ("GET", "/repo.git/info/refs", "service=git-upload-pack", False),
        ("POST", "/repo.git/git-upload-pack", "", False),
        ("PUT", "/api/v1/nodes/fra-1/status", "", False),
        ("POST", "/api/v1/validate", "", False),
        ("GET", "/api/v1/nodes/fra-1/config", "wait=30", False),
    ],
)
def test_which_requests_go_to_the_primary(
    method: str, path: str, query: str, expected: bool
) -> None:
    assert forwarded(method, path, query) is expected


@pytest.mark.parametrize(
    ("raw_path", "query", "expected"),
    [
        (b"/api/v1/nodes", b"", "http://primary:8080/base/api/v1/nodes"),
        (b"/api/v1/nodes/a%2Fb", b"x=1", "http://primary:8080/base/api/v1/nodes/a%2Fb?x=1"),
        # A path that looks like an authority stays a path on the primary: it must
        # not become /api/v1/nodes there while this replica routed "//evil...".
        (
            b"//evil.example:99/api/v1/nodes",
            b"",
            "http://primary:8080/base//evil.example:99/api/v1/nodes",
        ),
    ],
)
def test_a_forwarded_request_keeps_its_raw_path_on_the_primary(
    raw_path: bytes, query: bytes, expected: str
) -> None:
    forwarder = Forwarder(
        httpx.AsyncClient(), Metrics(), url="http://primary:8080/base/", sync=never_synced
    )
    scope = {"raw_path": raw_path, "path": raw_path.decode(), "query_string": query}
    target = forwarder.target(scope)
    assert str(target) == expected
    assert target.host == "primary"


async def never_synced() -> bool:
    raise AssertionError("not called")


def test_an_api_write_through_a_replica_lands_on_the_primary_and_reads_back_at_once(
    primary: GitServer, replica: ReplicaServer
) -> None:
    wait_until(lambda: replica.ctx.live.revision == primary.ctx.live.revision)
    created = httpx.post(
        replica.base + "/api/v1/nodes", json=NEW_NODE, headers=bearer(primary.admin)
    )
    assert created.status_code == 201, created.text
    assert primary.ctx.store.head() == primary.ctx.live.revision
    assert replica.ctx.live.revision == primary.ctx.live.revision  # read-your-writes
    assert replica.ctx.live.rendered_revision == primary.ctx.live.revision
    read = get(replica.base, "/api/v1/nodes/ams-1", primary.reader)
    assert read.status_code == 200
    assert read.json()["config_hash"] == primary.ctx.live.hash_of("ams-1")
    # The primary's refusals come back as they are.
    again = httpx.post(replica.base + "/api/v1/nodes", json=NEW_NODE, headers=bearer(primary.admin))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    denied = httpx.post(
        replica.base + "/api/v1/nodes", json=NEW_NODE, headers=bearer(primary.reader)
    )
    assert denied.status_code == 403
    metrics = httpx.get(replica.base + "/metrics").text
    assert 'drago_forwarded_writes_total{outcome="ok"} 1.0' in metrics
    assert 'drago_forwarded_writes_total{outcome="refused"} 2.0' in metrics


def test_a_status_report_is_written_by_the_replica_itself(
    primary: GitServer, replica: ReplicaServer
) -> None:
    wait_until(lambda: replica.ctx.live.rendered_revision == primary.ctx.live.revision)
    digest = replica.ctx.live.hash_of("fra-1")
    report: dict[str, object] = {"applied_hash": digest, "errors": [], "peers": []}
    answer = httpx.put(
        replica.base + "/api/v1/nodes/fra-1/status", json=report, headers=bearer(primary.node)
    )
    assert answer.status_code in (200, 204), answer.text
    assert "drago_forwarded_writes_total{" not in httpx.get(replica.base + "/metrics").text
    seen = get(primary.base, "/api/v1/nodes/fra-1/status", primary.reader).json()
    assert seen["applied_hash"] == digest


def test_a_signed_git_push_through_a_replica_goes_to_the_primary(
    primary: GitServer, replica: ReplicaServer, alice: GitUser, tmp_path: Path
) -> None:
    primary.trust(alice)
    replica.trust(alice)
    wait_until(lambda: replica.ctx.live.revision == primary.ctx.live.revision)
    work = tmp_path / "work"
    alice.git("clone", "-q", replica.url(primary.admin), str(work))  # served by the replica
    target = work / "nodes/fra-1.toml"
    target.write_text(target.read_text() + "\n# through the replica\n")
    alice.git("commit", "-q", "-S", "-am", "edit through the replica", cwd=work)
    result = alice.git("push", "origin", "main", cwd=work)
    assert "main -> main" in result.text
    sha = alice.git("rev-parse", "HEAD", cwd=work).out.strip()
    assert primary.ctx.store.head() == sha
    assert replica.ctx.live.rendered_revision == sha  # live here before the push answered
    unsigned = work / "nodes/sgp-1.toml"
    unsigned.write_text(unsigned.read_text() + "\n# unsigned\n")
    alice.git("commit", "-q", "--no-gpg-sign", "-am", "unsigned", cwd=work)
    refused = alice.git("push", "origin", "main", cwd=work, check=False)
    assert refused.code != 0
    assert "unsigned commit" in refused.text
    assert primary.ctx.store.head() == sha == replica.ctx.store.head()


def test_with_the_primary_down_reads_work_writes_are_503_and_health_is_degraded(
    tmp_path: Path, example_repo: Path
) -> None:
    with contextlib.ExitStack() as stack:
        primary = stack.enter_context(running_git_server(tmp_path / "primary", example_repo))
        replica = stack.enter_context(running_replica(primary, tmp_path / "replica"))
        wait_until(lambda: replica.ctx.live.rendered_revision == primary.ctx.live.revision)
        served = replica.ctx.live.revision
        admin, reader, node = primary.admin, primary.reader, primary.node
        # The runtime database outlives the primary (shared, as PostgreSQL would be).
        database, primary.ctx.database = primary.ctx.database, None
        assert database is not None
        stack.callback(database.close)
        stop(primary)
        config = get(replica.base, "/api/v1/nodes/fra-1/config", node)
        assert config.status_code == 200
        assert json.loads(config.content)["revision"] == served
        wait_until(lambda: httpx.get(replica.base + "/healthz").json()["status"] == "degraded")
        health = httpx.get(replica.base + "/healthz").json()
        assert health["revision"] == served
        assert "the primary does not answer" in health["reasons"][0]
        write = httpx.post(replica.base + "/api/v1/nodes", json=NEW_NODE, headers=bearer(admin))
        assert write.status_code == 503
        error = write.json()["error"]
        assert error["code"] == "primary_unavailable"
        assert "writes go to the primary" in error["message"]
        assert "drago_replication_primary_up 0.0" in httpx.get(replica.base + "/metrics").text
        assert get(replica.base, "/api/v1/nodes", reader).status_code == 200


def stop(server: GitServer) -> None:
    """Stop a server at once (held requests are dropped) and wait until it is gone."""
    assert server.server is not None
    server.server.force_exit = True
    server.server.should_exit = True
    wait_until(lambda: not server.server or not server.server.started or closed(server.base))


def closed(base: str) -> bool:
    try:
        httpx.get(base + "/healthz", timeout=1)
    except httpx.TransportError:
        return True
    return False


def test_a_write_over_the_replicas_body_limit_is_refused_there(
    primary: GitServer, tmp_path: Path
) -> None:
    with running_replica(primary, tmp_path / "replica", max_body=1024) as replica:
        big = {**NEW_NODE, "message": "x" * 2048}
        answer = httpx.post(replica.base + "/api/v1/nodes", json=big, headers=bearer(primary.admin))
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "payload_too_large"
        assert "drago_forwarded_writes_total{" not in httpx.get(replica.base + "/metrics").text
