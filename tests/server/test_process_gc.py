"""The server process's garbage collector tuning: renders frozen out of its reach,
and nothing kept for good."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from drago.model.directory import read_directory
from drago.render.renderer import Renderer
from drago.server.live import LiveState
from drago.server.metrics import Metrics
from drago.server.process import GC_THRESHOLDS, SWITCH_INTERVAL, FreezeRenders, tune_process
from tests.server.test_live import FakeSource, replaced

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test run collects as usual


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_cyclic_garbage_frozen_while_alive_is_collected_at_the_next_thaw() -> None:
    freeze = FreezeRenders(thaw_every=3)
    cycle = Cycle()
    ref = weakref.ref(cycle)
    freeze()  # the 1st render: frozen while alive
    assert gc.get_freeze_count() > 0
    del cycle
    gc.collect()
    assert ref() is not None  # out of the collector's reach
    freeze()
    assert ref() is not None
    freeze()  # the 3rd: thawed and collected
    assert ref() is None
    assert gc.get_freeze_count() > 0  # and frozen again


async def test_a_frozen_render_is_freed_when_it_leaves_the_history(example_repo: Path) -> None:
    files = read_directory(example_repo)
    source = FakeSource()
    # deltas start from the last 2 renders; the renderer keeps 2 for a revision seen again
    live = LiveState(source, Metrics(), history=2, renderer=Renderer(keep_revisions=2))
    live.on_swap.append(FreezeRenders(thaw_every=1000))
    source.add("r1", files)
    await live.refresh()
    await live.settled()
    first = weakref.ref(live.snapshot.result)
    live.config("fra-1")  # its configs parsed and answers built, as when serving
    live.answer("fra-1", compress=True)
    gc.disable()  # only reference counting may free it
    try:
        for i in range(4):
            edited = replaced(files, "nodes/sgp-1.toml", "sgp-1.example", f"sgp-{i}.example")
            source.add(f"r{i + 2}", edited)
            await live.refresh()
            await live.settled()
            assert gc.get_freeze_count() > 0
        assert first() is None
    finally:
        gc.enable()
        await live.stop()


async def test_in_a_server_the_thaw_waits_until_the_answers_went_out() -> None:
    freeze = FreezeRenders(thaw_every=2, thaw_delay=0.2)
    cycle = Cycle()
    ref = weakref.ref(cycle)
    freeze()
    del cycle
    freeze()  # the 2nd: the thaw is due, later
    gc.collect()
    assert ref() is not None  # still frozen while the render's agents are answered
    await anyio.sleep(0.5)
    assert ref() is None
    assert gc.get_freeze_count() > 0


def test_tune_process_sets_the_collector_and_the_switch_interval() -> None:
    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    try:
        tune_process()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    finally:
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
