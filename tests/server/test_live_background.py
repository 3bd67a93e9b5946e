"""Rendering off the write path: ``LiveState.advance`` and its background worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

from drago.model.directory import read_directory
from drago.model.state import SourceFile
from drago.model.validate import Validator
from drago.server.live import LiveState
from drago.server.metrics import Metrics
from tests.server.conftest import Harness
from tests.server.helpers import edit
from tests.server.test_live import FakeSource, replaced

pytestmark = pytest.mark.anyio
CONFIG = "/api/v1/nodes/{}/config"
Started = tuple[list[SourceFile], FakeSource, LiveState]


@pytest.fixture
def background(harness: Harness) -> Iterator[Harness]:
    yield harness


def render_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "drago-live-render"]


async def test_a_put_then_a_get_reads_the_new_data(background: Harness) -> None:
    h = background
    auth = h.auth(h.admin)
    spec = (await h.client.get("/api/v1/nodes/sgp-1", headers=auth)).json()["spec"]
    hash_before = h.ctx.live.hash_of("fra-1")
    spec["endpoint"] = "sgp-7.example.net"
    put = await h.client.put("/api/v1/nodes/sgp-1", json={"spec": spec}, headers=auth)
    assert put.status_code == 200, put.text
    revision = put.json()["revision"]
    assert h.ctx.live.revision == revision == h.ctx.store.head("main")
    got = await h.client.get("/api/v1/nodes/sgp-1", headers=auth)
    assert got.json()["spec"]["endpoint"] == "sgp-7.example.net"
    assert got.json()["revision"] == revision
    await h.ctx.live.settled()
    assert h.ctx.live.rendered_revision == revision
    assert h.ctx.live.hash_of("fra-1") != hash_before  # sgp-1 is a peer of fra-1
    config = await h.client.get(CONFIG.format("fra-1"), headers=auth)
    assert config.json()["revision"] == revision


async def test_long_poll_wakes_within_a_second(background: Harness) -> None:
    h = background
    auth = h.auth(h.admin)
    etag = (await h.client.get(CONFIG.format("fra-1"), headers=auth)).headers["etag"]
    answer: list[tuple[int, float]] = []

    async def poll() -> None:
        started = time.monotonic()
        r = await h.client.get(
            CONFIG.format("fra-1"),
            params={"wait": "3"},
            headers={**auth, "If-None-Match": etag},
        )
        answer.append((r.status_code, time.monotonic() - started))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poll)
            while h.ctx.live.waiters < 1:
                await anyio.sleep(0.01)
            await edit(h.ctx, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net")
    assert answer[0][0] == 200
    assert answer[0][1] < 1.0


async def test_a_burst_of_commits_ends_with_the_last_revision_rendered(
    background: Harness,
) -> None:
    h = background
    revisions = []
    for i in range(20):
        old = "sgp-1.example.net" if i == 0 else f"sgp-b{i - 1}.example.net"
        revisions.append(await edit(h.ctx, "nodes/sgp-1.toml", old, f"sgp-b{i}.example.net"))
        assert h.ctx.live.revision == revisions[-1]
    with anyio.fail_after(10):
        await h.ctx.live.settled()
    assert h.ctx.live.rendered_revision == revisions[-1]
    assert h.ctx.live.revision == revisions[-1]
    assert b"sgp-b19.example.net" in h.ctx.live.document("fra-1")[1]


async def test_stop_leaves_no_render_task(harness: Harness) -> None:
    assert len(render_tasks()) == 1
    await edit(harness.ctx, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net")
    await harness.ctx.live.stop()
    assert render_tasks() == []


@pytest.fixture
async def started(
    example_repo: Path,
) -> AsyncIterator[Started]:
    """A live state at revision r1 of example-repo with its render worker running."""
    files = read_directory(example_repo)
    source = FakeSource()
    source.add("r1", files)
    live = LiveState(source, Metrics())
    live.start()
    await live.refresh()
    await live.settled()
    try:
        yield files, source, live
    finally:
        await live.stop()


async def test_accepted_revision_is_read_before_the_render(
    started: Started,
) -> None:
    files, source, live = started
    changed = replaced(files, "nodes/sgp-1.toml", "sgp-1.example", "sgp-5.example")
    source.add("r2", changed)
    state = Validator().validate_files(changed)
    assert await live.advance("r2", state) is True
    assert live.revision == "r2" and live.state is state
    assert live.rendered_revision == "r1"  # the worker has not run yet
    with anyio.fail_after(5):
        await live.settled()
    assert live.rendered_revision == "r2"
    assert live.snapshot.state is state  # not validated again
    await live.stop()
    assert live.closed


async def test_an_invalid_external_head_is_not_served(
    started: Started,
) -> None:
    files, source, live = started
    source.add("bad", replaced(files, "nodes/fra-1.toml", "10.20.0.1/16", "10.99.0.1/16"))
    assert await live.refresh() is False
    assert live.problem is not None and live.problem.revision == "bad"
    assert live.revision == live.rendered_revision == "r1"


async def test_a_revision_that_is_no_longer_the_head_does_not_go_live(
    started: Started,
) -> None:
    files, source, live = started
    source.add("r2", files)  # the branch moved on (e.g. a push after this commit)
    assert await live.advance("r1b", Validator().validate_files(files)) is False
    assert live.revision == "r1"
    assert await live.refresh() is True
    assert live.revision == "r2"
