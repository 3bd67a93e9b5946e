from __future__ import annotations

import threading

import anyio
import pytest

from drago.errors import Busy
from drago.server.worklimit import WorkLimit

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_work_beyond_the_running_and_waiting_limits_is_refused_at_once() -> None:
    limit = WorkLimit(running=1, queue=1)
    release = threading.Event()
    results: list[str] = []

    def blocking(name: str) -> str:
        release.wait(10)
        return name

    async def run(name: str) -> None:
        results.append(await limit.run("it", lambda: blocking(name)))

    async with anyio.create_task_group() as group:
        group.start_soon(run, "first")
        group.start_soon(run, "second")
        with anyio.fail_after(5):
            while limit.busy < 1 or limit.waiting < 1:
                await anyio.sleep(0.01)
        with pytest.raises(Busy) as caught:
            await limit.run("the third", lambda: "third")
        assert "retry the third later" in caught.value.message
        assert "(heavy_requests, heavy_queue)" in caught.value.message
        release.set()
    assert sorted(results) == ["first", "second"]
    assert await limit.run("it", lambda: "again") == "again"  # turns are given back
