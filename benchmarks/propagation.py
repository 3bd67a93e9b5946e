"""Commit -> agents: how long until every long-polling agent holds the new config.

Builds a full mesh of ``--agents`` nodes plus one node ``src``, starts ``drago
server`` on it, and runs one simulated agent per node, spread over
``--processes`` client processes: each holds ``GET /api/v1/nodes/{node}/config``
with the hash it holds and ``?wait=``, and polls again as soon as an answer
arrives. Each round registers a new public key for ``src`` through the API (one
commit that changes every agent's config) and records, per agent, the time from
sending the write until the agent holds the new config, and the bytes it
received for it.

``--mode delta`` (the agent's way since issue 10): the agent holds a parsed
``NodeConfig``, asks with ``A-IM: drago-delta``, applies a ``226`` answer with
``drago.render.delta.apply_delta`` (which checks the new hash) and falls back to
a full fetch on ``DeltaMismatch`` (counted); a ``200`` is parsed and checked as
a whole ``NodeConfig``. ``--mode full``: no ``A-IM``, every answer is the whole
document and is only JSON-decoded (as the measurement issue 10 started from; a
whole ``NodeConfig`` check of a 1,000-peer config costs the client about 25 ms,
which 999 agents sharing two CPUs could not pay each round). Both modes send
``Accept-Encoding: gzip`` as the agent (httpx) does; ``--no-gzip`` does not.

    python benchmarks/propagation.py [--agents 100] [--rounds 20] [--mode delta|full]
    python benchmarks/propagation.py --suite [--write]   # the issue 10 targets, 3 runs

``--suite`` runs the 1,000-node mesh with deltas and with full configs, and the
101-node mesh with deltas, and with ``--write`` puts the table into the
``bench:fleet`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import multiprocessing.connection
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.fleet import (
    Answer,
    Connection,
    Server,
    cpu_seconds,
    load_average,
    make_tokens,
    metric,
    percentile,
    raise_fd_limit,
    register_source_key,
    run_fast,
    start_server,
    write_mesh,
)
from benchmarks.report import machine, write_section

# -- the agents' processes -------------------------------------------------------------


@dataclass
class Arrival:
    node: str
    at: float  # time.monotonic() once the agent holds (and checked) the new config
    received: float  # time.monotonic() when the answer was read (before decoding it)
    wire: int  # bytes received for it since its previous config
    fallbacks: int  # full fetches after a refused delta
    full: int  # answers that were a whole config


@dataclass
class AgentsState:
    arrivals: list[Arrival] = field(default_factory=list)
    ready: int = 0
    errors: list[str] = field(default_factory=list)


async def _agent(
    address: tuple[str, int],
    node: str,
    token: str,
    mode: str,
    compress: bool,
    state: AgentsState,
) -> None:
    conn = await Connection.open(address)
    plain = {"Authorization": f"Bearer {token}"}
    if compress:
        plain["Accept-Encoding"] = "gzip"
    path = f"/api/v1/nodes/{node}/config"
    poll = path + "?wait=60"
    if mode == "full":
        answer = await conn.get(path, plain)
        held = answer.headers["etag"]
        state.ready += 1
        while True:
            answer = await conn.get(poll, {**plain, "If-None-Match": held})
            received = time.monotonic()
            if answer.status == 200:
                json.loads(answer.body)  # an agent decodes what it gets
                held = answer.headers["etag"]
                state.arrivals.append(Arrival(node, time.monotonic(), received, answer.wire, 0, 1))
        return
    # delta mode: what drago-agent does since issue 10
    from drago.errors import DeltaMismatch
    from drago.render.config import NodeConfig
    from drago.render.delta import ConfigDelta, apply_delta

    async def fetch_full() -> tuple[NodeConfig, Answer]:
        answer = await conn.get(path, plain)
        assert answer.status == 200, answer.status
        return NodeConfig.model_validate_json(answer.body), answer

    config, _ = await fetch_full()
    state.ready += 1
    delta_headers = {**plain, "A-IM": "drago-delta"}
    while True:
        answer = await conn.get(poll, {**delta_headers, "If-None-Match": f'"{config.hash}"'})
        received = time.monotonic()
        wire, fallbacks, full = answer.wire, 0, 0
        if answer.status == 304:
            continue
        if answer.status == 226:
            try:
                if answer.headers.get("delta-base") != f'"{config.hash}"':
                    raise DeltaMismatch("the delta is against another base")
                config = apply_delta(config, ConfigDelta.model_validate_json(answer.body))
            except DeltaMismatch:
                fallbacks = full = 1
                config, again = await fetch_full()
                wire += again.wire
        elif answer.status == 200:
            config, full = NodeConfig.model_validate_json(answer.body), 1
        else:
            state.errors.append(f"{node}: {answer.status} {answer.body[:200]!r}")
            return
        if answer.headers.get("etag") != f'"{config.hash}"':
            state.errors.append(f"{node}: applied {config.hash}, served {answer.headers}")
        state.arrivals.append(Arrival(node, time.monotonic(), received, wire, fallbacks, full))


def agents_main(
    conn: multiprocessing.connection.Connection,
    address: tuple[str, int],
    tokens: dict[str, str],
    mode: str,
    compress: bool,
) -> None:
    """One client process: its agents, and a pipe that hands over their arrivals."""
    raise_fd_limit()

    async def run() -> None:
        import asyncio

        state = AgentsState()
        tasks = [
            asyncio.create_task(_agent(address, node, token, mode, compress, state))
            for node, token in tokens.items()
        ]
        while state.ready < len(tokens):
            failed = [t for t in tasks if t.done()]
            if failed:
                conn.send(("failed", repr(failed[0].exception()), state.errors))
                return
            await asyncio.sleep(0.05)
        conn.send(("ready", None, []))
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            conn.send((state.arrivals, time.process_time(), state.errors))
            state.arrivals = []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    run_fast(run())


# -- the benchmark ---------------------------------------------------------------------


def split(tokens: dict[str, str], parts: int) -> list[dict[str, str]]:
    items = list(tokens.items())
    return [dict(items[i::parts]) for i in range(parts)]


def run(agents: int, rounds: int, mode: str, processes: int, compress: bool) -> dict[str, Any]:
    """One benchmark run; its figures."""
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="drago-propagation-"))
    nodes = write_mesh(tmp / "repo", agents)
    server = start_server(tmp / "data", "--max-wait", "60", repo=tmp / "repo")
    procs: list[tuple[mp.Process, multiprocessing.connection.Connection]] = []
    try:
        tokens = make_tokens(server, nodes)
        setup_started = time.monotonic()
        for part in split(tokens, processes):
            parent, child = mp.Pipe()
            proc = mp.Process(
                target=agents_main, args=(child, server.address, part, mode, compress)
            )
            proc.start()
            procs.append((proc, parent))
        for _, parent in procs:
            what, error, errors = parent.recv()
            assert what == "ready", (error, errors[:3])
        setup_s = time.monotonic() - setup_started
        latencies: list[float] = []
        receipts: list[float] = []
        lasts: list[float] = []
        wires: list[int] = []
        commits: list[float] = []
        fallbacks = full = missing = 0
        errors: list[str] = []
        cpu_clients = 0.0
        cpu_server = 0.0
        loads = [load_average()]
        clocks = {id(p): 0.0 for p, _ in procs}
        renders0 = render_totals(server)
        server.mark_profile()
        for _ in range(rounds):
            try:
                wait_held(server, agents)
            except RuntimeError:
                for _, parent in procs:
                    parent.send("report")
                    print("agents' errors:", parent.recv()[2][:5], file=sys.stderr)
                raise
            for proc, parent in procs:  # clear, and read the clients' CPU clocks
                parent.send("report")
                _, clocks[id(proc)], _ = parent.recv()
            cpu0 = cpu_seconds(server.proc.pid)
            started = time.monotonic()
            register_source_key(server)
            commits.append(time.monotonic() - started)
            deadline = time.monotonic() + 30
            got: dict[str, Arrival] = {}
            while len(got) < agents and time.monotonic() < deadline:
                time.sleep(0.05)
                for proc, parent in procs:
                    parent.send("report")
                    arrivals, clock, errs = parent.recv()
                    errors += errs
                    cpu_clients += clock - clocks[id(proc)]
                    clocks[id(proc)] = clock
                    for arrival in arrivals:
                        got.setdefault(arrival.node, arrival)
            cpu_server += cpu_seconds(server.proc.pid) - cpu0
            loads.append(load_average())
            missing += agents - len(got)
            latencies += [a.at - started for a in got.values()]
            receipts += [a.received - started for a in got.values()]
            if got:
                lasts.append(max(a.at for a in got.values()) - started)
            wires += [a.wire for a in got.values()]
            fallbacks += sum(a.fallbacks for a in got.values())
            full += sum(a.full for a in got.values())
        renders1 = render_totals(server)
        render_ms = (renders1[0] - renders0[0]) / max(1, renders1[1] - renders0[1]) * 1000
        for _, parent in procs:
            parent.send("stop")
        for proc, _ in procs:
            proc.join(10)
        return {
            "agents": agents,
            "mode": mode,
            "gzip": compress,
            "processes": processes,
            "rounds": rounds,
            "samples": len(latencies),
            "missing": missing,
            "errors": errors[:5],
            "setup_s": round(setup_s, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
            "last_agent_p50_ms": round(statistics.median(lasts) * 1000, 1),
            "last_agent_ms_by_round": [round(t * 1000) for t in lasts],
            "received_p50_ms": round(statistics.median(receipts) * 1000, 1),
            "received_p99_ms": round(percentile(receipts, 99) * 1000, 1),
            "api_commit_p50_ms": round(statistics.median(commits) * 1000, 1),
            "render_ms_mean": round(render_ms, 1),
            "wire_bytes_per_agent_p50": int(statistics.median(wires)),
            "wire_bytes_per_agent_max": max(wires),
            "full_answers": full,
            "delta_fallbacks": fallbacks,
            "server_cpu_ms_per_round": round(cpu_server / rounds * 1000, 1),
            "clients_cpu_ms_per_round": round(cpu_clients / rounds * 1000, 1),
            "load_average_min": min(loads),
            "load_average_max": max(loads),
        }
    finally:
        for proc, _ in procs:
            if proc.is_alive():
                proc.kill()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def render_totals(server: Server) -> tuple[float, float]:
    """The server's render time so far (seconds) and number of renders."""
    return metric(server, "drago_render_seconds_sum"), metric(server, "drago_render_seconds_count")


def wait_held(server: Server, agents: int, timeout: float = 30) -> None:
    """Until the server holds every agent's long-poll (each polls again after an answer)."""
    deadline = time.monotonic() + timeout
    while (held := metric(server, "drago_longpoll_waiters")) < agents:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the agents did not all poll again: {held:.0f} of {agents} held")
        time.sleep(0.05)


#: ``--suite``: (label, agents, mode, target).
SUITE = (
    ("1,000-node mesh, 999 agents, deltas", 999, "delta", "p99 < 300 ms; < 2 KB per agent"),
    ("1,000-node mesh, 999 agents, full configs", 999, "full", "(comparison)"),
    ("101-node mesh, 100 agents, deltas", 100, "delta", "p99 < 150 ms"),
)


def suite_table(results: list[tuple[str, str, dict[str, Any]]]) -> str:
    head = (
        "| run | p50 | p99 | answer read: p50 / p99 | last agent (p50 of rounds) "
        "| bytes per agent (p50 / max) "
        "| full answers / delta fallbacks | server CPU per round | clients CPU per round "
        "| API write p50 | render (mean) | load avg | target |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    rows = [
        f"| {label} | {r['p50_ms']:.0f} ms | {r['p99_ms']:.0f} ms "
        f"| {r['received_p50_ms']:.0f} / {r['received_p99_ms']:.0f} ms "
        f"| {r['last_agent_p50_ms']:.0f} ms "
        f"| {r['wire_bytes_per_agent_p50']:,} / {r['wire_bytes_per_agent_max']:,} "
        f"| {r['full_answers']} / {r['delta_fallbacks']} | {r['server_cpu_ms_per_round']:.0f} ms "
        f"| {r['clients_cpu_ms_per_round']:.0f} ms | {r['api_commit_p50_ms']:.0f} ms "
        f"| {r['render_ms_mean']:.0f} ms "
        f"| {r['load_average_min']:.1f}-{r['load_average_max']:.1f} | {target} |"
        for label, target, r in results
    ]
    return head + "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--mode", choices=("delta", "full"), default="delta")
    parser.add_argument("--processes", type=int, help="client processes (1 per 250 agents)")
    parser.add_argument("--no-gzip", action="store_true", help="no Accept-Encoding: gzip")
    parser.add_argument("--suite", action="store_true", help="the three issue 10 runs")
    parser.add_argument("--write", action="store_true", help="--suite: write docs/benchmarks.md")
    args = parser.parse_args()

    def processes(agents: int) -> int:
        return args.processes or max(1, -(-agents // 250))

    if not args.suite:
        result = run(args.agents, args.rounds, args.mode, processes(args.agents), not args.no_gzip)
        print(json.dumps(result, indent=2))
        return 0
    results = []
    for label, agents, mode, target in SUITE:
        result = run(agents, args.rounds, mode, processes(agents), not args.no_gzip)
        print(label, json.dumps(result, indent=2), flush=True)
        results.append((label, target, result))
    table = suite_table(results)
    print(table)
    if args.write:
        write_section("fleet", fleet_section(table, args.rounds))
    return 0


def fleet_section(table: str, rounds: int) -> str:
    command = f"python benchmarks/propagation.py --suite --rounds {rounds} --write"
    return f"""## Fleet propagation (`{command}`)

Each run: a full mesh of N agents' nodes plus `src`, one `drago server`, N simulated
agents (one node token each, keep-alive connections, `Accept-Encoding: gzip`) in
client processes of 250 agents each on the same machine. Each of {rounds} rounds
registers a new key for `src` through the API (one commit that changes all N
configs). Latency: from sending the write until the agent holds the new config;
with deltas, the agent applied the `226` answer to its parsed `NodeConfig` with
`drago.render.delta.apply_delta`, which checks the new hash (a refused delta
would be followed by a full fetch, counted). With full configs the agent only
JSON-decodes the document (the issue's starting measurement). "Answer read" is
the same up to the moment the agent has read the answer off the socket, before
decoding, applying and checking it: the agents' own CPU (which on a real fleet
each node spends on its own CPU) is left out. Bytes: received
per agent per round (status line, headers and body as sent). Server CPU: the
server process's CPU time from the write until the last agent has its config;
clients CPU: the same for all client processes, which share the 2 CPUs with the
server. Render: the server's own mean time from a revision being accepted to its
configs being served (`drago_render_seconds`), part of every latency.

{table}

Machine: {machine()}; load average as sampled before each round (min-max).
"""


if __name__ == "__main__":
    sys.exit(main())
