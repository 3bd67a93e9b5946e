"""API commit benchmark: ``PUT /api/v1/nodes/{node}`` on a generated 1,000-node repository.

Run ``python benchmarks/api_commit.py`` (``--nodes N``, ``--commits K``,
``--topology hub|mesh|both``, ``--live answer|background|both``, ``--no-write``).
For each topology and way of making a write live it writes a
repository to a temporary directory, starts the server in-process on a fresh
data directory (``--init-from``), and times K API writes that each change one
node's endpoint (request to answer: read, edit, validate, commit, signed, live
refresh and re-render; over httpx's ASGI transport, so without network). During
the same writes, the functions of each step (validator, store, renderer, the
API's own edit and answer) are wrapped to add up the CPU time of their thread,
which shows where the time goes. Figures go to the ``bench:api`` section of
``docs/benchmarks.md``.

Topologies: ``hub``: 10 hubs and 990 edges, hubs <-> edges by label selectors
(about 10,000 peer entries); ``mesh``: one full mesh (999,000 peer entries).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import functools
import hashlib
import os
import platform
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from drago.model import documents  # noqa: E402
from drago.model.validate import Validator  # noqa: E402
from drago.render.renderer import Renderer  # noqa: E402
from drago.server.api import nodes as nodes_api  # noqa: E402
from drago.server.app import create_app, open_context  # noqa: E402
from drago.server.context import ServerContext  # noqa: E402
from drago.server.process import tune_process  # noqa: E402
from drago.server.settings import Settings  # noqa: E402
from drago.store import GitStore  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:api -->", "<!-- /bench:api -->"
NODE = "node-0001"
NODE_PATH = f"nodes/{NODE}.toml"


def _key(index: int) -> str:
    return base64.b64encode(hashlib.sha256(f"key-{index}".encode()).digest()).decode()


def write_repository(root: Path, count: int, topology: str) -> None:
    """A repository of ``count`` nodes in one network, every key registered."""
    for folder in ("networks", "nodes", "keys"):
        (root / folder).mkdir(parents=True)
    if topology == "mesh":
        connections = '[[connections]]\nbetween = ["*", "*"]\n'
    else:
        connections = '[[connections]]\nbetween = ["role=hub", "role=edge"]\n'
    (root / "networks" / "net.toml").write_text(
        f'description = "benchmark"\naddress_range = "10.0.0.0/16"\n'
        f"persistent_keepalive = 25\n\n{connections}"
    )
    for index in range(count):
        name = f"node-{index:04d}"
        role = "hub" if topology == "hub" and index % 100 == 0 else "edge"
        third, fourth = divmod(index + 1, 250)
        (root / "nodes" / f"{name}.toml").write_text(
            f'# node {index}\ndescription = "node {index}"\n'
            f'endpoint = "{name}.example.net"\nlabels = {{ role = "{role}" }}\n\n'
            f'[interfaces.net]\naddress = "10.0.{third}.{fourth + 1}/16"\n'
            f'routes = ["10.{100 + index // 250}.{index % 250}.0/24"]\n'
        )
        (root / "keys" / f"{name}.toml").write_text(
            f'[interfaces.net]\npublic_key = "{_key(index)}"\n'
        )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


#: How a write makes its revision live: ``LiveState.advance`` answers at once and
#: renders in the background ("rendered" measures until ``live.settled()``).
MODES = {"background": False}
MODE_TEXT = {"background": "answer, render in background"}


@dataclass
class Result:
    topology: str
    mode: str
    nodes: int
    import_s: float
    api_ms: list[float]
    api_cpu_ms: list[float]
    rendered_ms: list[float]
    layers: dict[str, list[float]]


async def api_writes(
    ctx: ServerContext, admin: str, commits: int
) -> tuple[list[float], list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each write (until the answer), and the
    wall-clock milliseconds until its node configs were rendered (the next write
    starts only then, so a background render does not slow the next write)."""
    app = create_app(ctx)
    headers = {"Authorization": f"Bearer {admin}"}
    transport = httpx.ASGITransport(app=app)
    times: list[float] = []
    cpu: list[float] = []
    rendered: list[float] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        spec = (await client.get(f"/api/v1/nodes/{NODE}", headers=headers)).json()["spec"]
        for index in range(commits):
            spec["endpoint"] = f"api-{index}.example.net"
            started, cpu_started = time.perf_counter(), time.process_time()
            answer = await client.put(f"/api/v1/nodes/{NODE}", json={"spec": spec}, headers=headers)
            elapsed = time.perf_counter() - started
            cpu_used = time.process_time() - cpu_started
            if answer.status_code != 200:
                raise SystemExit(f"PUT failed: {answer.status_code} {answer.text}")
            await ctx.live.settled()
            if ctx.live.rendered_revision != answer.json()["revision"]:
                raise SystemExit("the write was not rendered")
            rendered.append((time.perf_counter() - started) * 1000)
            times.append(elapsed * 1000)
            cpu.append(cpu_used * 1000)
    return times, cpu, rendered


RENDER = "render (incremental, live refresh)"

#: The steps of a write, each the CPU time its thread spends in these functions
#: during the timed writes (wrapped for the benchmark only).
STEPS: dict[str, tuple[object, str]] = {
    "validator (validate_changes)": (Validator, "validate_changes"),
    "store: list the base tree (files)": (GitStore, "files"),
    "store: commit (signed)": (GitStore, "commit"),
    RENDER: (Renderer, "render"),
    "API: read the file (read_file)": (GitStore, "read_file"),
    "API: edit with tomlkit (documents.update)": (documents, "update"),
    "API: build the answer (node_out)": (nodes_api.NODES, "out"),
}


@contextmanager
def measured_steps() -> Iterator[dict[str, list[float]]]:
    """Wrap each step's function to add its thread CPU milliseconds to a list
    (a step called inside another, like ``read_file`` by ``node_out``, counts in the outer)."""
    spent: dict[str, list[float]] = {name: [] for name in STEPS}
    originals = {name: getattr(owner, attr) for name, (owner, attr) in STEPS.items()}

    inside = threading.local()

    def wrapper(name: str, func: Callable[..., object]) -> Callable[..., object]:
        @functools.wraps(func)
        def timed(*args: object, **kwargs: object) -> object:
            if getattr(inside, "step", False):  # count nested steps once, in the outer one
                return func(*args, **kwargs)
            inside.step = True
            started = time.thread_time()
            try:
                return func(*args, **kwargs)
            finally:
                spent[name].append((time.thread_time() - started) * 1000)
                inside.step = False

        return timed

    for name, (owner, attr) in STEPS.items():
        _set(owner, attr, wrapper(name, originals[name]))
    try:
        yield spent
    finally:
        for name, (owner, attr) in STEPS.items():
            _set(owner, attr, originals[name])


def _set(owner: object, attr: str, value: object) -> None:
    """``setattr``, also on a frozen dataclass (the API's resource tables)."""
    try:
        setattr(owner, attr, value)
    except dataclasses.FrozenInstanceError:
        object.__setattr__(owner, attr, value)


async def run(topology: str, mode: str, count: int, commits: int) -> Result:
    with tempfile.TemporaryDirectory(prefix="drago-bench-") as tmp:
        repo = Path(tmp) / "repo"
        write_repository(repo, count, topology)
        started = time.perf_counter()
        opened = open_context(Settings(data=Path(tmp) / "data", init_from=repo))
        await opened.ctx.start()
        import_s = time.perf_counter() - started
        assert opened.bootstrap_secret is not None
        try:
            await api_writes(opened.ctx, opened.bootstrap_secret, 3)  # warm-up
            with measured_steps() as spent:
                api, api_cpu, rendered = await api_writes(
                    opened.ctx, opened.bootstrap_secret, commits
                )
            layers = {name: [sum(times) / commits] for name, times in spent.items()}
        finally:
            await opened.ctx.stop()
    return Result(topology, mode, count, import_s, api, api_cpu, rendered, layers)


def report(results: list[Result], commits: int) -> str:
    lines = [
        "## API commit (`python benchmarks/api_commit.py`)",
        "",
        f"`PUT /api/v1/nodes/{{node}}` changing one node's endpoint, {commits} writes after 3"
        " warm-up writes, in-process over httpx's ASGI transport (no network). Each write is the"
        " whole path: read the file, edit it with tomlkit, validate the resulting tree, commit"
        " (signed by the server key, compare-and-swap), make it live (incremental render of the"
        " validated state) and answer with the node. The write answers once the branch"
        " moved (`LiveState.advance`: the API reads the new revision at once) and the node"
        ' configs are rendered in a background task. "Rendered" is the time from the'
        " request until the node configs of that"
        " revision are served (agents are woken then); the next write starts after that.",
        "",
        "| repository | live | p50 | p99 | max | CPU per write (p50) | rendered (p50) | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        shape = _topology(r.topology, r.nodes)
        lines.append(
            f"| {r.nodes:,} nodes, {shape} | {MODE_TEXT[r.mode]}"
            f" | {percentile(r.api_ms, 0.5):.1f} ms"
            f" | {percentile(r.api_ms, 0.99):.1f} ms | {max(r.api_ms):.1f} ms"
            f" | {percentile(r.api_cpu_ms, 0.5):.1f} ms"
            f" | {percentile(r.rendered_ms, 0.5):.1f} ms | p50 < 50 ms |"
        )
    lines += [
        "",
        "Where the time goes: CPU time per write spent in each step (thread CPU time of the"
        " step's function during the same writes, so other processes' load does not count;"
        " with the render in background, the render step runs after the answer):",
        "",
    ]
    header = "| step | " + " | ".join(_label(r) for r in results) + " |"
    lines += [header, "| --- |" + " --- |" * len(results)]
    for name in results[0].layers:
        cells = [f"{r.layers[name][0]:.1f} ms" for r in results]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", _verdict(results)]
    imports = ", ".join(
        f"{_topology(r.topology, r.nodes)} {r.import_s:.1f} s"
        for r in results
        if r.mode == results[0].mode
    )
    lines += [
        "",
        f"First start with `--init-from` (import, validate, first render): {imports}.",
        f"Machine: {os.cpu_count()} CPUs ({_cpu()}), Python {platform.python_version()};"
        f" load average {os.getloadavg()[0]:.1f} when the run ended.",
    ]
    return "\n".join(lines)


def _verdict(results: list[Result]) -> str:
    """Whether the target is met and, per topology, which step costs most."""
    parts = []
    for r in results:
        steps = {name: times[0] for name, times in r.layers.items()}
        if not MODES[r.mode]:  # the render runs after the answer
            steps.pop(RENDER)
        slowest = max(steps, key=lambda name: steps[name])
        api = sum(ms for name, ms in steps.items() if name.startswith("API"))
        met = "met" if percentile(r.api_ms, 0.5) < 50 else "not met"
        rest = percentile(r.api_cpu_ms, 0.5) - sum(steps.values())
        parts.append(
            f"{_label(r)}: target {met}; the API's own steps cost"
            f" {api:.1f} ms CPU per write, the largest step is {slowest}"
            f" ({steps[slowest]:.0f} ms); outside these functions (HTTP, the live swap, hashes"
            f" the render result computes on first use) {max(rest, 0):.0f} ms."
        )
    return " ".join(parts)


def _label(r: Result) -> str:
    return f"{_topology(r.topology, r.nodes)}, {MODE_TEXT[r.mode]}"


def _topology(name: str, nodes: int) -> str:
    hubs = (nodes + 99) // 100
    return {"hub": f"{hubs} hubs x {nodes - hubs} edges", "mesh": "full mesh"}[name]


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_section(text: str) -> None:
    section = f"{BEGIN}\n{text}\n{END}"
    current = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if BEGIN in current:
        current = re.sub(
            re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: section, current, flags=re.S
        )
    else:
        current = current.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(current)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--topology", choices=["hub", "mesh", "both"], default="both")
    parser.add_argument("--live", choices=[*MODES, "both"], default="both")
    parser.add_argument("--no-write", action="store_true", help="print, leave docs alone")
    args = parser.parse_args()
    tune_process()  # as `drago server` does
    topologies = ["hub", "mesh"] if args.topology == "both" else [args.topology]
    modes = list(MODES) if args.live == "both" else [args.live]
    results = [asyncio.run(run(t, m, args.nodes, args.commits)) for t in topologies for m in modes]
    text = report(results, args.commits)
    print(text)
    if not args.no_write:
        write_section(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
