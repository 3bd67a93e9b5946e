"""Delta cost benchmark: the CPU one change costs per agent, on both sides.

Run ``python benchmarks/delta_cost.py`` (``--nodes N``). In a full mesh of N
nodes (``benchmarks/render.py``'s state), one node's endpoint moves or one
node's key is registered (pending peer -> peer), at the front, the middle and
the end of the peer lists. For one agent it measures, best of several runs:
the server building the delta body (``RenderResult.delta_document``), the
agent parsing it (``ConfigDelta.model_validate_json``) and applying and
verifying it (``apply_delta``), and, for comparison, parsing the whole config.
Prints only (these are micro-benchmarks; the fleet figures are
``benchmarks/propagation.py``'s).
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.render import mesh_state, with_endpoint  # noqa: E402
from drago.model.state import State  # noqa: E402
from drago.render.config import NodeConfig  # noqa: E402
from drago.render.delta import ConfigDelta, apply_delta  # noqa: E402
from drago.render.renderer import Renderer  # noqa: E402
from drago.render.result import RenderResult  # noqa: E402

AGENT = "node-0001"


def best_us(call: Callable[[], object], number: int = 300) -> float:
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e6


def without_key(state: State, name: str) -> State:
    keys = {n: k for n, k in state.keys.items() if n != name}
    blobs = {p: b for p, b in state.blob_ids.items() if p != f"keys/{name}.toml"}
    return State(networks=state.networks, nodes=state.nodes, keys=keys, blob_ids=blobs)


def measure(label: str, before: State, after: State) -> str:
    renderer = Renderer(threads=1)
    old = renderer.render(before, "r1")
    new: RenderResult = renderer.render(after, "r2")
    body = new.delta_document(AGENT, old)
    base = old.config(AGENT)
    delta = ConfigDelta.model_validate_json(body)
    if apply_delta(base, delta) != new.config(AGENT):
        raise SystemExit(f"{label}: the applied delta is not the new config")
    return (
        f"| {label} | {len(body)} B | {best_us(lambda: new.delta_document(AGENT, old)):.1f}"
        f" | {best_us(lambda: ConfigDelta.model_validate_json(body)):.1f}"
        f" | {best_us(lambda: apply_delta(base, delta)):.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    args = parser.parse_args()
    state = mesh_state(args.nodes)
    places = [2, args.nodes // 2, args.nodes - 2]
    print("| change | body | server: body (µs) | agent: parse (µs) | agent: apply+verify (µs) |")
    print("| --- | --- | --- | --- | --- |")
    for index in places:
        moved = with_endpoint(state, index, "moved.example.net")
        print(measure(f"endpoint of node-{index:04d}", state, moved))
    for index in places:
        print(measure(f"key of node-{index:04d}", without_key(state, f"node-{index:04d}"), state))
    document = Renderer(threads=1).render(state, "r1").document(AGENT)
    whole = best_us(lambda: NodeConfig.model_validate_json(document), number=5)
    print(f"\nparsing the whole config ({len(document):,} B): {whole / 1000:.1f} ms")


if __name__ == "__main__":
    main()
