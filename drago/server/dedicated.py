"""One thread of its own for a kind of work, awaited from the event loop.

Renders run here rather than on AnyIO's worker pool. A render of a large mesh
allocates tens of megabytes of peer lists (a 1,000-node full mesh: about
16 MB), and glibc gives each thread its own malloc arena: renders spread over
the pool's threads grew a new arena's heap each time (page faults, 20-70 ms of
system time per render, and a resident size that kept growing), where one
thread reuses the memory that the render it replaced gave back
(``benchmarks/propagation.py --agents 999``; docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

import anyio

P = ParamSpec("P")
T = TypeVar("T")


class DedicatedThread:
    """``await thread.run(fn, *args)``: ``fn(*args)`` on this object's one thread,
    in the order called. A call that started is never interrupted: cancelling
    the caller, once or again and again, waits for it to finish first (so a
    server that stops never closes what a render still reads). A call still
    queued when the thread is closed raises RuntimeError."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._closed:
            raise RuntimeError(f"the {self._name} thread is closed")
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix=self._name)
        call = self._pool.submit(fn, *args, **kwargs)
        done = asyncio.wrap_future(call)
        try:
            return await asyncio.shield(done)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if call.cancelled() and (task is None or not task.cancelling()):
                raise RuntimeError(f"the {self._name} thread closed before the call ran") from None
            if not call.cancel():  # running: it finishes before the cancellation goes on
                await _finished(done)
            raise

    def close(self) -> None:
        """No new calls; the thread ends after the call it runs, if any (calls
        still queued raise RuntimeError)."""
        self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


async def _finished(done: asyncio.Future[Any]) -> None:
    """Wait until ``done`` is done, whatever cancels the waiting task meanwhile
    (anyio delivers a cancel again and again; a plain task may be cancelled
    twice); its outcome is read (the caller is gone: no log line about it)."""
    while not done.done():
        try:
            with anyio.CancelScope(shield=True):
                await asyncio.wait([done])
        except asyncio.CancelledError:
            continue
    if not done.cancelled():
        done.exception()
