"""Render benchmark: a 1,000-node full mesh, then one node's endpoint changes.

Run ``python benchmarks/render.py`` (``--nodes N``, ``--repeat K``,
``--no-write``). It builds the desired state in memory (one network, every
node with a registered key and an endpoint, ``between = ["*", "*"]``), renders
it once, then repeatedly changes one node's endpoint and renders again,
measuring the time until every node's hash is ready. ``--node I`` always
moves node I (the last one, ``--node -1``, changes entries near the end of
every peer list, where hashes resume); ``--key`` instead registers node I's
key and removes it again, in turn (a pending peer becomes a peer everywhere).
Only the default run writes its section. The figures and the
machine go to the ``bench:render`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import machine, write_section  # noqa: E402
from drago.model.schema import KeysFile, NetworkFile, NodeFile  # noqa: E402
from drago.model.state import State  # noqa: E402
from drago.render.renderer import Renderer  # noqa: E402

NETWORK = "backbone"


def _blob(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _key(index: int) -> str:
    return base64.b64encode(hashlib.sha256(f"key-{index}".encode()).digest()).decode()


def _node(index: int, endpoint: str) -> tuple[NodeFile, str]:
    third, fourth = divmod(index + 1, 250)
    data = {
        "endpoint": endpoint,
        "labels": {"role": "edge"},
        "interfaces": {
            NETWORK: {
                "address": f"10.20.{third}.{fourth + 1}/16",
                "routes": [f"10.{100 + index // 250}.{index % 250}.0/24"],
            }
        },
    }
    return NodeFile.model_validate(data), _blob(repr(data))


def mesh_state(count: int) -> State:
    """A state with ``count`` nodes in one full-mesh network, all keys registered."""
    net = NetworkFile.model_validate(
        {
            "address_range": "10.20.0.0/16",
            "persistent_keepalive": 25,
            "mtu": 1420,
            "connections": [{"between": ["*", "*"]}],
        }
    )
    state = State(networks={NETWORK: net}, blob_ids={f"networks/{NETWORK}.toml": _blob("net")})
    for index in range(count):
        name = f"node-{index:04d}"
        node, blob = _node(index, f"{name}.example.net")
        state.nodes[name] = node
        state.blob_ids[f"nodes/{name}.toml"] = blob
        state.keys[name] = KeysFile.model_validate(
            {"interfaces": {NETWORK: {"public_key": _key(index)}}}
        )
        state.blob_ids[f"keys/{name}.toml"] = _blob(_key(index))
    return state


def with_endpoint(state: State, index: int, endpoint: str) -> State:
    """A copy of ``state`` where node ``index`` has a new endpoint."""
    name = f"node-{index:04d}"
    node, blob = _node(index, endpoint)
    nodes = dict(state.nodes)
    nodes[name] = node
    blobs = dict(state.blob_ids)
    blobs[f"nodes/{name}.toml"] = blob
    return State(networks=state.networks, nodes=nodes, keys=state.keys, blob_ids=blobs)


def without_key(state: State, index: int) -> State:
    """A copy of ``state`` where node ``index`` has no registered key."""
    name = f"node-{index:04d}"
    keys = {n: k for n, k in state.keys.items() if n != name}
    blobs = {p: b for p, b in state.blob_ids.items() if p != f"keys/{name}.toml"}
    return State(networks=state.networks, nodes=state.nodes, keys=keys, blob_ids=blobs)


def run(count: int, repeat: int, node: int | None = None, key: bool = False) -> dict[str, float]:
    full = state = mesh_state(count)
    renderer = Renderer()
    rss_before = _max_rss_mb()
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), time.process_time()
    first = renderer.render(state, "rev-0")
    first_s, first_cpu = time.perf_counter() - start, time.process_time() - cpu
    sample = first.config(next(iter(first)))
    if len(sample.interfaces[0].peers) != count - 1:
        raise SystemExit("the generated state is not a full mesh")
    times, cpu_times = [], []
    for round_ in range(1, repeat + 1):
        moved = round_ % count if node is None else node % count
        if key:
            state = without_key(full, moved) if round_ % 2 else full
        else:
            state = with_endpoint(state, moved, f"moved-{round_}.example.net")
        start, cpu = time.perf_counter(), time.process_time()
        result = renderer.render(state, f"rev-{round_}")
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu)
        expected = count if key else count - 1  # a key is also in its own node's config
        if len(result.changed) != expected:
            raise SystemExit(f"expected {expected} changed nodes, got {len(result.changed)}")
    return {
        "nodes": count,
        "entries": count * (count - 1),
        "first_s": first_s,
        "first_cpu_s": first_cpu,
        "load": load,
        "change_cpu_median_s": statistics.median(cpu_times),
        "rss_before_mb": rss_before,
        "rss_peak_mb": _max_rss_mb(),
        "change_median_s": statistics.median(times),
        "change_max_s": max(times),
        "repeat": repeat,
    }


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(figures: dict[str, float]) -> str:
    return "\n".join(
        [
            "## Render (`python benchmarks/render.py`)",
            "",
            f"{figures['nodes']:,} nodes in one full-mesh network"
            f" ({figures['entries']:,} peer entries), every key registered. The first render"
            " includes resolving the topology; after a change, every node's hash is ready"
            f" and the renderer reports {figures['nodes'] - 1:,} changed nodes (the moved"
            " node's own config does not hold its endpoint, so it is not woken).",
            "",
            "| measure | result | target |",
            "| --- | --- | --- |",
            f"| first full render (all hashes) | {figures['first_s']:.2f} s"
            f" (CPU {figures['first_cpu_s']:.2f} s) | - |",
            f"| re-render after one node's endpoint changed, median of"
            f" {figures['repeat']} | {figures['change_median_s'] * 1000:.0f} ms"
            f" (max {figures['change_max_s'] * 1000:.0f} ms;"
            f" CPU {figures['change_cpu_median_s'] * 1000:.0f} ms) | < 500 ms |",
            f"| peak RSS of the process (after building the state: {figures['rss_before_mb']:.0f}"
            f" MiB) | {figures['rss_peak_mb']:.0f} MiB | - |",
            "",
            f"Machine: {machine()}; load average {figures['load']:.1f} when the run started"
            " (times are wall clock; CPU is this process's CPU time).",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--node", type=int, help="always change this node (-1: the last)")
    parser.add_argument("--key", action="store_true", help="remove and register --node's key")
    args = parser.parse_args()
    if args.key and args.node is None:
        parser.error("--key needs --node")
    text = report(run(args.nodes, args.repeat, args.node, args.key))
    if args.node is not None:
        change = "key removed and registered in turn" if args.key else "endpoint moved"
        print(f"(variant: node {args.node % args.nodes}'s {change} every round)")
    print(text)
    if not args.no_write and args.node is None:
        write_section("render", text)


if __name__ == "__main__":
    main()
