"""Waiting for a new accepted revision: woken by an advance, ended by close or a gone client."""

from __future__ import annotations

import anyio
import pytest

from drago.server.revisionwatch import RevisionWatch
from tests.server.conftest import Harness
from tests.server.helpers import edit

pytestmark = pytest.mark.anyio


async def never_gone() -> bool:
    return False


async def test_an_advance_wakes_the_waiter(harness: Harness) -> None:
    watch = RevisionWatch(harness.ctx.live)
    known = harness.ctx.live.revision
    assert not await watch.wait_for_change(known, 0.05, gone=never_gone)
    assert await watch.wait_for_change("0" * 40, 5, gone=never_gone)  # already different
    woken: list[bool] = []
    async with anyio.create_task_group() as group:

        async def wait() -> None:
            woken.append(await watch.wait_for_change(known, 5, gone=never_gone))

        group.start_soon(wait)
        await anyio.sleep(0.05)
        await edit(harness.ctx, "nodes/sgp-1.toml", "Singapore", "Singapur")
    assert woken == [True]


async def test_close_and_a_gone_client_end_the_wait_within_a_second(harness: Harness) -> None:
    watch = RevisionWatch(harness.ctx.live)
    known = harness.ctx.live.revision

    async def gone() -> bool:
        return True

    with anyio.fail_after(2):
        assert not await watch.wait_for_change(known, 30, gone=gone)
    harness.ctx.live.close()
    with anyio.fail_after(2):
        assert not await watch.wait_for_change(known, 30, gone=never_gone)
