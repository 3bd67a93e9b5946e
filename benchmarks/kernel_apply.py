"""Kernel apply benchmark: 1,000 peers through netlink vs ``wg setconf``, in the kernel VM.

Run as root: ``python benchmarks/kernel_apply.py [--peers 1000] [--rounds 5]
[--no-write]``. The host has no ``wireguard`` module, so this boots the VM of
the kernel tier (``scripts/kernel-vm``: Debian's kernel under QEMU emulation)
and measures inside it, on one kernel WireGuard device, a fresh device per round:

* ``wg setconf`` of the equivalent file (private key, port, every peer);
* the agent's kernel backend applying the same device changes (generic netlink);
* the agent's whole reconcile (read, plan, apply, link settings, re-read);
* reading the 1,000 peers back through netlink;

then a reconcile after one peer's endpoint changed, counting the peers the
device update touched. Emulation makes absolute times meaningless, so the
``bench:kernel-apply`` section of ``docs/benchmarks.md`` gets ratios to
``wg setconf`` only (medians of the rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import agent_apply  # noqa: E402
from agent_apply import make_config, setconf_text  # noqa: E402

from benchmarks.report import machine, write_section  # noqa: E402
from drago.agent.apply import apply_changes  # noqa: E402
from drago.agent.backends.base import DeviceUpdate  # noqa: E402
from drago.agent.backends.links import IPRouteLinks  # noqa: E402
from drago.agent.backends.netlink import KernelBackend  # noqa: E402
from drago.agent.keys import KeyPair, KeyStore  # noqa: E402
from drago.agent.ownership import Ownership  # noqa: E402
from drago.agent.reconcile import Reconciler  # noqa: E402

IFNAME = "dgkbench0"
DEVICE_CHANGES = {"SetPrivateKey", "SetListenPort", "AddPeer"}


class CountingBackend(KernelBackend):
    """The kernel backend, remembering each update it applied."""

    def __init__(self, links: IPRouteLinks) -> None:
        super().__init__(links)
        self.applied: list[DeviceUpdate] = []

    def apply(self, ifname: str, update: DeviceUpdate) -> None:
        self.applied.append(update)
        super().apply(ifname, update)


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True)


def fresh_device() -> None:
    subprocess.run(["ip", "link", "del", IFNAME], capture_output=True)
    sh("ip", "link", "add", IFNAME, "type", "wireguard")


def measure(peers: int, rounds: int) -> dict[str, object]:
    """Inside the VM: the timings in seconds, and the one-peer change's counts."""
    agent_apply.KEYS = [KeyPair.generate() for _ in range(peers)]
    own = KeyPair.generate()
    config = make_config(IFNAME, peers, own)
    links = IPRouteLinks()
    backend = CountingBackend(links)
    times: dict[str, list[float]] = {"setconf": [], "netlink": [], "reconcile": [], "read": []}
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "bench.conf"
        conf.write_text(setconf_text(config, own))
        os.chmod(conf, 0o600)
        state = Path(tmp) / "state"
        keys = KeyStore(state)
        keys._write(keys._path("bench", "key"), own)
        Ownership(state).add(IFNAME, "bench")
        reconciler = Reconciler(backend, links, keys, Ownership(state))
        try:
            for _ in range(rounds):
                fresh_device()
                start = time.perf_counter()
                sh("wg", "setconf", IFNAME, str(conf))
                times["setconf"].append(time.perf_counter() - start)
                start = time.perf_counter()
                assert len(backend.read(IFNAME).peers) == peers
                times["read"].append(time.perf_counter() - start)

                fresh_device()
                changes = reconciler.plan(config).changes
                device_only = [c for c in changes if type(c).__name__ in DEVICE_CHANGES]
                start = time.perf_counter()
                errors = apply_changes(device_only, backend, links, lambda n: own.private_key)
                times["netlink"].append(time.perf_counter() - start)
                assert not errors and len(backend.read(IFNAME).peers) == peers

                fresh_device()
                start = time.perf_counter()
                outcome = reconciler.reconcile(config)
                times["reconcile"].append(time.perf_counter() - start)
                assert outcome.in_sync, outcome.errors

            before = dict(backend.read(IFNAME).peers)
            backend.applied.clear()
            moved = make_config(IFNAME, peers, own, moved=peers // 2)
            start = time.perf_counter()
            outcome = reconciler.reconcile(moved)
            one = time.perf_counter() - start
            after = backend.read(IFNAME).peers
        finally:
            subprocess.run(["ip", "link", "del", IFNAME], capture_output=True)
    return {
        "peers": peers,
        "rounds": rounds,
        "times": times,
        "one_peer": one,
        "one_peer_changes": len(outcome.changes),
        "one_peer_touched": sum(len(u.peers) for u in backend.applied),
        "unchanged": sum(1 for k in before if before[k] == after[k]),
        "kernel": os.uname().release,
    }


def section(result: dict[str, object], started: str) -> str:
    times: dict[str, list[float]] = result["times"]  # type: ignore[assignment]
    base = statistics.median(times["setconf"])

    def ratio(name: str) -> str:
        return f"{statistics.median(times[name]) / base:.2f}x"

    spread = [n / s for n, s in zip(times["netlink"], times["setconf"], strict=True)]
    peers, rounds = result["peers"], result["rounds"]
    one_peer = (
        f"{float(result['one_peer']) / base:.2f}x: {result['one_peer_changes']} change, "
        f"{result['one_peer_touched']} peer touched, "
        f"{result['unchanged']} of {peers:,} peers unchanged"
    )
    rows = [
        (
            f"agent kernel backend, the same {peers:,}-peer update (generic netlink)",
            f"{ratio('netlink')} (rounds: {min(spread):.2f}x-{max(spread):.2f}x)",
            "- (UAPI: within 1.5x)",
        ),
        (
            "agent full reconcile of a fresh device (read, plan, apply, link, re-read)",
            ratio("reconcile"),
            "-",
        ),
        (f"reading the {peers:,} peers back through netlink", ratio("read"), "-"),
        (
            f"one peer's endpoint changed on the {peers:,}-peer device (full reconcile)",
            one_peer,
            "one peer touched",
        ),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return f"""## Kernel apply (`sudo python benchmarks/kernel_apply.py`)

One kernel WireGuard device inside the kernel tier's VM (Debian kernel
{result["kernel"]} under QEMU emulation), {peers:,} peers (one /32 and an IP
endpoint each), a fresh device per round, median of {rounds} rounds. Emulation
makes absolute times meaningless: every figure is a ratio to `wg setconf` of
the equivalent file on the same device.

| measure | ratio to `wg setconf` | target |
| --- | --- | --- |
{table}

The backend packs the peers into a few `WG_CMD_SET_DEVICE` requests on one
socket (one request per peer, as pyroute2's `WireGuard.set` sends them, measured
36x); what is left is pyroute2 encoding and decoding every attribute in Python,
where `wg setconf` is C. A one-peer change still sends one peer; its reconcile
time is reading the 1,000 peers back before and after.

Run on {started}; host: {machine()}.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print, leave the doc alone")
    parser.add_argument("--inside", type=Path, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.inside:
        opts.inside.write_text(json.dumps(measure(opts.peers, opts.rounds)))
        return 0
    started = time.strftime("%Y-%m-%d")
    with tempfile.TemporaryDirectory(prefix="drago-kernel-bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        inner = [sys.executable, str(Path(__file__).resolve()), "--inside", str(result_file)]
        inner += ["--peers", str(opts.peers), "--rounds", str(opts.rounds)]
        vm = [sys.executable, str(ROOT / "scripts" / "kernel-vm"), "run", "--work", tmp]
        done = subprocess.run([*vm, "--", *inner], check=False)
        if done.returncode != 0 or not result_file.exists():
            output = Path(tmp) / "output.log"
            if output.exists():
                sys.stderr.write(output.read_text()[-4000:])
            print(f"the benchmark failed in the VM (exit {done.returncode})", file=sys.stderr)
            return 1
        result = json.loads(result_file.read_text())
    body = section(result, started)
    print(body)
    if not opts.no_write:
        write_section("kernel-apply", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
