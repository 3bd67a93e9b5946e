"""Replicas (issue 11): a primary and ``--replicas`` replicas of it on one machine.

One throwaway PostgreSQL (``tests/support/postgres.py``) holds the runtime state
that every server shares; the primary (``drago server --database``) serves a full
mesh of ``--agents`` nodes plus ``src`` (``benchmarks/fleet.py``), and each replica
(``--replica-of``) mirrors it over smart HTTP. Three measures, in this order; the
first two with one replica, then the other replicas start, the lag is measured
again with all of them, and the idle fleet is spread over every server:

1. **Commit -> agents on a replica** (``--agents``, ``--rounds``): one simulated
   agent per node (``propagation.py``'s agents: delta mode, gzip, one node token
   each) long-polls the first replica; each round registers a new key for ``src``
   on the *primary* (one commit changing every agent's config). Latency = from
   sending the write to the primary until the agent on the replica holds (and
   checked) its new config: the primary's commit, the replication and the
   replica's answer.
2. **Replication lag under a commit rate** (``--rate`` commits per second for
   ``--lag-seconds``): key registrations on the primary, paced; a watcher process
   long-polls every replica's ``GET /api/v1/live`` (``If-None-Match``). Lag of a
   commit on a replica = from the primary's answer to the write until that
   replica first serves that revision or a later one.
3. **Idle fleet** (``--clients`` long-polls spread evenly over all servers,
   ``--idle`` seconds): client processes hold them with ``?wait=3000`` (as
   ``longpoll.py``'s, but a connection the server dropped is made again); once
   every server's ``drago_longpoll_waiters`` has its share, the servers' RSS and
   CPU time are read from ``/proc``; then one key registration for ``src`` on the
   primary changes every node's config and wakes every waiter on every server:
   the time until the clients read the last answer.

    python benchmarks/replicas.py [--replicas 4] [--agents 100] [--rounds 20] \\
        [--rate 10] [--lag-seconds 30] [--clients 50000] [--idle 20] [--write]

``--clients 0`` skips the idle fleet. ``--write`` puts the figures into the
``bench:replicas`` section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import multiprocessing.connection
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.fleet import (
    ENTRY,
    MESH,
    PROFILED,
    SOURCE,
    Server,
    cpu_seconds,
    load_average,
    make_tokens,
    metric,
    percentile,
    raise_fd_limit,
    random_key,
    request,
    rss_kib,
    start_server,
    write_mesh,
)
from benchmarks.propagation import Arrival, agents_main, split, wait_held
from benchmarks.replicaclients import Held, fleet_client_main, watch_main
from benchmarks.report import machine, write_section
from tests.support.postgres import start_cluster

Pipe = multiprocessing.connection.Connection
#: Longest long-poll the servers hold (the idle clients ask for 3000 s).
MAX_WAIT = "3600"


# -- the servers -------------------------------------------------------------------------


@dataclass
class Replica(Server):
    """A replica: it has no bootstrap token of its own, the primary's admin token serves."""

    admin: str = ""

    @property
    def token(self) -> str:
        return self.admin


def start_replica(data: Path, primary: Server, database: str) -> Replica:
    """``drago server --replica-of`` the primary on ``data``, on a free loopback port
    (under ``profiled.py`` with ``DRAGO_BENCH_PROFILE=FILE``: into ``FILE.DATA-NAME``)."""
    args = ["server", "--data", str(data), "--listen", "127.0.0.1:0", "--database", database]
    args += ["--replica-of", primary.url, "--max-wait", MAX_WAIT]
    profile = os.environ.get("DRAGO_BENCH_PROFILE")
    if profile:  # as fleet.start_server: the replica's statistics go to FILE.rN
        cmd = [sys.executable, str(PROFILED), f"{profile}.{data.name}", *args]
    else:
        cmd = [sys.executable, "-c", ENTRY, *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"listening on (http\S+)", line)
        if found:
            return Replica(proc, found.group(1), data, admin=primary.token)
    proc.wait()
    raise RuntimeError("the replica did not start")


def live_revision(server: Server) -> str | None:
    _, _, body = request(server, "GET", "/healthz")
    revision: str | None = json.loads(body)["revision"]
    return revision


def wait_in_step(primary: Server, replicas: list[Replica], timeout: float = 60) -> None:
    """Until every replica serves the primary's live revision."""
    deadline = time.monotonic() + timeout
    want = live_revision(primary)
    while any(live_revision(r) != want for r in replicas):
        if time.monotonic() > deadline:
            raise RuntimeError("the replicas did not catch up with the primary")
        time.sleep(0.1)


def commit(primary: Server) -> str:
    """Register a new key for ``src`` on the primary (every node's config changes);
    the new live revision."""
    status, _, body = request(
        primary, "PUT", f"/api/v1/nodes/{SOURCE}/keys/{MESH}", {"public_key": random_key()}
    )
    assert status == 200, body
    revision: str = json.loads(body)["revision"]
    return revision


# -- 1. commit on the primary -> agents on a replica -------------------------------------


def follow(
    primary: Server, replica: Replica, tokens: dict[str, str], rounds: int, processes: int
) -> dict[str, Any]:
    agents = len(tokens)
    procs: list[tuple[mp.Process, Pipe]] = []
    try:
        for part in split(tokens, processes):
            parent, child = mp.Pipe()
            args = (child, replica.address, part, "delta", True)
            proc = mp.Process(target=agents_main, args=args)
            proc.start()
            procs.append((proc, parent))
        for _, parent in procs:
            what, error, errors = parent.recv()
            assert what == "ready", (error, errors[:3])
        latencies: list[float] = []
        lasts: list[float] = []
        writes: list[float] = []
        loads = [load_average()]
        missing = 0
        errors = []
        for _ in range(rounds):
            wait_held(replica, agents)
            for _, parent in procs:  # drop what arrived before this round
                parent.send("report")
                parent.recv()
            started = time.monotonic()
            commit(primary)
            writes.append(time.monotonic() - started)
            deadline = time.monotonic() + 30
            got: dict[str, Arrival] = {}
            while len(got) < agents and time.monotonic() < deadline:
                time.sleep(0.05)
                for _, parent in procs:
                    parent.send("report")
                    arrivals, _, errs = parent.recv()
                    errors += errs
                    for arrival in arrivals:
                        got.setdefault(arrival.node, arrival)
            loads.append(load_average())
            missing += agents - len(got)
            latencies += [a.at - started for a in got.values()]
            if got:
                lasts.append(max(a.at for a in got.values()) - started)
        for _, parent in procs:
            parent.send("stop")
        for proc, _ in procs:
            proc.join(10)
        return {
            "agents": agents,
            "rounds": rounds,
            "samples": len(latencies),
            "missing": missing,
            "errors": errors[:5],
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
            "last_agent_p50_ms": round(statistics.median(lasts) * 1000, 1),
            "primary_write_p50_ms": round(statistics.median(writes) * 1000, 1),
            "load_average_min": min(loads),
            "load_average_max": max(loads),
        }
    finally:
        for proc, _ in procs:
            if proc.is_alive():
                proc.kill()


# -- 2. replication lag under a commit rate ----------------------------------------------


def lag(primary: Server, replicas: list[Replica], rate: float, seconds: float) -> dict[str, Any]:
    names = {f"r{i + 1}": r for i, r in enumerate(replicas)}
    parent, child = mp.Pipe()
    watched = [(name, r.address) for name, r in names.items()]
    proc = mp.Process(target=watch_main, args=(child, watched, primary.token))
    proc.start()
    try:
        assert parent.recv() == "ready"
        load_before = load_average()
        commits: list[tuple[str, float]] = []  # (revision, answered at), in order
        writes: list[float] = []
        started = time.monotonic()
        count = int(rate * seconds)
        for i in range(count):
            due = started + i / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            sent = time.monotonic()
            revision = commit(primary)
            answered = time.monotonic()
            writes.append(answered - sent)
            commits.append((revision, answered))
        achieved = count / (time.monotonic() - started)
        load_after = load_average()
        time.sleep(2.0)  # the last commits reach every replica
        parent.send("stop")
        seen, failed = parent.recv()
        proc.join(10)
    finally:
        if proc.is_alive():
            proc.kill()
    order = {revision: i for i, (revision, _) in enumerate(commits)}
    lags: dict[str, list[float]] = {name: [] for name in names}
    unseen = 0
    for name in names:
        covered = [(at, order[rev]) for n, at, rev in seen if n == name and rev in order]
        for i, (_, answered) in enumerate(commits):
            first = next((at for at, upto in covered if upto >= i), None)
            if first is None:
                unseen += 1
            else:
                lags[name].append(first - answered)
    every = [x for values in lags.values() for x in values]
    return {
        "replicas": len(replicas),
        "rate_asked": rate,
        "rate_achieved": round(achieved, 2),
        "commits": len(commits),
        "samples": len(every),
        "unseen": unseen,
        "watch_errors": failed,
        "p50_ms": round(statistics.median(every) * 1000, 1),
        "p99_ms": round(percentile(every, 99) * 1000, 1),
        "max_ms": round(max(every) * 1000, 1),
        "p99_ms_per_replica": {
            name: round(percentile(values, 99) * 1000, 1) for name, values in lags.items()
        },
        "primary_write_p50_ms": round(statistics.median(writes) * 1000, 1),
        "primary_write_p99_ms": round(percentile(writes, 99) * 1000, 1),
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


# -- 3. the idle fleet -------------------------------------------------------------------


def fleet(
    primary: Server,
    replicas: list[Replica],
    etags: list[tuple[str, str]],
    clients: int,
    idle: float,
) -> dict[str, Any]:
    servers: list[Server] = [primary, *replicas]
    share = clients // len(servers)
    per_process = 5000
    before = {s.proc.pid: rss_kib(s.proc.pid) for s in servers}
    procs: list[tuple[mp.Process, Pipe, int]] = []  # (process, pipe, server index)
    try:
        started = time.monotonic()
        for index, server in enumerate(servers):
            for first in range(0, share, per_process):
                count = min(per_process, share - first)
                parent, child = mp.Pipe()
                args = (child, server.address, primary.token, etags, count, first)
                proc = mp.Process(target=fleet_client_main, args=args)
                proc.start()
                procs.append((proc, parent, index))
        for _, parent, _ in procs:
            assert parent.recv() == "connected"
        held = [0.0] * len(servers)
        deadline = time.monotonic() + 300
        while True:
            held = [metric(s, "drago_longpoll_waiters") for s in servers]
            if all(h >= share for h in held) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        connect_s = time.monotonic() - started
        time.sleep(2.0)
        cpu0 = {s.proc.pid: cpu_seconds(s.proc.pid) for s in servers}
        t0 = time.monotonic()
        time.sleep(idle)
        window = time.monotonic() - t0
        cpu = {s.proc.pid: cpu_seconds(s.proc.pid) - cpu0[s.proc.pid] for s in servers}
        rss = {s.proc.pid: rss_kib(s.proc.pid) for s in servers}
        held = [metric(s, "drago_longpoll_waiters") for s in servers]
        load = load_average()
        woke_at = time.monotonic()
        commit(primary)
        write_s = time.monotonic() - woke_at
        lasts = [0.0] * len(servers)
        answered = failed = reconnects = 0
        statuses: dict[int, int] = {}
        samples: list[str] = []
        for _, parent, index in procs:
            seen: Held
            seen, errs, nerrs = parent.recv()
            answered += len(seen.answered)
            reconnects += seen.reconnects
            if seen.answered:
                lasts[index] = max(lasts[index], max(seen.answered) - woke_at)
            for code, n in seen.statuses.items():
                statuses[code] = statuses.get(code, 0) + n
            failed += nerrs
            samples += errs
        for proc, _, _ in procs:
            proc.join(30)
        pids = [s.proc.pid for s in servers]
        return {
            "clients": clients,
            "servers": len(servers),
            "held": [int(h) for h in held],
            "connect_s": round(connect_s, 1),
            "rss_before_mib": [round(before[p] / 1024, 1) for p in pids],
            "rss_held_mib": [round(rss[p] / 1024, 1) for p in pids],
            "rss_total_mib": round(sum(rss.values()) / 1024, 1),
            "idle_window_s": round(window, 1),
            "idle_cpu_percent": [round(100 * cpu[p] / window, 2) for p in pids],
            "idle_cpu_percent_total": round(100 * sum(cpu.values()) / window, 2),
            "primary_write_ms": round(write_s * 1000, 1),
            "answered": answered,
            "statuses": statuses,
            "last_answer_s": [round(x, 2) for x in lasts],
            "reconnects": reconnects,
            "errors": failed,
            "error_samples": samples[:5],
            "load_average": load,
        }
    finally:
        for proc, _, _ in procs:
            if proc.is_alive():
                proc.kill()


# -- the run -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    limit = raise_fd_limit()  # the servers inherit it
    if limit < args.clients // (args.replicas + 1) + 500:
        raise SystemExit(f"open-file limit {limit} is too low for {args.clients} clients")
    tmp = Path(tempfile.mkdtemp(prefix="drago-replicas-"))
    result: dict[str, Any] = {}
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, True)
        cluster = stack.enter_context(start_cluster(max_connections=300))
        database = cluster.create_database()
        nodes = write_mesh(tmp / "repo", args.agents)
        primary = start_server(
            tmp / "primary", "--database", database, "--max-wait", MAX_WAIT, repo=tmp / "repo"
        )
        stack.callback(primary.stop)
        replicas = [start_replica(tmp / "r1", primary, database)]
        stack.callback(replicas[0].stop)
        wait_in_step(primary, replicas)
        tokens = make_tokens(primary, nodes)
        result["follow"] = follow(primary, replicas[0], tokens, args.rounds, args.processes)
        print(json.dumps(result["follow"]), flush=True)
        result["lag"] = [lag(primary, replicas, args.rate, args.lag_seconds)]
        print(json.dumps(result["lag"][-1]), flush=True)
        for i in range(1, args.replicas):
            replica = start_replica(tmp / f"r{i + 1}", primary, database)
            stack.callback(replica.stop)
            replicas.append(replica)
        if len(replicas) > 1:
            wait_in_step(primary, replicas)
            result["lag"].append(lag(primary, replicas, args.rate, args.lag_seconds))
            print(json.dumps(result["lag"][-1]), flush=True)
        if args.clients:
            wait_in_step(primary, replicas)
            etags = []
            for node in nodes:
                _, headers, _ = request(primary, "GET", f"/api/v1/nodes/{node}/config")
                etags.append((node, headers["etag"]))
            result["fleet"] = fleet(primary, replicas, etags, args.clients, args.idle)
            print(json.dumps(result["fleet"]), flush=True)
    return result


def section(r: dict[str, Any], args: argparse.Namespace) -> str:
    f = r["follow"]
    n = args.replicas
    command = (
        f"python benchmarks/replicas.py --replicas {n} --agents {args.agents} "
        f"--rounds {args.rounds} --rate {args.rate:g} --lag-seconds {args.lag_seconds:g} "
        f"--clients {args.clients} --idle {args.idle:g} --write"
    )
    rows = [
        (
            f"commit on the primary -> {f['agents']} agents on a replica hold it "
            f"({f['rounds']} rounds, {f['samples']:,} samples; 1 replica)",
            f"p50 {f['p50_ms']:.0f} ms, p99 {f['p99_ms']:.0f} ms, max {f['max_ms']:.0f} ms "
            f"(write on the primary p50 {f['primary_write_p50_ms']:.0f} ms; "
            f"load {f['load_average_min']}-{f['load_average_max']})",
            "p99 < 1 s",
        ),
    ]
    for g in r["lag"]:
        per_replica = ", ".join(f"{k} {v:.0f}" for k, v in g["p99_ms_per_replica"].items())
        rows.append(
            (
                f"replication lag, {g['replicas']} replica(s), {g['rate_asked']:g} commits/s "
                f"asked, {g['rate_achieved']:g} made ({g['commits']} commits)",
                f"p50 {g['p50_ms']:.0f} ms, p99 {g['p99_ms']:.0f} ms, max {g['max_ms']:.0f} ms "
                f"(p99 per replica {per_replica} ms; {g['unseen']} never seen; write on the "
                f"primary p50 {g['primary_write_p50_ms']:.0f} ms; load "
                f"{g['load_average_before']} before, {g['load_average_after']} after)",
                "p99 < 500 ms",
            )
        )
    fleet_text = ""
    if "fleet" in r:
        b = r["fleet"]
        rows += [
            (
                f"{b['clients']:,} idle long-polls over {b['servers']} servers: held",
                f"{sum(b['held']):,} ({', '.join(f'{h:,}' for h in b['held'])}); "
                f"all held after {b['connect_s']} s",
                "all",
            ),
            (
                "... total RSS of the servers",
                f"{b['rss_total_mib']:,.0f} MiB "
                f"({', '.join(f'{x:.0f}' for x in b['rss_held_mib'])} MiB; before the clients "
                f"{', '.join(f'{x:.0f}' for x in b['rss_before_mib'])} MiB)",
                "< 1.5 GB",
            ),
            (
                f"... servers' CPU while idle ({b['idle_window_s']:g} s window)",
                f"{b['idle_cpu_percent_total']} % of one CPU in total "
                f"({', '.join(str(x) for x in b['idle_cpu_percent'])} %; load {b['load_average']})",
                "near zero",
            ),
            (
                f"... one commit changing all {args.agents} nodes' configs: last answer read",
                f"{max(b['last_answer_s'])} s ({b['answered']:,} answers; per server "
                f"{', '.join(str(x) for x in b['last_answer_s'])} s)",
                "reported",
            ),
        ]
        fleet_text = f"""
**Idle fleet**: {b["clients"]:,} long-polls (`?wait=3000`, `If-None-Match`, gzip and
`A-IM: drago-delta`), {b["clients"] // b["servers"]:,} per server, 100 per node and
server, held by client processes (raw asyncio sockets on uvloop, 5,000 each; a
connection the server dropped while the fleet connects, e.g. on a full listen queue,
is made again after a pause: {b["reconnects"]} times); RSS and CPU time of the servers
(primary first) from `/proc`. Then one key registration for `src` on the primary wakes
them all: the time is from sending it until the clients have read every answer, on
every server (errors: {b["errors"]}).
"""
    table = "\n".join(f"| {a} | {b_} | {c} |" for a, b_, c in rows)
    return f"""## Replicas (`{command}`)

One throwaway PostgreSQL (`tests/support/postgres.py`, `fsync=off`) shared by a
primary (`drago server --database`) and its replicas (`--replica-of` the primary,
over loopback), all on this machine with the clients; a full mesh of {args.agents}
nodes plus `src`. Every commit is a key registration for `src` through the
primary's API, which changes every node's config. The first two measures run with
one replica; then the {n - 1} others start, the lag is measured again with all
{n}, and the idle fleet is spread over all {n + 1} servers.

**Commit -> agents on a replica**: `propagation.py`'s agents (delta mode, gzip, one
node token each) long-poll the first replica; latency is from sending the write to
the primary until an agent holds its new config (the primary's commit, the
replication and the replica's answer included).

**Replication lag**: commits paced at {args.rate:g} per second for
{args.lag_seconds:g} s (back to back when the primary falls behind: the rate made
is reported); a watcher long-polls every replica's `GET /api/v1/live`; the lag of
a commit is from the primary's answer to the write until a replica first serves
that revision or a later one.
{fleet_text}
| measure | result | target |
| --- | --- | --- |
{table}

Machine: {machine()}; the load averages are the machine's (other work included).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--processes", type=int, default=1, help="agents' client processes")
    parser.add_argument("--rate", type=float, default=10.0, help="commits per second")
    parser.add_argument("--lag-seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=50_000, help="idle long-polls (0: none)")
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle measurement")
    parser.add_argument("--write", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, indent=2))
    if args.write:
        write_section("replicas", section(result, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
