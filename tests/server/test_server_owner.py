"""``drago server`` owns its data directory: one server per directory, and a start
clears what a killed one left behind; the offline commands work beside it."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.forked import ForkedServer, ServerForker
from tests.server.git.gitenv import GitUser
from tests.server.process import drago_command

pytestmark = pytest.mark.e2e


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def drago(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(drago_command(*args), capture_output=True, text=True, timeout=60)


@pytest.fixture
def forker() -> ServerForker:
    return ServerForker()


@pytest.fixture
def first(tmp_path: Path, example_repo: Path, forker: ServerForker) -> Iterator[ForkedServer]:
    server = forker.start(
        tmp_path / "data", tmp_path / "first.log", "--init-from", str(example_repo)
    )
    try:
        yield server.wait_listening()
    finally:
        server.terminate()


def test_a_second_server_on_the_same_directory_exits_naming_it_and_the_holder(
    tmp_path: Path, first: ForkedServer
) -> None:
    data = tmp_path / "data"
    second = drago("server", "--data", str(data), "--listen", "127.0.0.1:0")
    assert second.returncode == 1
    assert f"data directory {data} is in use by another drago server" in second.stderr
    assert f"(pid {first.process.pid})" in second.stderr
    assert "listening" not in second.stdout
    # The first one is unaffected.
    admin = (data / "bootstrap-token").read_text().strip()
    assert httpx.get(f"{first.url}/api/v1/live", headers=auth(admin)).status_code == 200


def test_a_stale_main_lock_is_removed_at_start_and_writes_work(
    tmp_path: Path, first: ForkedServer, forker: ServerForker
) -> None:
    data = tmp_path / "data"
    first.kill()
    lock = data / "repo.git" / "refs" / "heads" / "main.lock"
    lock.write_text("")  # what a SIGKILL during a ref update leaves
    server = forker.start(data, tmp_path / "second.log").wait_listening()
    try:
        assert f"WARNING drago.server: removed {lock} (left by an interrupted write)" in (
            server.output
        )
        assert not lock.exists()
        admin = (data / "bootstrap-token").read_text().strip()
        key = base64.b64encode(os.urandom(32)).decode()
        written = httpx.put(
            f"{server.url}/api/v1/nodes/laptop-ben/keys/site",
            headers=auth(admin),
            json={"public_key": key},
        )
        assert written.status_code == 200, written.text
        assert written.json()["committed"] is True
    finally:
        server.terminate()


def test_offline_commands_work_beside_a_running_server(tmp_path: Path, first: ForkedServer) -> None:
    data = str(tmp_path / "data")
    created = drago("token", "create", "--data", data, "--role", "reader", "--name", "r")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    answer = httpx.get(f"{first.url}/api/v1/whoami", headers=auth(secret))
    assert answer.json()["role"] == "reader"

    alice = GitUser.create(tmp_path / "alice", "alice@example.com")
    added = drago("signers", "add", "--data", data, "--principal", alice.email, str(alice.pubkey))
    assert added.returncode == 0, added.stderr
    listed = httpx.get(f"{first.url}/api/v1/signers", headers=auth(secret))
    assert alice.email in listed.text
