"""Turns for git work: its own few worker threads, never the pool the API needs.

A git request (ref advertisement, clone and fetch, push) runs dulwich in a
worker thread for as long as its client sends the body and reads the answer.
Those threads would otherwise come from anyio's default pool (40 threads),
which token checks, commits and rendering share: 40 clients that stall would
freeze every authenticated request. :class:`GitTurns` gives git work a pool of
its own, ``git_concurrency`` threads; a request that finds them all busy waits
up to ``git_wait`` seconds for a turn, then gets :class:`~drago.errors.Busy`
(503). Waiting costs no thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from drago.errors import Busy

T = TypeVar("T")


class GitTurns:
    def __init__(self, concurrency: int, wait: float) -> None:
        self.concurrency = concurrency
        self.wait = wait
        self._turns = anyio.CapacityLimiter(concurrency)
        # The threads' own limiter: as many as turns, so never waited for (a turn
        # is held first); anyio's default limiter is left to the API.
        self._threads = anyio.CapacityLimiter(concurrency)

    @property
    def busy(self) -> int:
        """How many git requests hold a turn now."""
        return int(self._turns.borrowed_tokens)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a turn, waiting at most ``wait`` seconds; Busy when none came."""
        held = True
        try:
            self._turns.acquire_nowait()
        except anyio.WouldBlock:
            held = False
            with anyio.move_on_after(self.wait):
                await self._turns.acquire()
                held = True
        if not held:
            raise Busy(
                f"the server is busy: {self.concurrency} git requests are running"
                f" (git_concurrency) and none ended within {self.wait:g} s (git_wait);"
                " retry later",
                details={"running": self.concurrency, "wait_seconds": self.wait},
            )
        try:
            yield
        finally:
            self._turns.release()

    async def run(self, func: Callable[[], T]) -> T:
        """``func()`` in one of git's own worker threads (call while holding a turn)."""
        return await anyio.to_thread.run_sync(func, limiter=self._threads)
