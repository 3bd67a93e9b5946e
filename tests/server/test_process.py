"""Real ``drago server`` processes (uvicorn on a free port), driven over HTTP and git."""

from __future__ import annotations

import base64
import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.server.process import ServerProcess, drago_command

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def running(tmp_path: Path, example_repo: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "data", "--init-from", str(example_repo), "--max-wait", "30")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_first_start_prints_urls_and_the_bootstrap_token(running: ServerProcess) -> None:
    text = "".join(running.output)
    assert f"API:     {running.url}/api/v1" in text
    assert f"git:     {running.url}/repo.git" in text
    assert f"bootstrap admin token: {running.bootstrap}" in text
    r = httpx.get(f"{running.url}/api/v1/whoami", headers=auth(running.bootstrap))
    assert r.json()["role"] == "admin"


async def test_long_poll_answers_within_a_second_of_a_relevant_commit(
    running: ServerProcess,
) -> None:
    admin = auth(running.bootstrap)
    async with httpx.AsyncClient(base_url=running.url, headers=admin, timeout=30) as client:
        etags = {}
        for node in ("fra-1", "muc-1"):
            etags[node] = (await client.get(f"/api/v1/nodes/{node}/config")).headers["etag"]
        answers: dict[str, tuple[int, float]] = {}
        committed_at = 0.0

        async def poll(node: str) -> None:
            r = await client.get(
                f"/api/v1/nodes/{node}/config",
                params={"wait": "3"},
                headers={"If-None-Match": etags[node]},
            )
            answers[node] = (r.status_code, time.monotonic() - committed_at)

        async with anyio.create_task_group() as tg:
            tg.start_soon(poll, "fra-1")
            tg.start_soon(poll, "muc-1")
            await anyio.sleep(0.5)
            committed_at = time.monotonic()
            # sgp-1's key is in fra-1's config (core mesh), not in muc-1's
            r = await client.put(
                "/api/v1/nodes/sgp-1/keys/backbone", json={"public_key": random_key()}
            )
            assert r.status_code == 200, r.text
    assert answers["fra-1"][0] == 200
    assert answers["fra-1"][1] < 1.0
    assert answers["muc-1"][0] == 304


async def test_concurrent_writers_make_a_linear_history(running: ServerProcess) -> None:
    admin = auth(running.bootstrap)
    repo = running.data / "repo.git"
    nodes = ["fra-1", "nyc-1", "sgp-1", "ber-gw", "muc-1"]
    async with httpx.AsyncClient(base_url=running.url, headers=admin, timeout=30) as client:
        statuses: list[int] = []

        async def writer(i: int) -> None:
            head = (await client.get("/healthz")).json()["revision"]
            r = await client.put(
                f"/api/v1/nodes/{nodes[i % len(nodes)]}/keys/backbone",
                json={"public_key": random_key()},
                headers={"If-Match": f'"{head}"'},
            )
            statuses.append(r.status_code)

        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(writer, i)
    assert len(statuses) == 20
    assert set(statuses) <= {200, 409}
    assert 200 in statuses
    log = subprocess.run(
        ["git", "--git-dir", str(repo), "log", "--format=%H %P", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    commits = [line.split() for line in log if line]
    assert all(len(c) <= 2 for c in commits)  # no merges
    assert [c[1] for c in commits[:-1]] == [c[0] for c in commits[1:]]  # a chain
    assert len(commits) == 1 + statuses.count(200)  # the import, then each accepted write


def test_commits_carry_token_authors_and_restart_keeps_everything(
    tmp_path: Path, example_repo: Path
) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data, "--init-from", str(example_repo)).start()
    try:
        secret = subprocess.run(
            drago_command(
                "token",
                "create",
                "--data",
                str(data),
                "--role",
                "admin",
                "--name",
                "Ana Admin",
                "--email",
                "ana@example.org",
            ),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert secret.count("\n") == 1 and secret.startswith("drago_")
        secret = secret.strip()
        r = httpx.put(
            f"{server.url}/api/v1/nodes/nyc-1/keys/backbone",
            json={"public_key": random_key()},
            headers=auth(secret),
        )
        assert r.status_code == 200, r.text
        head = r.json()["revision"]
        assert server.terminate() < 5
    finally:
        server.stop()
    log = subprocess.run(
        ["git", "--git-dir", str(data / "repo.git"), "log", "-1", "--format=%an <%ae>|%cn", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    author, committer = log.split("|")
    assert author == "Ana Admin <ana@example.org>"
    assert committer != "Ana Admin"

    again = ServerProcess(data, "--init-from", str(example_repo)).start()
    try:
        assert "bootstrap admin token: in" in "".join(again.output)
        me = httpx.get(f"{again.url}/api/v1/whoami", headers=auth(secret))
        assert me.json()["name"] == "Ana Admin"
        assert httpx.get(f"{again.url}/healthz").json()["revision"] == head
    finally:
        again.stop()


def test_sigterm_with_open_long_polls_exits_promptly(running: ServerProcess) -> None:
    admin = auth(running.bootstrap)
    url = f"{running.url}/api/v1/nodes/muc-1/config"
    etag = httpx.get(url, headers=admin).headers["etag"]
    answers: list[int | str] = []

    async def poll() -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            try:
                r = await client.get(
                    url, params={"wait": "30"}, headers={**admin, "If-None-Match": etag}
                )
                answers.append(r.status_code)
            except httpx.HTTPError as exc:
                answers.append(type(exc).__name__)

    async def metrics() -> str:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{running.url}/metrics")).text

    async def scenario() -> float:
        async with anyio.create_task_group() as tg:
            for _ in range(5):
                tg.start_soon(poll)
            with anyio.fail_after(10):
                while "drago_longpoll_waiters 5.0" not in await metrics():
                    await anyio.sleep(0.05)
            took = await anyio.to_thread.run_sync(running.terminate)
        return took

    took = anyio.run(scenario)
    assert took < 5
    assert answers == [304] * 5


def test_tls(tmp_path: Path, example_repo: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    server = ServerProcess(
        tmp_path / "data",
        "--init-from",
        str(example_repo),
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
    ).start()
    try:
        assert server.url.startswith("https://")
        r = httpx.get(f"{server.url}/healthz", verify=ssl.create_default_context(cafile=cert))
        assert r.json()["status"] == "ok"
    finally:
        server.stop()
