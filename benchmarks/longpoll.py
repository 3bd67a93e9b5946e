"""Held long-polls: N clients hold ``GET /api/v1/nodes/{node}/config?wait=`` open.

Builds a full mesh of ``--nodes`` nodes plus one node ``src`` (every other node
peers with ``src``), starts ``drago server`` on it, and opens N long-polls spread
evenly over the nodes from ``--client-processes`` separate client processes (raw
asyncio sockets on uvloop, so the clients stay cheap), each with the node's
current hash, ``Accept-Encoding: gzip`` and, with ``--mode delta`` (the
default, as agents ask since issue 10), ``A-IM: drago-delta``. Once the server
holds them all (``drago_longpoll_waiters``) it measures the server process while
idle: resident memory (RSS) and CPU time. Then it registers a new key for
``src`` (one commit that changes every polled node's config) and measures how
long until every held request has its whole answer (200 or 226) read.

    python benchmarks/longpoll.py [--clients 10000] [--nodes 100] [--idle 20] [--write]

``--write`` puts the figures into the ``bench:longpoll`` section of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import multiprocessing.connection
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.fleet import (
    Connection,
    cpu_seconds,
    cpu_split,
    load_average,
    metric,
    raise_fd_limit,
    register_source_key,
    request,
    rss_kib,
    run_fast,
    start_server,
    write_mesh,
)
from benchmarks.report import machine, write_section

# -- the client processes ----------------------------------------------------------


@dataclass
class Tally:
    sent: int = 0
    answered: list[float] = field(default_factory=list)  # when each answer was read
    wire: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def _hold(
    address: tuple[str, int],
    path: str,
    headers: dict[str, str],
    gate: asyncio.Semaphore,
    tally: Tally,
) -> None:
    async with gate:
        conn = await Connection.open(address)
        conn.send(path, headers)
        await conn.writer.drain()
        tally.sent += 1
    answer = await conn.answer()
    tally.answered.append(time.monotonic())
    tally.wire += answer.wire
    tally.statuses[answer.status] = tally.statuses.get(answer.status, 0) + 1
    conn.close()


def client_main(
    conn: multiprocessing.connection.Connection,
    address: tuple[str, int],
    token: str,
    etags: list[tuple[str, str]],
    count: int,
    first: int,
    delta: bool,
) -> None:
    """Open ``count`` long-polls (the i-th on node ``(first + i) % len(etags)``),
    report "connected", then the answers."""
    raise_fd_limit()
    base = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    if delta:
        base["A-IM"] = "drago-delta"

    async def run() -> None:
        gate = asyncio.Semaphore(200)
        tally = Tally()
        tasks = []
        for i in range(count):
            node, etag = etags[(first + i) % len(etags)]
            path = f"/api/v1/nodes/{node}/config?wait=3000"
            headers = {**base, "If-None-Match": etag}
            tasks.append(asyncio.create_task(_hold(address, path, headers, gate, tally)))
        while tally.sent < count:
            await asyncio.sleep(0.05)
        conn.send("connected")
        cpu = time.process_time()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [repr(r) for r in results if isinstance(r, BaseException)]
        conn.send((tally, errors[:5], len(errors), time.process_time() - cpu))

    run_fast(run())


# -- the benchmark -----------------------------------------------------------------


def run(clients: int, nodes: int, idle: float, processes: int, delta: bool) -> dict[str, Any]:
    limit = raise_fd_limit()
    if limit < clients + 500:
        raise SystemExit(f"open-file limit {limit} is too low for {clients} clients")
    tmp = Path(tempfile.mkdtemp(prefix="drago-longpoll-"))
    names = write_mesh(tmp / "repo", nodes)
    server = start_server(tmp / "data", "--max-wait", "3600", repo=tmp / "repo")
    procs: list[tuple[mp.Process, multiprocessing.connection.Connection]] = []
    try:
        etags = []
        for node in names:
            _, headers, _ = request(server, "GET", f"/api/v1/nodes/{node}/config")
            etags.append((node, headers["etag"]))
        pid = server.proc.pid
        base_rss = rss_kib(pid)
        started = time.monotonic()
        share = -(-clients // processes)
        for first in range(0, clients, share):
            parent, child = mp.Pipe()
            count = min(share, clients - first)
            args = (child, server.address, server.token, etags, count, first, delta)
            proc = mp.Process(target=client_main, args=args)
            proc.start()
            procs.append((proc, parent))
        for _, parent in procs:
            assert parent.recv() == "connected"
        while metric(server, "drago_longpoll_waiters") < clients:
            time.sleep(0.2)
        connect_s = time.monotonic() - started
        time.sleep(1.0)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(idle)
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        held_rss = rss_kib(pid)
        waiters = metric(server, "drago_longpoll_waiters")
        load = load_average()
        server.mark_profile()
        cpu2 = cpu_seconds(pid)
        system2 = cpu_split(pid)[1]
        woke_at = time.monotonic()
        status = register_source_key(server)
        commit_s = time.monotonic() - woke_at
        answered: list[float] = []
        statuses: dict[int, int] = {}
        wire = failed = 0
        client_cpu = 0.0
        errors: list[str] = []
        for _, parent in procs:
            tally, errs, nerrs, cpu = parent.recv()
            answered += tally.answered
            wire += tally.wire
            for code, n in tally.statuses.items():
                statuses[code] = statuses.get(code, 0) + n
            errors += errs
            failed += nerrs
            client_cpu += cpu
        wake_cpu = cpu_seconds(pid) - cpu2
        wake_system = cpu_split(pid)[1] - system2
        for proc, _ in procs:
            proc.join(30)
        return {
            "clients": clients,
            "nodes": nodes,
            "mode": "delta" if delta else "full",
            "client_processes": processes,
            "held": int(waiters),
            "connect_s": round(connect_s, 1),
            "rss_idle_mib": round(base_rss / 1024, 1),
            "rss_held_mib": round(held_rss / 1024, 1),
            "kib_per_poll": round((held_rss - base_rss) / max(clients, 1), 1),
            "idle_cpu_percent": round(100 * (cpu1 - cpu0) / (t1 - t0), 2),
            "commit_status": status,
            "commit_s": round(commit_s, 3),
            "last_answer_s": round(max(answered) - woke_at, 2) if answered else None,
            "first_answer_s": round(min(answered) - woke_at, 3) if answered else None,
            "wake_server_cpu_s": round(wake_cpu, 2),
            "wake_server_system_s": round(wake_system, 2),
            "wake_clients_cpu_s": round(client_cpu, 2),
            "answered": len(answered),
            "statuses": statuses,
            "wire_bytes_per_answer": round(wire / max(len(answered), 1)),
            "errors": failed,
            "error_samples": errors,
            "load_average": load,
        }
    finally:
        for proc, _ in procs:
            if proc.is_alive():
                proc.kill()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def section(r: dict[str, Any], idle: float) -> str:
    clients, nodes = r["clients"], r["nodes"]
    command = f"python benchmarks/longpoll.py --clients {clients} --nodes {nodes} --idle {idle:g}"
    statuses = ", ".join(f"{n:,} x {code}" for code, n in sorted(r["statuses"].items()))
    asks = "`Accept-Encoding: gzip`" + (", `A-IM: drago-delta`" if r["mode"] == "delta" else "")
    rows = [
        ("RSS before the clients", f"{r['rss_idle_mib']} MiB", "-"),
        (
            f"RSS with {clients:,} held long-polls",
            f"{r['rss_held_mib']} MiB ({r['kib_per_poll']} KiB each)",
            "< 300 MiB",
        ),
        (
            f"server CPU while holding them, {idle:g} s window",
            f"{r['idle_cpu_percent']} %",
            "near zero",
        ),
        (
            f"one commit changing all {nodes} configs: last answer read",
            f"{r['last_answer_s']} s (first {r['first_answer_s']} s)",
            "< 1 s",
        ),
        (
            "... server CPU for it (of which system: sockets)",
            f"{r['wake_server_cpu_s']} s ({r['wake_server_system_s']} s)",
            "-",
        ),
        ("... clients' CPU for it", f"{r['wake_clients_cpu_s']} s", "-"),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return f"""## Held long-polls (`{command} --write`)

One `drago server` on a full mesh of {nodes} nodes plus `src`; {clients:,} long-polls
(`If-None-Match` + `?wait=3000`, {asks}), {clients // nodes} per node, opened from
{r["client_processes"]} client processes (raw asyncio sockets on uvloop); RSS and CPU
time of the server read from `/proc` once `drago_longpoll_waiters` reports all of them
held. Then one key registration for `src` changes all {nodes} configs and wakes every
waiter; "last answer" is from sending that write until the clients have read every
whole answer ({statuses}; {r["wire_bytes_per_answer"]:,} bytes each on average).

| measure | result | target |
| --- | --- | --- |
{table}

Machine: {machine()}; load average {r["load_average"]} before the commit.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle measurement")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--mode", choices=("delta", "full"), default="delta")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()
    result = run(args.clients, args.nodes, args.idle, args.client_processes, args.mode == "delta")
    print(json.dumps(result, indent=2))
    if args.write:
        write_section("longpoll", section(result, args.idle))
    return 0


if __name__ == "__main__":
    sys.exit(main())
