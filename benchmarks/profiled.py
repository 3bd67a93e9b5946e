"""Run ``drago`` under cProfile in every thread and save the merged statistics.

    python benchmarks/profiled.py [--gc-only] OUT.pstats server --data DIR ...

cProfile sees one thread; the server answers on its event loop (the main thread)
and renders, commits and checks tokens in worker threads. Every thread started
after this wrapper gets a profiler of its own; at exit (SIGTERM stops the server
normally) all are merged into OUT.pstats, and the main thread's alone into
OUT.main.pstats; the time spent in garbage collection, per generation, into
OUT.gc.json ([collections, seconds]); with ``--gc-only`` nothing else (no
cProfile, so no overhead). SIGUSR1 restarts the main thread's statistics
(what came before goes to OUT.before.pstats): ``Server.mark_profile`` sends it
before a measured phase.
Read them with ``python -m pstats`` or :func:`top`.

The benchmarks start the server through this wrapper when ``DRAGO_BENCH_PROFILE``
names the output file (see ``fleet.start_server``).
"""

from __future__ import annotations

import cProfile
import gc
import json
import pstats
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()
_thread_run = threading.Thread.run


def _profiled_run(self: threading.Thread) -> None:
    profile = cProfile.Profile()
    with _lock:
        _profiles.append(profile)
    profile.enable()
    try:
        _thread_run(self)
    finally:
        profile.disable()


class GcClock:
    """Seconds spent in the cyclic garbage collector, per generation (``gc.callbacks``):
    CPU time of the collecting thread, so that other processes' load does not count."""

    def __init__(self) -> None:
        self.started = 0.0
        self.seconds = [0.0, 0.0, 0.0]
        self.counts = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.started = time.thread_time()
        else:
            self.seconds[info["generation"]] += time.thread_time() - self.started
            self.counts[info["generation"]] += 1

    def save(self, path: Path) -> None:
        figures = {f"gen{g}": [self.counts[g], round(self.seconds[g], 3)] for g in range(3)}
        path.write_text(json.dumps(figures) + "\n")
        self.seconds, self.counts = [0.0, 0.0, 0.0], [0, 0, 0]


def top(path: Path, limit: int = 40, sort: str = "tottime") -> None:
    """Print the ``limit`` most expensive functions of a statistics file."""
    pstats.Stats(str(path)).sort_stats(sort).print_stats(limit)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _restart(profile: cProfile.Profile | None, clock: GcClock, out: Path) -> None:
    """SIGUSR1: save what the main thread did so far (OUT.before.pstats) and start over,
    so that the main thread's statistics cover only what follows (a benchmark's
    measured phase)."""
    clock.save(out.with_suffix(".before.gc.json"))
    if profile is not None:
        profile.disable()
        profile.dump_stats(str(out.with_suffix(".before.pstats")))
        profile.clear()
        profile.enable()


def main() -> int:
    gc_only = sys.argv[1] == "--gc-only"
    if gc_only:
        del sys.argv[1]
    out = Path(sys.argv[1])
    # uvicorn stops gracefully on SIGTERM, then raises the signal again for the
    # handler it found: ours, which ends the process through the finally below.
    signal.signal(signal.SIGTERM, _exit)
    sys.argv = ["drago", *sys.argv[2:]]
    if not gc_only:
        threading.Thread.run = _profiled_run  # type: ignore[method-assign]
    main_profile = cProfile.Profile()
    clock = GcClock()
    gc.callbacks.append(clock)
    restarted = None if gc_only else main_profile
    signal.signal(signal.SIGUSR1, lambda signum, frame: _restart(restarted, clock, out))
    if not gc_only:
        main_profile.enable()
    code = 0
    try:
        from drago.cli.main import entry

        entry()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        clock.save(out.with_suffix(".gc.json"))
        if not gc_only:
            save_profiles(main_profile, out)
    return code


def save_profiles(main_profile: cProfile.Profile, out: Path) -> None:
    """The main thread's statistics to OUT.main.pstats, all threads' to OUT."""
    main_profile.disable()
    main_profile.dump_stats(str(out.with_suffix(".main.pstats")))
    merged = pstats.Stats(main_profile)
    with _lock:
        for profile in _profiles:
            profile.disable()
            try:
                merged.add(profile)
            except TypeError:  # a thread that never ran profiled code
                pass
    merged.dump_stats(str(out))


if __name__ == "__main__":
    sys.exit(main())
