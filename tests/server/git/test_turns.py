from __future__ import annotations

import threading

import anyio
import anyio.to_thread
import pytest

from drago.errors import Busy
from drago.server.git.turns import GitTurns

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_git_work_runs_in_its_own_threads_and_waits_briefly_for_a_turn() -> None:
    turns = GitTurns(2, wait=0.2)
    release = threading.Event()
    default = anyio.to_thread.current_default_thread_limiter()

    def blocking() -> int:
        release.wait(10)
        return int(default.borrowed_tokens)

    async def hold(results: list[int]) -> None:
        async with turns.turn():
            results.append(await turns.run(blocking))

    results: list[int] = []
    async with anyio.create_task_group() as group:
        group.start_soon(hold, results)
        group.start_soon(hold, results)
        with anyio.fail_after(5):
            while turns.busy < 2:
                await anyio.sleep(0.01)
        started = anyio.current_time()
        with pytest.raises(Busy) as caught:
            async with turns.turn():
                pass
        assert 0.15 < anyio.current_time() - started < 2
        assert "(git_concurrency)" in caught.value.message
        assert "0.2 s (git_wait)" in caught.value.message
        release.set()
    assert results == [0, 0]  # the default pool (token checks, commits) was never used
    assert turns.busy == 0
    async with turns.turn():  # turns are given back
        assert await turns.run(lambda: 7) == 7


async def test_a_free_turn_is_taken_even_without_waiting() -> None:
    turns = GitTurns(1, wait=0)
    refused: list[Busy] = []

    async def another() -> None:
        try:
            async with turns.turn():
                pass
        except Busy as exc:
            refused.append(exc)

    async with turns.turn():
        assert turns.busy == 1
        async with anyio.create_task_group() as group:
            group.start_soon(another)
    assert len(refused) == 1
    assert turns.busy == 0
