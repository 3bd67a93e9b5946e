"""``drago server --database postgresql://...``: real server processes on a real PostgreSQL.

Tokens, node status and trusted signers live in the database, not in the data
directory; they survive a restart and are shared by every server on the database.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.server.process import ServerProcess, drago_command

pytestmark = pytest.mark.e2e


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def drago(*args: str) -> str:
    done = subprocess.run(drago_command(*args), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tokens_and_status_live_in_the_database_across_restarts(
    tmp_path: Path, example_repo: Path, postgres_url: str
) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data, "--init-from", str(example_repo), "--database", postgres_url)
    server.start()
    try:
        assert f"runtime: {postgres_url}" in "".join(server.output)
        admin = auth(server.bootstrap)
        assert not (data / "runtime.sqlite").exists()
        # created offline, beside the running server, in the database
        secret = drago(
            "token", "create", "--data", str(data), "--database", postgres_url,
            "--role", "node", "--node", "fra-1",
        ).strip()  # fmt: skip
        report = {"applied_hash": "a" * 64, "errors": ["peer nyc-1: endpoint unresolved"]}
        r = httpx.put(f"{server.url}/api/v1/nodes/fra-1/status", json=report, headers=auth(secret))
        assert r.status_code == 200, r.text
        r = httpx.put(f"{server.url}/api/v1/nodes/nyc-1/status", json={}, headers=auth(secret))
        assert r.status_code == 403
        server.terminate()

        server.start()
        assert "bootstrap admin token: in" in "".join(server.output)
        r = httpx.get(f"{server.url}/api/v1/nodes/fra-1/status", headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["applied_hash"] == "a" * 64
        assert body["errors"] == report["errors"]
        assert httpx.get(f"{server.url}/api/v1/whoami", headers=auth(secret)).json()["node"] == (
            "fra-1"
        )
        assert not (data / "runtime.sqlite").exists()
    finally:
        server.stop()


def test_servers_on_one_database_share_tokens_status_and_signers(
    tmp_path: Path, example_repo: Path, postgres_url: str
) -> None:
    first = ServerProcess(
        tmp_path / "a", "--init-from", str(example_repo), "--database", postgres_url
    ).start()
    second = None
    try:
        admin = auth(first.bootstrap)
        # DRAGO_DATABASE works like --database
        second = ServerProcess(tmp_path / "b", "--init-from", str(example_repo))
        second.env = {"DRAGO_DATABASE": postgres_url}
        second.start()
        assert not (tmp_path / "b" / "bootstrap-token").exists()  # the database has an admin
        r = httpx.put(f"{second.url}/api/v1/nodes/fra-1/status", json={}, headers=admin)
        assert r.status_code == 200, r.text
        seen = httpx.get(f"{first.url}/api/v1/nodes/fra-1/status", headers=admin).json()
        assert seen["last_seen"] is not None

        listed = httpx.get(f"{first.url}/api/v1/signers", headers=admin).json()
        own, other = server_key(first.url, admin), server_key(second.url, admin)
        assert own != other
        assert listed["signers"][0]["public_key"] == own  # its own key first
        servers = [s["public_key"] for s in listed["signers"] if s["server"]]
        assert sorted(servers) == sorted([own, other])  # the second's from the database
        printed = drago(
            "signers", "list", "--data", str(tmp_path / "b"), "--database", postgres_url
        )
        assert own in printed and other in printed
    finally:
        first.stop()
        if second is not None:
            second.stop()


def server_key(url: str, headers: dict[str, str]) -> str:
    """A server's own key (TYPE BASE64), as its API shows it."""
    line: str = httpx.get(f"{url}/api/v1/signers", headers=headers).json()["server_key"]
    return " ".join(line.split()[:2])
