"""The real thing: a server and three agents on wireguard-go in namespaces.

Layout (all inside namespaces this test creates): a hub namespace with a bridge
(172.31.250.1/24) runs the server; nodes a, b, c hang off the bridge; the test
itself reaches the server through one veth pair into the hub. The repository
connects a<->b and b<->c, not a<->c.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.convergence import TRAFFIC_MARGIN, hashes, healthy, wait_applied, wait_until
from tests.support.netns import Lab, Namespace, lab, run

__all__ = ["lab"]

pytestmark = [pytest.mark.e2e, pytest.mark.netns, pytest.mark.slow, pytest.mark.timeout(240)]

NETWORK = "e2e"
OVERLAY = {"a": "10.77.0.1", "b": "10.77.0.2", "c": "10.77.0.3"}
PORT = 51900
SERVER_PORT = 18471
#: The server as the agents reach it (the hub's bridge address).
SERVER = f"http://172.31.250.1:{SERVER_PORT}"


def write_repo(root: Path, addresses: dict[str, str], tag: str) -> None:
    (root / "networks").mkdir(parents=True)
    (root / "nodes").mkdir()
    (root / "networks" / f"{NETWORK}.toml").write_text(
        'description = "agent end-to-end"\n'
        'address_range = "10.77.0.0/24"\n'
        f"listen_port = {PORT}\n"
        "persistent_keepalive = 1\n\n"
        '[[connections]]\nbetween = ["e2e-a", "e2e-b"]\n\n'
        '[[connections]]\nbetween = ["e2e-b", "e2e-c"]\n'
    )
    for n, ip in OVERLAY.items():
        (root / "nodes" / f"e2e-{n}.toml").write_text(
            f'endpoint = "{addresses[n]}"\n\n'
            f"[interfaces.{NETWORK}]\n"
            f'address = "{ip}/24"\n'
            f"listen_port = {PORT}\n"
            f'ifname = "{ifname(tag, n)}"\n'
        )


def ifname(tag: str, n: str) -> str:
    return f"dga-{tag}-{n}"


@dataclass
class World:
    lab: Lab
    tag: str
    data: Path
    url: str
    api: httpx.Client
    nodes: dict[str, Namespace]
    tokens: dict[str, str]
    state: Path
    server: subprocess.Popen[bytes] | None = None
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start_server(
        self, log: Path, data: Path | None = None, port: int = SERVER_PORT
    ) -> subprocess.Popen[bytes]:
        """``drago server`` in the hub (on :attr:`data` and port 18471 unless told);
        the first one started is :attr:`server`."""
        hub = self.lab.namespaces[0]
        process = self.lab.spawn(
            [
                "drago",
                "server",
                "--data",
                str(data or self.data),
                "--listen",
                f"0.0.0.0:{port}",
                "--init-from",
                str(self.data.parent / "repo"),
            ],
            hub,
            log=log,
        )
        if self.server is None:
            self.server = process
        return process

    def start_agent(self, n: str, *extra: str, servers: tuple[str, ...] = (SERVER,)) -> None:
        code = "from drago.agent.cli import entry; entry()"
        self.agents[n] = self.lab.spawn(
            [
                sys.executable,
                "-c",
                code,
                *(arg for url in servers for arg in ("--server", url)),
                "--token",
                self.tokens[n],
                "--state-dir",
                str(self.state / n),
                "--backend",
                "userspace",
                "--drift-interval",
                "2",
                "--poll-wait",
                "5",
                "--status-interval",
                "5",
                *extra,
            ],
            self.nodes[n],
            log=self.state / f"agent-{n}.log",
        )

    def agent_cli(self, n: str, *extra: str) -> subprocess.CompletedProcess[str]:
        """A one-shot ``drago-agent`` command in node ``n`` (its own state dir)."""
        code = "from drago.agent.cli import entry; entry()"
        return self.nodes[n].run(
            sys.executable,
            "-c",
            code,
            "--server",
            SERVER,
            "--token",
            self.tokens[n],
            "--state-dir",
            str(self.state / n),
            "--backend",
            "userspace",
            *extra,
            check=False,
        )

    def status(self, n: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.api.get(f"/api/v1/nodes/e2e-{n}/status").json()
        return answer

    def ping(self, src: str, dst: str) -> bool:
        result = self.nodes[src].run("ping", "-c", "1", "-W", "1", OVERLAY[dst], check=False)
        return result.returncode == 0

    def dump(self, n: str) -> dict[str, list[str]]:
        """``wg show IF dump`` peers: public key -> fields."""
        out = self.nodes[n].run("wg", "show", ifname(self.tag, n), "dump").stdout
        lines = out.strip().splitlines()[1:]
        return {line.split("\t")[0]: line.split("\t")[1:] for line in lines}


@pytest.fixture
def world(lab: Lab, tmp_path: Path) -> Iterator[World]:
    tag = secrets.token_hex(2)
    hub = lab.hub()
    # the test reaches the hub through its own veth pair
    outside = f"dgr{tag}"
    run("ip", "link", "add", outside, "type", "veth", "peer", "up0", "netns", hub.name)
    # a /30 of its own in the root namespace, so parallel runs never share one
    base = 4 * secrets.randbelow(64)
    near, far = f"172.31.249.{base + 1}", f"172.31.249.{base + 2}"
    run("ip", "addr", "add", f"{near}/30", "dev", outside)
    run("ip", "link", "set", outside, "up")
    hub.run("ip", "addr", "add", f"{far}/30", "dev", "up0")
    hub.run("ip", "link", "set", "up0", "up")
    nodes = {n: lab.namespace(n) for n in OVERLAY}
    addresses = {n: lab.attach(hub, ns) for n, ns in nodes.items()}
    for n in OVERLAY:
        lab.track_ifname(ifname(tag, n))
    write_repo(tmp_path / "repo", addresses, tag)
    data = tmp_path / "data"
    state = tmp_path / "state"
    state.mkdir()
    url = f"http://{far}:{SERVER_PORT}"
    api = httpx.Client(base_url=url, timeout=10)
    w = World(lab, tag, data, url, api, nodes, {}, state)
    try:
        w.start_server(tmp_path / "server.log")
        wait_until("the server", lambda: healthy(api), 30)
        admin = (data / "bootstrap-token").read_text().strip()
        api.headers["Authorization"] = f"Bearer {admin}"
        for n in OVERLAY:
            out = run(
                "drago",
                "token",
                "create",
                "--data",
                str(data),
                "--role",
                "node",
                "--node",
                f"e2e-{n}",
            )
            w.tokens[n] = out.stdout.strip()
        yield w
    finally:
        api.close()
        for log in sorted(tmp_path.glob("**/*.log")):
            sys.stderr.write(f"--- {log.name}\n{log.read_text()[-3000:]}\n")
        run("ip", "link", "del", outside, check=False)


def test_agents_converge_follow_edits_and_survive(world: World) -> None:
    w = world
    for n in OVERLAY:
        w.start_agent(n)

    # keys registered (commits in history), configs converge, connected pairs ping
    wait_until("a <-> b", lambda: w.ping("a", "b") and w.ping("b", "a"), 45)
    wait_until("b <-> c", lambda: w.ping("b", "c") and w.ping("c", "b"), 30)
    assert not w.ping("a", "c") and not w.ping("c", "a")
    history = w.api.get("/api/v1/revisions", params={"limit": 50}).json()["revisions"]
    key_files = {p for r in history for p in r["paths"] if p.startswith("keys/")}
    assert key_files == {f"keys/e2e-{n}.toml" for n in OVERLAY}
    for n in OVERLAY:
        assert (w.state / n / "keys" / f"{NETWORK}.key").stat().st_mode & 0o777 == 0o600
        assert w.api.get(f"/api/v1/nodes/e2e-{n}/config").json()["interfaces"][0]["public_key"]

    # status reports reach the server; --once and --dry-run agree that all is in sync
    wait_until("status in sync", lambda: all(w.status(n)["in_sync"] for n in OVERLAY), 15)
    b_peers = {p["name"]: p for p in w.status("b")["peers"]}
    assert set(b_peers) == {"e2e-a", "e2e-c"}

    # the report that first said "in sync" may predate the first handshake: the
    # handshake shows in a later report, one status interval (5 s) on at most
    def a_seen_by_b() -> bool:
        peer = {p["name"]: p for p in w.status("b")["peers"]}["e2e-a"]
        return bool(peer["latest_handshake"]) and peer["rx_bytes"] > 0

    wait_until("b reports a handshake with a", a_seen_by_b, 15)
    once = w.agent_cli("c", "--once")
    assert once.returncode == 0, once.stderr
    dry = w.agent_cli("c", "--dry-run")
    assert dry.returncode == 0 and "in sync: nothing to change" in dry.stdout, dry.stdout

    # removing b<->c through the API stops that pair; a<->b keeps its session. The
    # bound is on what drago controls: the time until both agents applied the change
    # (their reported hash); traffic is checked afterwards with a margin that covers
    # WireGuard's own 5 s handshake retry.
    a_on_b = w.dump("b")
    listed = w.api.get(f"/api/v1/networks/{NETWORK}/connections").json()["connections"]
    assert listed[1]["connection"]["between"] == ["e2e-b", "e2e-c"]
    pair = ["e2e-b", "e2e-c"]
    before = {n: hashes(w.api, n)[0] for n in pair}
    start = time.monotonic()
    assert w.api.delete(f"/api/v1/networks/{NETWORK}/connections/1").status_code < 300
    took = wait_applied(w.api, pair, before, start)
    assert max(took.values()) < 5, f"removal applied after {took}"
    after = w.dump("b")
    assert len(after) == 1  # observable on the device as soon as it is reported
    wait_until("b -/- c", lambda: not w.ping("b", "c"), TRAFFIC_MARGIN)
    (key,) = after
    assert after[key][3] == a_on_b[key][3]  # latest handshake of a on b: not reset

    # re-adding restores it
    before = {n: hashes(w.api, n)[0] for n in pair}
    start = time.monotonic()
    added = w.api.post(
        f"/api/v1/networks/{NETWORK}/connections",
        json={"connection": {"between": ["e2e-b", "e2e-c"]}},
    )
    assert added.status_code < 300, added.text
    took = wait_applied(w.api, pair, before, start)
    assert max(took.values()) < 5, f"restore applied after {took}"
    assert len(w.dump("b")) == 2
    wait_until("b <-> c again", lambda: w.ping("b", "c"), TRAFFIC_MARGIN)
    assert w.dump("b")[key][3] == a_on_b[key][3]

    # restarting an agent with an unchanged config changes nothing on the device
    device = w.dump("a")
    w.lab.stop(w.agents["a"])
    log = w.state / "agent-a.log"
    offset = len(log.read_text())
    w.start_agent("a")
    wait_until("agent a back", lambda: "node e2e-a" in log.read_text()[offset:], 20)
    time.sleep(3)
    restarted = log.read_text()[offset:]
    assert f"{ifname(w.tag, 'a')}:" not in restarted, restarted
    now = w.dump("a")
    assert {k: v[3] for k, v in now.items()} == {k: v[3] for k, v in device.items()}

    # rotating a's key: the new key reaches the device once the server committed it
    rotated = w.agent_cli("a", "rotate-key", NETWORK)
    assert rotated.returncode == 0, rotated.stderr
    new_key = rotated.stdout.strip()
    a_if = ifname(w.tag, "a")
    wait_until(
        "rotated key in use",
        lambda: w.nodes["a"].run("wg", "show", a_if, "public-key").stdout.strip() == new_key,
        15,
    )
    wait_until("b knows a's new key", lambda: new_key in w.dump("b"), 15)
    wait_until("a <-> b after rotation", lambda: w.ping("a", "b") and w.ping("b", "a"), 15)
    old_keys = {p.name for p in (w.state / "a" / "keys").iterdir()}
    assert old_keys == {f"{NETWORK}.key"}

    # the server stops: tunnels keep working
    assert w.server is not None
    w.lab.stop(w.server)
    assert w.ping("a", "b") and w.ping("b", "c")

    # a peer removed by hand is restored by the drift check (no server needed)
    c_key = next(k for k, v in w.dump("b").items() if v[2] == "10.77.0.3/32")
    w.nodes["b"].run("wg", "set", ifname(w.tag, "b"), "peer", c_key, "remove")
    assert c_key not in w.dump("b")
    wait_until("drift repair", lambda: c_key in w.dump("b"), 10)
    wait_until("b <-> c after repair", lambda: w.ping("b", "c"), 10)
