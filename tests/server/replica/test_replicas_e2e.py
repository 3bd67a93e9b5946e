"""A primary and two replicas as ``drago server`` processes on loopback, one PostgreSQL.

The story of docs/scaling.md, end to end: a signed push to the primary is live
on a replica within a second; an API write sent to a replica lands on the
primary and reads back on that replica at once; with the primary killed the
replicas serve configs, refuse writes with 503 and say ``degraded``; a replica
restarted without ``--replica-of`` is the primary (its key was already a trusted
signer) and takes writes, and a replica following it mirrors them.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.git.gitenv import GitUser
from tests.server.process import ServerProcess, drago_command
from tests.server.replica.conftest import NEW_NODE, wait_until

pytestmark = pytest.mark.e2e


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def drago(*args: str) -> str:
    done = subprocess.run(drago_command(*args), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def ams(description: str) -> dict[str, object]:
    """The body of a PUT of node ams-1 with ``description``."""
    spec = NEW_NODE["spec"]
    assert isinstance(spec, dict)
    return {"spec": {**spec, "description": description}}


def live_revision(server: ServerProcess) -> str | None:
    revision = httpx.get(server.url + "/healthz", timeout=5).json()["revision"]
    assert revision is None or isinstance(revision, str)
    return revision


class Fleet:
    def __init__(self, root: Path, example_repo: Path, database: str) -> None:
        self.database = database
        self.primary = ServerProcess(
            root / "primary", "--init-from", str(example_repo), "--database", database
        )
        self.replicas = [ServerProcess(root / f"replica-{i}") for i in (1, 2)]

    def replica_of(self, server: ServerProcess, primary: ServerProcess) -> ServerProcess:
        server.extra = ("--database", self.database, "--replica-of", primary.url)
        return server.start()

    def stop(self) -> None:
        for server in (self.primary, *self.replicas):
            server.stop()


@pytest.fixture
def fleet(tmp_path: Path, example_repo: Path, postgres_url: str) -> Iterator[Fleet]:
    fleet = Fleet(tmp_path, example_repo, postgres_url)
    try:
        fleet.primary.start()
        for replica in fleet.replicas:
            fleet.replica_of(replica, fleet.primary)
        yield fleet
    finally:
        fleet.stop()


def test_primary_two_replicas_failure_and_promotion(
    fleet: Fleet, alice: GitUser, tmp_path: Path
) -> None:
    primary, (first, second) = fleet.primary, fleet.replicas
    admin = primary.bootstrap
    assert not (first.data / "bootstrap-token").exists()  # the primary's tokens serve
    for replica in (first, second):
        wait_until(lambda r=replica: live_revision(r) == live_revision(primary))  # type: ignore[misc]
        assert "replica of" in "".join(replica.output)
    drago(
        "signers", "add", "--data", str(primary.data), "--database", fleet.database,
        "--principal", alice.email, str(alice.pubkey),
    )  # fmt: skip

    # A signed push to the primary is live on a replica within a second.
    work = tmp_path / "work"
    origin = primary.url.replace("http://", f"http://x:{admin}@") + "/repo.git"
    alice.git("clone", "-q", origin, str(work))
    fra = work / "nodes/fra-1.toml"
    fra.write_text(fra.read_text().replace("Frankfurt gateway", "Frankfurt hub"))
    alice.git("commit", "-q", "-S", "-am", "rename the Frankfurt gateway", cwd=work)
    alice.git("push", "-q", "origin", "main", cwd=work)
    pushed = alice.git("rev-parse", "HEAD", cwd=work).out.strip()
    started = time.monotonic()
    wait_until(lambda: live_revision(first) == pushed, timeout=5)
    lag = time.monotonic() - started
    assert lag < 1.0, f"the push was live on the replica after {lag:.2f} s"

    # An API write sent to a replica lands on the primary; it reads back there at once.
    created = httpx.post(second.url + "/api/v1/nodes", json=NEW_NODE, headers=auth(admin))
    assert created.status_code == 201, created.text
    on_replica = httpx.get(second.url + "/api/v1/nodes/ams-1", headers=auth(admin))
    assert on_replica.status_code == 200
    on_primary = httpx.get(primary.url + "/api/v1/nodes/ams-1", headers=auth(admin))
    assert on_primary.json()["config_hash"] == on_replica.json()["config_hash"]
    written = live_revision(primary)
    assert live_revision(second) == written

    # The primary dies: configs are still served, writes are refused, health says why.
    wait_until(lambda: live_revision(first) == written)
    node = drago(
        "token", "create", "--data", str(primary.data), "--database", fleet.database,
        "--role", "node", "--node", "fra-1",
    ).strip()  # fmt: skip
    assert primary.proc is not None
    primary.proc.kill()
    primary.proc.wait(10)
    config = httpx.get(first.url + "/api/v1/nodes/fra-1/config", headers=auth(node))
    assert config.status_code == 200
    assert config.json()["revision"] == written
    write = httpx.put(
        first.url + "/api/v1/nodes/ams-1",
        json=ams("Amsterdam"),
        headers=auth(admin),
    )
    assert write.status_code == 503
    assert write.json()["error"]["code"] == "primary_unavailable"
    wait_until(lambda: httpx.get(first.url + "/healthz").json()["status"] == "degraded")
    health = httpx.get(first.url + "/healthz").json()
    assert health["role"] == "replica"
    assert any("the primary does not answer" in reason for reason in health["reasons"])

    # Promotion: the first replica restarts without --replica-of and takes writes.
    first.stop()
    first.extra = ("--database", fleet.database)
    first.start()
    assert httpx.get(first.url + "/healthz").json()["role"] == "primary"
    promoted = httpx.put(
        first.url + "/api/v1/nodes/ams-1",
        json=ams("Amsterdam"),
        headers=auth(admin),
    )
    assert promoted.status_code == 200, promoted.text
    revision = live_revision(first)
    assert revision is not None and revision != written
    # The other replica follows the new primary and trusts its signature.
    second.stop()
    fleet.replica_of(second, first)
    wait_until(lambda: live_revision(second) == revision)
    write = httpx.put(
        second.url + "/api/v1/nodes/ams-1",
        json=ams("Amsterdam office"),
        headers=auth(admin),
    )
    assert write.status_code == 200, write.text
    assert live_revision(second) == live_revision(first) != revision
