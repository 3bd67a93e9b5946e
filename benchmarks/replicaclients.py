"""The client processes of ``replicas.py``: a watcher of the replicas' live revision,
and an idle fleet of long-polls that connects again when the server drops a connection.

Each runs in a process of its own (``multiprocessing``) on uvloop when installed, and
talks to the benchmark over a pipe.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing.connection
import random
import time
from dataclasses import dataclass, field

from benchmarks.fleet import Connection, raise_fd_limit, run_fast

Pipe = multiprocessing.connection.Connection


# -- the live revision of every replica --------------------------------------------------


def watch_main(conn: Pipe, replicas: list[tuple[str, tuple[str, int]]], token: str) -> None:
    """Long-poll every replica's live revision until told to stop; hand over
    ``(replica, seen at, revision)`` for every change seen."""

    async def one(name: str, address: tuple[str, int], seen: list[tuple[str, float, str]]) -> None:
        http = await Connection.open(address)
        headers = {"Authorization": f"Bearer {token}"}
        tag = ""
        while True:
            answer = await http.get("/api/v1/live?wait=5", {**headers, "If-None-Match": tag})
            if answer.status == 200:
                at = time.monotonic()
                seen.append((name, at, json.loads(answer.body)["revision"]))
                tag = answer.headers["etag"]

    async def run() -> None:
        seen: list[tuple[str, float, str]] = []
        tasks = [asyncio.create_task(one(name, addr, seen)) for name, addr in replicas]
        await asyncio.sleep(1.0)  # each has read the current revision
        conn.send("ready")
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, conn.recv)
        failed = [repr(t.exception()) for t in tasks if t.done() and not t.cancelled()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        conn.send((seen, failed))

    run_fast(run())


# -- the idle fleet ----------------------------------------------------------------------


@dataclass
class Held:
    """What one fleet client process saw."""

    sent: int = 0
    answered: list[float] = field(default_factory=list)  # when each answer was read
    statuses: dict[int, int] = field(default_factory=dict)
    reconnects: int = 0


async def _hold(
    address: tuple[str, int],
    path: str,
    headers: dict[str, str],
    gate: asyncio.Semaphore,
    held: Held,
) -> None:
    """One long-poll, held until answered; a connection the server dropped (a full
    listen queue, a reset) is made again after a pause, as an agent would."""
    first = True
    while True:
        try:
            async with gate:
                conn = await Connection.open(address)
                conn.send(path, headers)
                await conn.writer.drain()
                if first:
                    held.sent += 1
                    first = False
            answer = await conn.answer()
        except (OSError, asyncio.IncompleteReadError):
            held.reconnects += 1
            await asyncio.sleep(random.uniform(0.5, 1.5))
            continue
        held.answered.append(time.monotonic())
        held.statuses[answer.status] = held.statuses.get(answer.status, 0) + 1
        conn.close()
        return


def fleet_client_main(
    conn: Pipe,
    address: tuple[str, int],
    token: str,
    etags: list[tuple[str, str]],
    count: int,
    first: int,
) -> None:
    """Hold ``count`` long-polls (the i-th on node ``(first + i) % len(etags)``, asking
    for deltas as agents do); say "connected" once all are sent, then hand over
    what :class:`Held` saw once every one is answered."""
    raise_fd_limit()
    base = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip", "A-IM": "drago-delta"}

    async def run() -> None:
        gate = asyncio.Semaphore(200)
        held = Held()
        tasks = []
        for i in range(count):
            node, etag = etags[(first + i) % len(etags)]
            path = f"/api/v1/nodes/{node}/config?wait=3000"
            headers = {**base, "If-None-Match": etag}
            tasks.append(asyncio.create_task(_hold(address, path, headers, gate, held)))
        while held.sent < count:
            await asyncio.sleep(0.05)
        conn.send("connected")
        results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [repr(r) for r in results if isinstance(r, BaseException)]
        conn.send((held, errors[:5], len(errors)))

    run_fast(run())
