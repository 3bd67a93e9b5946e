"""Process-wide tuning of a server process: called by entry points, never on import."""

from __future__ import annotations

import asyncio
import gc
import sys

#: Thresholds of CPython's cyclic garbage collector for a server process.
#: The server keeps a large, long-lived render state (about a million peer
#: entries in a 1,000-node full mesh). With the defaults (700, 10, 10) the young
#: generations are collected every 700 allocations and their survivors are
#: walked again and again, which cost a write up to a few hundred milliseconds
#: of pauses; collecting the youngest generation every 100,000 allocations
#: keeps cyclic garbage bounded and cut the API commit p50 on that repository
#: from 73 ms to 27 ms (`benchmarks/api_commit.py`).
GC_THRESHOLDS = (100_000, 50, 10)
#: How long a thread holds the GIL while another waits for it (CPython's default
#: is 5 ms). A write answers after its hooks, which run in a worker thread
#: while the new revision renders on its own thread: with 5 ms slices the
#: hooks' few milliseconds of work waited behind the render's slices, and an
#: API write on a 1,000-node full mesh took 48.5 ms (p50) instead of 32.1 ms
#: (`benchmarks/api_commit.py`); the render took no longer.
SWITCH_INTERVAL = 0.001
#: Every this many renders, :class:`FreezeRenders` thaws and collects everything ...
THAW_EVERY = 64
#: ... this many seconds after the render went live, not while its agents are answered.
THAW_DELAY = 2.0


def tune_process() -> None:
    """The garbage collector's thresholds and the GIL's switch interval."""
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)


class FreezeRenders:
    """Called after each new render goes live: moves every object the process
    holds out of the collector's generations (``gc.freeze``), so the render just
    swapped in (millions of small objects in a large mesh) is not traversed by
    the next young collections, nor by any later one. In a 1,000-node full mesh
    this took the collections of a round from about 66 ms of CPU to 10-15 ms
    (`benchmarks/propagation.py --agents 999`, see docs/benchmarks.md).

    Frozen objects are still freed by reference counting when dropped (render
    results hold no reference cycles: a result that leaves the history is freed
    at once). Cyclic garbage that was alive, or not yet collected, at a freeze
    would stay frozen: every ``thaw_every``-th render therefore unfreezes
    everything and runs one full collection first, so such garbage lives at
    most that many renders. That full collection holds the event loop for a
    while (with 999 agents of a 1,000-node mesh polling: about 450 ms, which
    made the round of every 64th render 700 ms instead of 250 ms), so it runs
    ``thaw_delay`` seconds after the render went live, once its agents were
    answered, and the render itself is frozen at once as always. Without a
    running event loop it runs at once.
    """

    def __init__(self, thaw_every: int = THAW_EVERY, thaw_delay: float = THAW_DELAY) -> None:
        self.thaw_every = thaw_every
        self.thaw_delay = thaw_delay
        self.renders = 0

    def __call__(self) -> None:
        self.renders += 1
        gc.freeze()
        if self.renders % self.thaw_every == 0:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.thaw()
            else:
                loop.call_later(self.thaw_delay, self.thaw)

    @staticmethod
    def thaw() -> None:
        """Unfreeze everything, collect it all, freeze what is left."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
