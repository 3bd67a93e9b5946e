"""Expensive request work, a few at a time, off the event loop.

Validating request-supplied content and planning it (``POST /validate``, the
plan of a revision or a review branch, a merge) costs up to seconds of CPU and
hundreds of MB for a large repository. :class:`WorkLimit` runs such work in a
worker thread, at most ``running`` at once (so memory is bounded by a few of
them); up to ``queue`` more wait for a turn, and a request beyond that is
refused at once with :class:`~drago.errors.Busy` (503), never queued without
bound. The event loop (long-polls, ``/healthz``, cheap reads) never waits for it.

One at a time is the default: the work is CPU-bound Python, so a second thread
adds memory but no throughput. When the last running piece of work ends, the
heap it freed is given back to the operating system (glibc's ``malloc_trim``;
without it the server's RSS would stay at its high-water mark).
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread

from drago.errors import Busy

T = TypeVar("T")


Trim = Callable[[int], int]


def malloc_trim() -> Trim | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim: Trim | None = getattr(ctypes.CDLL(name), "malloc_trim", None)
    return trim


class WorkLimit:
    def __init__(self, running: int, queue: int) -> None:
        self.running = running
        self.queue = queue
        self._limiter = anyio.CapacityLimiter(running)
        self._trim = malloc_trim()

    @property
    def busy(self) -> int:
        """How many expensive requests run now."""
        return int(self._limiter.borrowed_tokens)

    @property
    def waiting(self) -> int:
        return self._limiter.statistics().tasks_waiting

    async def run(self, what: str, func: Callable[[], T]) -> T:
        """``func()`` in a worker thread once a turn is free; Busy when the queue is full."""
        if self._limiter.available_tokens == 0 and self.waiting >= self.queue:
            raise Busy(
                f"the server is busy: {self.running} expensive requests are running and"
                f" {self.waiting} waiting (heavy_requests, heavy_queue); retry {what} later",
                details={"running": self.running, "queue": self.queue},
            )
        return await anyio.to_thread.run_sync(self._work, func, limiter=self._limiter)

    def _work(self, func: Callable[[], T]) -> T:
        try:
            return func()
        finally:
            if self._trim is not None and self.busy <= 1:
                self._trim(0)
