"""An agent with two servers: the one it uses dies, it moves to the other, keeps its
tunnel and config, and comes back to the first when that one returns.

Two real ``drago server`` processes in the hub namespace (ports 18471 and 18472)
serve the same commits with the same tokens: the second's data directory is made
from the first's once the agents registered their keys (a mirror clone of the
repository, the signing key and trusted signers, an online backup of the runtime
database), so both render the same config hashes. Agents a and b run on
wireguard-go in their namespaces with ``--server S1 --server S2``.
(World and layout: tests/e2e/test_agent_e2e.py.)
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.convergence import healthy, wait_until
from tests.e2e.test_agent_e2e import SERVER, SERVER_PORT, World, ifname, world
from tests.support.netns import lab, run

__all__ = ["lab", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.netns, pytest.mark.slow, pytest.mark.timeout(240)]

SECOND_PORT = SERVER_PORT + 1
SECOND = f"http://172.31.250.1:{SECOND_PORT}"
#: What the issue asks: the agent uses the other server within this many seconds.
BOUND = 10.0


def copy_data(src: Path, dst: Path) -> None:
    """A data directory serving what the running server of ``src`` serves: its commits
    (mirror clone), signing key, trusted signers, and tokens and status (SQLite's
    online backup, consistent while the server writes)."""
    dst.mkdir(mode=0o700)
    run("git", "clone", "--quiet", "--mirror", str(src / "repo.git"), str(dst / "repo.git"))
    for path in src.iterdir():  # server-key, bootstrap-token, allowed_signers if any
        if path.is_file() and not path.name.startswith(("runtime.sqlite", "server.lock")):
            shutil.copy2(path, dst / path.name)
    source = sqlite3.connect(src / "runtime.sqlite")
    target = sqlite3.connect(dst / "runtime.sqlite")
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    os.chmod(dst / "runtime.sqlite", 0o600)


def status(api: httpx.Client, n: str) -> dict[str, object]:
    body: dict[str, object] = api.get(f"/api/v1/nodes/e2e-{n}/status").json()
    return body


def reports_from(api: httpx.Client, n: str, server: str, since: float) -> bool:
    """``n`` reported to ``api`` after ``since`` (unix time) that it uses ``server``."""
    try:
        body = status(api, n)
    except httpx.HTTPError:
        return False
    seen = body["last_seen"]
    return body["server"] == server and isinstance(seen, float) and seen > since


def peers(w: World, n: str) -> dict[str, tuple[str, str]]:
    """The device's peers: public key -> (endpoint, allowed ips)."""
    return {key: (fields[1], fields[2]) for key, fields in w.dump(n).items()}


def test_the_agent_fails_over_keeps_its_tunnel_and_comes_back(world: World, tmp_path: Path) -> None:
    w = world
    pair = ("a", "b")
    for n in pair:
        w.start_agent(n, "--failback-after", "3", servers=(SERVER, SECOND))
    wait_until("a <-> b", lambda: w.ping("a", "b") and w.ping("b", "a"), 45)
    wait_until(
        "in sync on the first server", lambda: all(status(w.api, n)["in_sync"] for n in pair)
    )
    assert all(status(w.api, n)["server"] == SERVER for n in pair)

    # the second server: the same commits and tokens, so the same hashes
    copy_data(w.data, tmp_path / "data2")
    second = w.start_server(tmp_path / "server2.log", tmp_path / "data2", SECOND_PORT)
    api2 = httpx.Client(
        base_url=w.url.rsplit(":", 1)[0] + f":{SECOND_PORT}",
        headers={"Authorization": w.api.headers["Authorization"]},
        timeout=10,
    )
    try:
        wait_until("the second server", lambda: healthy(api2), 30)
        for n in pair:
            one = w.api.get(f"/api/v1/nodes/e2e-{n}/config").headers["etag"]
            assert api2.get(f"/api/v1/nodes/e2e-{n}/config").headers["etag"] == one
        devices = {n: peers(w, n) for n in pair}
        logs = {n: w.state / f"agent-{n}.log" for n in pair}
        offsets = {n: len(logs[n].read_text()) for n in pair}
        # traffic through the tunnel all along: 0.2 s apart, from before the kill to after
        pinging = w.lab.spawn(
            ["ping", "-n", "-c", "60", "-i", "0.2", "-W", "1", "10.77.0.2"],
            w.nodes["a"],
            log=tmp_path / "ping.log",
        )
        time.sleep(1)

        # the server in use dies: both agents move to the other one
        assert w.server is not None
        killed = time.time()
        w.lab.stop(w.server, signal.SIGKILL)
        took = wait_until(
            "both agents report to the second server",
            lambda: all(reports_from(api2, n, SECOND, killed) for n in pair),
            BOUND,
        )
        assert took < BOUND
        print(f"both agents on the second server {took:.1f}s after the first was killed")
        for n in pair:
            moved = logs[n].read_text()[offsets[n] :]
            assert f"switching to {SECOND}" in moved, moved
            assert "new config" not in moved, moved  # the same hash: nothing to apply
            assert f"{ifname(w.tag, n)}:" not in moved, moved  # no change on the device
            assert peers(w, n) == devices[n]
            assert status(api2, n)["in_sync"] is True
        pinging.wait(timeout=30)
        summary = (tmp_path / "ping.log").read_text()
        assert re.search(r"\b0% packet loss", summary), summary

        # the first server returns: the agents come back to it (--failback-after 3)
        restarted = time.time()
        w.server = None
        w.start_server(tmp_path / "server1-again.log")
        wait_until("the first server again", lambda: healthy(w.api), 30)
        wait_until(
            "both agents back on the first server",
            lambda: all(reports_from(w.api, n, SERVER, restarted) for n in pair),
            30,
        )
        for n in pair:
            back = logs[n].read_text()[offsets[n] :]
            assert f"first server {SERVER} answers again" in back, back
            assert "new config" not in back, back
            assert peers(w, n) == devices[n]
        assert w.ping("a", "b") and w.ping("b", "a")
    finally:
        api2.close()
        w.lab.stop(second)
