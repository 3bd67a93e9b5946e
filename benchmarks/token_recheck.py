"""Re-checking the tokens of long-polls that one commit wakes at once.

Run ``python benchmarks/token_recheck.py [--woken 999 10000] [--repeat 3]``. It
creates that many node tokens in a temporary runtime database, holds one task
per token on an event, wakes them all, and times until every task knows its
token is still valid through :class:`drago.server.recheck.TokenRecheck` (one
batched look-up per moment); then the same number of one-thread-hop-each
``authenticate`` calls for comparison. Prints the figures (not written to a doc).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import anyio
import anyio.to_thread

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drago.server.endpoint import Role  # noqa: E402
from drago.server.recheck import TokenRecheck  # noqa: E402
from drago.server.runtime.db import Database  # noqa: E402
from drago.server.runtime.tokens import SqliteTokenStore  # noqa: E402


async def batched(store: SqliteTokenStore, ids: list[str]) -> float:
    recheck = TokenRecheck(store)
    woken = anyio.Event()

    async def held(token_id: str) -> None:
        await woken.wait()
        assert await recheck.valid(token_id)

    async with anyio.create_task_group() as tg:
        for token_id in ids:
            tg.start_soon(held, token_id)
        await anyio.sleep(0.2)
        started = time.perf_counter()
        woken.set()
    return time.perf_counter() - started


async def one_hop_each(store: SqliteTokenStore, secrets: list[str]) -> float:
    started = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for secret in secrets:
            tg.start_soon(anyio.to_thread.run_sync, store.authenticate, secret)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--woken", type=int, nargs="+", default=[999, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteTokenStore(Database(Path(tmp) / "runtime.sqlite"))
        made = [store.create(Role.node, node=f"n{i}") for i in range(max(args.woken))]
        for n in args.woken:
            ids = [info.id for info, _ in made[:n]]
            secrets = [secret for _, secret in made[:n]]
            for _ in range(args.repeat):
                together = anyio.run(batched, store, ids)
                apart = anyio.run(one_hop_each, store, secrets)
                print(
                    f"{n} woken: batched re-check {together * 1000:.0f} ms,"
                    f" one thread hop each {apart * 1000:.0f} ms"
                )


if __name__ == "__main__":
    main()
