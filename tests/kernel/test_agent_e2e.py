"""The agent on kernel WireGuard: a server and two agents in namespaces, inside the VM.

Runs where the ``wireguard`` module is loaded, which is the kernel VM
(``tests/kernel/test_vm.py`` boots it and runs this module there); on a host
without the module it is skipped, and the VM tier reports its outcome instead.

Layout (as in ``tests/e2e/test_agent_e2e.py``): a hub namespace with a bridge
runs ``drago server``; nodes a and b hang off the bridge and run ``drago-agent
--backend kernel``; the test reaches the hub through one veth pair. A third node
c has a registered key but no agent: a and b each hold it as a peer that no
update may touch. The network is a full mesh (``between = ["*", "*"]``).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from drago.agent.backends.netlink import kernel_available
from drago.agent.keys import KeyPair
from tests.support.netns import Lab, Namespace, lab, run

__all__ = ["lab"]

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.netns,
    pytest.mark.skipif(
        not kernel_available(),
        reason="needs the wireguard kernel module: runs inside the VM of tests/kernel/test_vm.py",
    ),
    pytest.mark.timeout(420),
]

NETWORK = "kvm"
OVERLAY = {"a": "10.78.0.1", "b": "10.78.0.2", "c": "10.78.0.3"}
PORT = 51910
API_PORT = 18472
#: ``python -c LAUNCH TOKEN_FILE ARGS...``: drago-agent ARGS --token-file TOKEN_FILE,
#: started once TOKEN_FILE exists.
LAUNCH = """
import sys, time
from pathlib import Path
from drago.agent.cli import main
token = Path(sys.argv[1])
while not token.exists():
    time.sleep(0.1)
sys.exit(main([*sys.argv[2:], "--token-file", str(token)]))
"""
#: Emulation is slow: Python starts in seconds, not milliseconds.
SLOW = 120.0


def wait_until(what: str, check: Callable[[], bool], timeout: float = 30.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def node_toml(endpoint: str | None, ip: str, tag: str, n: str, routes: str = "") -> str:
    head = f'endpoint = "{endpoint}"\n' if endpoint else ""
    return (
        f"{head}\n[interfaces.{NETWORK}]\n"
        f'address = "{ip}/24"\n'
        f"listen_port = {PORT}\n"
        f'ifname = "{ifname(tag, n)}"\n'
        f"{routes}"
    )


def ifname(tag: str, n: str) -> str:
    return f"dgk-{tag}-{n}"


@dataclass
class World:
    lab: Lab
    tag: str
    tmp: Path
    api: httpx.Client
    hub_address: str
    addresses: dict[str, str]
    nodes: dict[str, Namespace]
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, n: str) -> Path:
        return self.tmp / f"agent-{n}.log"

    def start_agent(self, n: str) -> None:
        """Start ``drago-agent --backend kernel`` in node ``n`` as soon as its token exists.

        The process imports the agent while the server is still starting (Python
        starts slowly under emulation), then waits for its token file.
        """
        self.agents[n] = self.lab.spawn(
            [
                sys.executable,
                "-c",
                LAUNCH,
                str(self.token_file(n)),
                "--server",
                f"http://{self.hub_address}:{API_PORT}",
                "--state-dir",
                str(self.tmp / "state" / n),
                "--backend",
                "kernel",
                "--drift-interval",
                "2",
                "--poll-wait",
                "5",
                "--status-interval",
                "5",
            ],
            self.nodes[n],
            log=self.log(n),
        )

    def token_file(self, n: str) -> Path:
        return self.tmp / f"token-{n}"

    def ping(self, src: str, dst: str) -> bool:
        done = self.nodes[src].run("ping", "-c", "1", "-W", "2", OVERLAY[dst], check=False)
        return done.returncode == 0

    def dump(self, n: str) -> dict[str, list[str]]:
        """``wg show IF dump`` peers: public key -> fields."""
        out = self.nodes[n].run("wg", "show", ifname(self.tag, n), "dump").stdout
        rows = [line.split("\t") for line in out.strip().splitlines()[1:]]
        return {row[0]: row[1:] for row in rows}

    def has_link(self, n: str) -> bool:
        out = self.nodes[n].run("ip", "-o", "link", "show", check=False).stdout
        return f" {ifname(self.tag, n)}:" in out

    def put_node(self, n: str, toml: str) -> httpx.Response:
        return self.api.put(f"/api/v1/nodes/kvm-{n}", json={"toml": toml})

    def leave(self, n: str) -> None:
        """Node ``n`` leaves the network: its key goes, then its interface table.

        Its agent may register the key again in between (the validator refuses a
        key for a network the node is not in): then both steps are retried.
        """
        for _ in range(5):
            self.api.request("DELETE", f"/api/v1/nodes/kvm-{n}/keys/{NETWORK}", json={})
            answer = self.put_node(n, f'endpoint = "{self.addresses[n]}"\n')
            if answer.status_code < 300:
                return
        pytest.fail(f"kvm-{n} could not leave the network: {answer.text}")


@pytest.fixture
def world(lab: Lab, tmp_path: Path) -> Iterator[World]:
    tag = secrets.token_hex(2)
    hub = lab.hub("172.31.251")
    run("ip", "link", "add", f"dgk{tag}", "type", "veth", "peer", "up0", "netns", hub.name)
    run("ip", "addr", "add", "172.31.248.1/30", "dev", f"dgk{tag}")
    run("ip", "link", "set", f"dgk{tag}", "up")
    hub.run("ip", "addr", "add", "172.31.248.2/30", "dev", "up0")
    hub.run("ip", "link", "set", "up0", "up")
    nodes = {n: lab.namespace(n) for n in ("a", "b")}
    addresses = {n: lab.attach(hub, ns) for n, ns in nodes.items()}
    repo = tmp_path / "repo"
    (repo / "networks").mkdir(parents=True)
    (repo / "nodes").mkdir()
    (repo / "networks" / f"{NETWORK}.toml").write_text(
        'description = "kernel WireGuard end-to-end"\n'
        'address_range = "10.78.0.0/24"\n'
        f"listen_port = {PORT}\n"
        "persistent_keepalive = 1\n\n"
        '[[connections]]\nbetween = ["*", "*"]\n'
    )
    for n, ip in OVERLAY.items():
        (repo / "nodes" / f"kvm-{n}.toml").write_text(node_toml(addresses.get(n), ip, tag, n))
    api = httpx.Client(base_url=f"http://172.31.248.2:{API_PORT}", timeout=30)
    w = World(lab, tag, tmp_path, api, "172.31.251.1", addresses, nodes)
    data = tmp_path / "data"
    try:
        lab.spawn(
            [
                sys.executable,
                "-c",
                "from drago.cli.main import entry; entry()",
                "server",
                "--data",
                str(data),
                "--listen",
                f"0.0.0.0:{API_PORT}",
                "--init-from",
                str(repo),
            ],
            hub,
            log=tmp_path / "server.log",
        )
        for n in nodes:
            w.start_agent(n)
        wait_until("the server", lambda: _healthy(api), SLOW)
        api.headers["Authorization"] = f"Bearer {(data / 'bootstrap-token').read_text().strip()}"
        for n in nodes:
            made = api.post("/api/v1/tokens", json={"role": "node", "node": f"kvm-{n}"})
            assert made.status_code == 201, made.text
            staged = w.token_file(n).with_suffix(".tmp")
            staged.write_text(made.json()["secret"])
            staged.chmod(0o600)
            staged.rename(w.token_file(n))
        c_key = KeyPair.generate().public_key
        put = api.put(f"/api/v1/nodes/kvm-c/keys/{NETWORK}", json={"public_key": c_key})
        assert put.status_code < 300, put.text
        yield w
    finally:
        api.close()
        for log in sorted(tmp_path.glob("*.log")):
            sys.stderr.write(f"--- {log.name}\n{log.read_text()[-4000:]}\n")
        run("ip", "link", "del", f"dgk{tag}", check=False)


def _healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def test_agents_on_kernel_wireguard(world: World) -> None:
    w = world

    # both agents create kernel devices (kind wireguard, no wireguard-go) and talk
    wait_until("a <-> b", lambda: w.ping("a", "b") and w.ping("b", "a"), SLOW)
    for n in w.nodes:
        link = w.nodes[n].run("ip", "-d", "-j", "link", "show", ifname(w.tag, n)).stdout
        assert json.loads(link)[0]["linkinfo"]["info_kind"] == "wireguard"
    assert run("pgrep", "-x", "wireguard-go", check=False).stdout == ""
    wait_until("both peers on a", lambda: len(w.dump("a")) == 2, 30)
    before = w.dump("a")
    (b_key,) = (k for k, v in before.items() if v[2] == "10.78.0.2/32")
    (c_key,) = (k for k, v in before.items() if v[2] == "10.78.0.3/32")
    assert before[b_key][1] == f"{w.addresses['b']}:{PORT}" and before[c_key][1] == "(none)"
    assert int(before[b_key][3]) > 0  # a handshake happened

    # a change of b's routes touches peer b on a, and nothing else
    log_a = w.log("a")
    offset = len(log_a.read_text())
    routes = 'routes = ["192.168.78.0/24"]\n'
    put = w.put_node("b", node_toml(w.addresses["b"], OVERLAY["b"], w.tag, "b", routes))
    assert put.status_code < 300, put.text
    wait_until(
        "b's route on a",
        lambda: w.dump("a")[b_key][2] == "10.78.0.2/32,192.168.78.0/24",
        SLOW,
    )
    wait_until(
        "the route on a's interface",
        lambda: "192.168.78.0/24" in w.nodes["a"].run("ip", "route", "show").stdout,
        30,
    )
    after = w.dump("a")
    assert after[c_key] == before[c_key]

    def changes() -> list[str]:
        """The changes agent a logged since the edit (it logs them once applied)."""
        return [
            line.split(" INFO ", 1)[1]
            for line in log_a.read_text()[offset:].splitlines()
            if f" INFO {ifname(w.tag, 'a')}: " in line
        ]

    wait_until("a's log of the change", lambda: len(changes()) >= 2, 30)
    assert sorted(changes()) == sorted(
        [
            f"{ifname(w.tag, 'a')}: peer kvm-b: allowed ips 10.78.0.2/32 => "
            "10.78.0.2/32, 192.168.78.0/24",
            f"{ifname(w.tag, 'a')}: route + 192.168.78.0/24",
        ]
    ), changes()

    # a peer removed behind the agent's back comes back (drift check every 2 s)
    w.nodes["a"].run("wg", "set", ifname(w.tag, "a"), "peer", b_key, "remove")
    assert b_key not in w.dump("a")
    wait_until("drift repair", lambda: b_key in w.dump("a"), 60)
    wait_until("a <-> b after repair", lambda: w.ping("a", "b") and w.ping("b", "a"), 60)

    # b leaves the network: its agent removes the interface; a drops peer b
    w.leave("b")
    wait_until("b's interface gone", lambda: not w.has_link("b"), SLOW)
    wait_until("peer b gone from a", lambda: b_key not in w.dump("a"), 60)
    assert set(w.dump("a")) == {c_key}
    for n, process in w.agents.items():
        assert process.poll() is None, f"agent {n} exited: {w.log(n).read_text()[-2000:]}"
