"""Agent apply benchmark: 1,000 peers through the UAPI backend vs ``wg setconf``.

Run as root: ``python benchmarks/agent_apply.py [--peers 1000] [--rounds 5]``.
Creates a network namespace ``dga-bench-XXXX``, runs the measurements inside it
(as the agent runs inside a node), with one wireguard-go device, and removes
both at the end (also on failure). Measures, on a fresh device each round:

* ``wg setconf`` of the equivalent file (private key, port, every peer);
* the agent's UAPI backend applying the same device update (one ``set=1``);
* the agent's whole reconcile (read the device, plan, apply, link settings);

then, on the 1,000-peer device, a reconcile after one peer's endpoint changed,
counting the peers the device update touched.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drago.agent.apply import apply_changes  # noqa: E402
from drago.agent.backends.base import DeviceUpdate  # noqa: E402
from drago.agent.backends.links import IPRouteLinks  # noqa: E402
from drago.agent.backends.wireguard_go import UserspaceBackend  # noqa: E402
from drago.agent.keys import KeyPair, KeyStore  # noqa: E402
from drago.agent.ownership import Ownership  # noqa: E402
from drago.agent.reconcile import Reconciler  # noqa: E402
from drago.render.config import InterfaceConfig, NodeConfig, PeerConfig  # noqa: E402


class CountingBackend(UserspaceBackend):
    """The UAPI backend, remembering each update it applied."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.applied: list[DeviceUpdate] = []
        self.seconds: list[float] = []

    def apply(self, ifname: str, update: DeviceUpdate) -> None:
        self.applied.append(update)
        start = time.perf_counter()
        super().apply(ifname, update)
        self.seconds.append(time.perf_counter() - start)


def make_config(ifname: str, peers: int, own: KeyPair, moved: int | None = None) -> NodeConfig:
    base = ipaddress.ip_address("10.100.0.0")
    entries = []
    for i in range(peers):
        host = 7 if i == moved else 1
        entries.append(
            PeerConfig(
                name=f"peer-{i:04d}",
                public_key=KEYS[i].public_key,
                endpoint=f"198.18.{i // 250}.{i % 250 + host}:51820",
                allowed_ips=(f"{base + i + 2}/32",),
                persistent_keepalive=None,
            )
        )
    iface = InterfaceConfig(
        network="bench",
        ifname=ifname,
        address="10.100.0.1/16",
        listen_port=51999,
        mtu=1420,
        public_key=own.public_key,
        peers=tuple(entries),
    )
    return NodeConfig(node="bench", interfaces=(iface,), revision="bench")


def setconf_text(config: NodeConfig, own: KeyPair) -> str:
    iface = config.interfaces[0]
    lines = ["[Interface]", f"PrivateKey = {own.private_key}", f"ListenPort = {iface.listen_port}"]
    for p in iface.peers:
        lines += ["", "[Peer]", f"PublicKey = {p.public_key}", f"Endpoint = {p.endpoint}"]
        lines.append(f"AllowedIPs = {', '.join(p.allowed_ips)}")
    return "\n".join(lines) + "\n"


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


class Device:
    """One wireguard-go device (in the current namespace), restartable."""

    def __init__(self, ifname: str) -> None:
        self.ifname = ifname
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.stop()
        self.process = subprocess.Popen(
            ["wireguard-go", "-f", self.ifname],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "WG_PROCESS_FOREGROUND": "1"},
        )
        sock = Path(f"/var/run/wireguard/{self.ifname}.sock")
        deadline = time.monotonic() + 10
        while not sock.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("wireguard-go did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def measure(ifname: str, peers: int, rounds: int) -> None:
    """The measurements, run inside the benchmark's namespace (as the agent runs)."""
    global KEYS
    KEYS = [KeyPair.generate() for _ in range(peers)]
    own = KeyPair.generate()
    device = Device(ifname)
    try:
        config = make_config(ifname, peers, own)
        with tempfile.TemporaryDirectory() as tmp:
            conf = Path(tmp) / "bench.conf"
            conf.write_text(setconf_text(config, own))
            os.chmod(conf, 0o600)
            state = Path(tmp) / "state"
            keys = KeyStore(state)
            keys._write(keys._path("bench", "key"), own)
            Ownership(state).add(ifname, "bench")
            links = IPRouteLinks()
            backend = CountingBackend(links)
            reconciler = Reconciler(backend, links, keys, Ownership(state))
            device_kinds = {"SetPrivateKey", "SetListenPort", "AddPeer"}

            setconf, uapi, whole = [], [], []
            for _ in range(rounds):
                device.start()
                start = time.perf_counter()
                sh("wg", "setconf", ifname, str(conf))
                setconf.append(time.perf_counter() - start)
                assert len(backend.read(ifname).peers) == peers

                device.start()
                changes = reconciler.plan(config).changes
                device_only = [c for c in changes if type(c).__name__ in device_kinds]
                start = time.perf_counter()
                applied = apply_changes(device_only, backend, links, lambda n: own.private_key)
                uapi.append(time.perf_counter() - start)
                assert not applied.errors and not applied.refused, applied
                assert len(backend.read(ifname).peers) == peers

                device.start()
                start = time.perf_counter()
                outcome = reconciler.reconcile(config)
                whole.append(time.perf_counter() - start)
                assert outcome.in_sync, outcome.errors

            before = dict(backend.read(ifname).peers)
            backend.applied.clear()
            backend.seconds.clear()
            moved = make_config(ifname, peers, own, moved=peers // 2)
            start = time.perf_counter()
            outcome = reconciler.reconcile(moved)
            one = time.perf_counter() - start
            touched = sum(len(u.peers) for u in backend.applied)
            device_set = sum(backend.seconds)
            after = backend.read(ifname).peers
            unchanged = sum(1 for k in before if before[k] == after[k])
    finally:
        device.stop()

    ratio = statistics.median(uapi) / statistics.median(setconf)
    print(f"| `wg setconf`, {peers} peers, median of {rounds} | {median_ms(setconf)} |")
    print(f"| agent UAPI backend, same update | {median_ms(uapi)} ({ratio:.2f}x `wg setconf`) |")
    print(f"| agent full reconcile (read, plan, apply, link, re-read) | {median_ms(whole)} |")
    print(
        f"| one peer's endpoint changed on the {peers}-peer device (full reconcile) | "
        f"{one * 1000:.0f} ms, of which the device update {device_set * 1000:.1f} ms; "
        f"{len(outcome.changes)} change, {touched} peer touched, "
        f"{unchanged} of {peers} peers unchanged |"
    )


def main() -> int:
    args = argparse.ArgumentParser()
    args.add_argument("--peers", type=int, default=1000)
    args.add_argument("--rounds", type=int, default=5)
    args.add_argument("--inside", help=argparse.SUPPRESS)
    opts = args.parse_args()
    if opts.inside:
        measure(opts.inside, opts.peers, opts.rounds)
        return 0
    tag = secrets.token_hex(2)
    ns, ifname = f"dga-bench-{tag}", f"dgab{tag}"
    sh("ip", "netns", "add", ns)
    try:
        inner = [sys.executable, __file__, "--inside", ifname]
        inner += ["--peers", str(opts.peers), "--rounds", str(opts.rounds)]
        return subprocess.run(["ip", "netns", "exec", ns, *inner], check=False).returncode
    finally:
        out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in out.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", ns], check=False)
        Path(f"/var/run/wireguard/{ifname}.sock").unlink(missing_ok=True)


KEYS: list[KeyPair] = []

if __name__ == "__main__":
    sys.exit(main())
