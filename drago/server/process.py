"""Process-wide tuning of a server process: called by entry points, never on import."""

from __future__ import annotations

import gc

#: Thresholds of CPython's cyclic garbage collector for a server process.
#: The server keeps a large, long-lived render state (about a million peer
#: entries in a 1,000-node full mesh). With the defaults (700, 10, 10) the young
#: generations are collected every 700 allocations and their survivors are
#: walked again and again, which cost a write up to a few hundred milliseconds
#: of pauses; collecting the youngest generation every 100,000 allocations
#: keeps cyclic garbage bounded and cut the API commit p50 on that repository
#: from 73 ms to 27 ms (`benchmarks/api_commit.py`).
GC_THRESHOLDS = (100_000, 50, 10)


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
