from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from drago.errors import ConfigError, NotFound
from drago.model.directory import read_directory
from drago.model.state import SourceFile, State
from drago.model.validate import Validator
from drago.render.renderer import Renderer
from drago.render.result import RenderResult
from drago.server.live import LiveState
from drago.server.metrics import Metrics

pytestmark = pytest.mark.anyio


class FakeSource:
    """A RevisionSource over prepared file sets: revision -> files."""

    def __init__(self) -> None:
        self.revisions: dict[str, list[SourceFile]] = {}
        self.current: str | None = None

    def add(self, revision: str, files: list[SourceFile]) -> None:
        self.revisions[revision] = files
        self.current = revision

    def head(self, branch: str = "main") -> str | None:
        return self.current

    def state(self, rev: str) -> State:
        return Validator().validate_files(self.revisions[rev])


def replaced(files: list[SourceFile], path: str, old: str, new: str) -> list[SourceFile]:
    out = []
    for f in files:
        if f.path == path:
            assert old.encode() in f.data
            f = SourceFile(f.path, f.data.replace(old.encode(), new.encode()), f.mode)
        out.append(f)
    return out


@pytest.fixture
def files(example_repo: Path) -> list[SourceFile]:
    return read_directory(example_repo)


async def test_empty_until_refreshed(files: list[SourceFile]) -> None:
    source = FakeSource()
    live = LiveState(source, Metrics())
    assert live.revision is None
    assert await live.refresh() is False  # no head yet
    source.add("r1", files)
    assert await live.refresh() is True
    assert await live.refresh() is False  # same head
    await live.settled()
    assert live.revision == "r1"
    digest, document = live.document("fra-1")
    assert digest == live.require_hash("fra-1") == live.config("fra-1").hash
    assert b'"revision":"r1"' in document
    with pytest.raises(NotFound):
        live.require_hash("nope")
    await live.stop()


async def test_only_changed_nodes_are_woken(files: list[SourceFile]) -> None:
    source = FakeSource()
    live = LiveState(source, Metrics())
    source.add("r1", files)
    await live.refresh()
    await live.settled()
    before = dict(live.snapshot.hashes)
    woken: dict[str, bool] = {}

    async def wait(node: str) -> None:
        woken[node] = await live.wait_for_change(node, before[node], 2.0)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for node in before:
                tg.start_soon(wait, node)
            while live.waiters < len(before):
                await anyio.sleep(0.005)
            source.add("r2", replaced(files, "nodes/sgp-1.toml", "sgp-1.example", "sgp-9.example"))
            await live.refresh()
            await live.settled()
            assert live.waiters == len(before) - 2  # fra-1 and nyc-1 woke
            await live.stop()
    assert {n for n, changed in woken.items() if changed} == {"fra-1", "nyc-1"}


async def test_invalid_head_keeps_serving_the_last_valid_revision(
    files: list[SourceFile],
) -> None:
    source = FakeSource()
    metrics = Metrics()
    live = LiveState(source, metrics)
    source.add("good", files)
    await live.refresh()
    await live.settled()
    source.add("bad", replaced(files, "nodes/fra-1.toml", "10.20.0.1/16", "10.99.0.1/16"))
    assert await live.refresh() is False
    assert live.revision == "good"
    assert live.problem is not None
    assert live.problem.revision == "bad"
    assert isinstance(live.problem.error, ConfigError)
    assert b"drago_live_revision_problem 1.0" in metrics.render()
    source.add("fixed", files)
    assert await live.refresh() is True
    assert live.problem is None
    await live.stop()


async def test_wait_returns_at_once_when_hash_differs_or_closed(files: list[SourceFile]) -> None:
    source = FakeSource()
    live = LiveState(source, Metrics())
    source.add("r1", files)
    await live.refresh()
    await live.settled()
    assert await live.wait_for_change("fra-1", "stale", 10) is True
    current = live.require_hash("fra-1")
    with anyio.fail_after(1):
        assert await live.wait_for_change("fra-1", current, 0.05) is False
        await live.stop()
        assert await live.wait_for_change("fra-1", current, 10) is False
    assert live.waiters == 0


async def test_a_cancelled_or_timed_out_wait_leaves_the_others_waiting(
    files: list[SourceFile],
) -> None:
    source = FakeSource()
    live = LiveState(source, Metrics())
    source.add("r1", files)
    await live.refresh()
    await live.settled()
    results: dict[str, bool] = {}

    async def wait(name: str, known: str, timeout: float) -> None:
        results[name] = await live.wait_for_change("fra-1", known, timeout)

    first = live.require_hash("fra-1")
    with anyio.fail_after(5):
        async with anyio.create_task_group() as outer:
            async with anyio.create_task_group() as gone:
                gone.start_soon(wait, "cancelled", first, 30)
                outer.start_soon(wait, "short", first, 0.05)
                outer.start_soon(wait, "changed", first, 30)
                outer.start_soon(wait, "also changed", first, 30)
                while live.waiters < 4:
                    await anyio.sleep(0.005)
                gone.cancel_scope.cancel()  # its client went away
            while live.waiters > 2:  # "short" timed out
                await anyio.sleep(0.005)
            assert set(results) == {"short"}
            source.add("r2", replaced(files, "nodes/sgp-1.toml", "sgp-1.example", "sgp-9.example"))
            await live.refresh()
            await live.settled()
            await anyio.sleep(0.01)
            assert set(results) == {"short", "changed", "also changed"}
            outer.start_soon(wait, "stopped", live.require_hash("fra-1"), 30)
            while live.waiters < 1:
                await anyio.sleep(0.005)
            await live.stop()  # releases it: not modified
    assert results == {"short": False, "changed": True, "also changed": True, "stopped": False}
    assert live.waiters == 0


async def test_removed_node_wakes_its_waiters(files: list[SourceFile]) -> None:
    source = FakeSource()
    live = LiveState(source, Metrics())
    source.add("r1", files)
    await live.refresh()
    await live.settled()
    known = live.require_hash("laptop-ben")
    result: list[bool] = []

    async def wait() -> None:
        result.append(await live.wait_for_change("laptop-ben", known, 5))

    with anyio.fail_after(3):
        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            while live.waiters < 1:
                await anyio.sleep(0.005)
            source.add("r2", [f for f in files if f.path != "nodes/laptop-ben.toml"])
            await live.refresh()
            await live.settled()
    assert result == [True]
    assert live.hash_of("laptop-ben") is None
    await live.stop()


async def test_advance_runs_its_hooks_and_a_failing_hook_stops_nothing(
    files: list[SourceFile],
) -> None:
    source = FakeSource()
    live = LiveState(source, Metrics())
    seen: list[tuple[str | None, frozenset[str]]] = []

    async def failing(revision: str | None, state: State) -> None:
        raise RuntimeError("boom")

    async def recording(revision: str | None, state: State) -> None:
        seen.append((revision, frozenset(state.nodes)))

    live.on_advance += [failing, recording]
    source.add("r1", files)
    assert await live.refresh() is True
    await live.settled()
    assert live.rendered_revision == "r1"
    assert seen == [("r1", frozenset(live.state.nodes))]
    assert "fra-1" in seen[0][1]
    await live.stop()


async def test_deltas_start_from_the_last_history_renders_only(files: list[SourceFile]) -> None:
    source = FakeSource()
    live = LiveState(source, Metrics(), history=2)
    seen: list[str] = []
    for number in range(4):
        host = f"sgp-{number}.example"
        source.add(f"r{number}", replaced(files, "nodes/sgp-1.toml", "sgp-1.example", host))
        await live.refresh()
        await live.settled()
        seen.append(live.require_hash("fra-1"))
    assert live.answer("fra-1", seen[2]).kind == "delta"  # the render before the live one
    assert live.answer("fra-1", seen[1]).kind == "full"  # three renders ago: forgotten
    assert live.answer("fra-1").kind == "full"
    await live.stop()


async def test_every_render_runs_on_the_one_render_thread(files: list[SourceFile]) -> None:
    """Renders reuse one thread (one malloc arena: see drago.server.dedicated),
    never the event loop's nor AnyIO's worker pool, and the thread ends at stop."""
    source = FakeSource()
    renderer = Renderer()
    threads: list[threading.Thread] = []
    render = renderer.render

    def recording(state: State, revision: str | None = None) -> RenderResult:
        threads.append(threading.current_thread())
        return render(state, revision)

    renderer.render = recording  # type: ignore[method-assign]
    live = LiveState(source, Metrics(), renderer=renderer)
    for number in range(3):
        host = f"sgp-{number}.example"
        source.add(f"r{number}", replaced(files, "nodes/sgp-1.toml", "sgp-1.example", host))
        await live.refresh()
        await live.settled()
    assert live.rendered_revision == "r2"
    assert len(threads) == 3 and len(set(threads)) == 1
    assert threads[0].name.startswith("drago-render")
    await live.stop()
    threads[0].join(5)
    assert not threads[0].is_alive()
