from __future__ import annotations

import asyncio
import threading
import time

import anyio
import pytest

from drago.server.dedicated import DedicatedThread

pytestmark = pytest.mark.anyio


async def test_calls_run_in_order_on_one_thread_of_their_own() -> None:
    thread = DedicatedThread("drago-test")

    def where(n: int) -> tuple[int, threading.Thread]:
        return n, threading.current_thread()

    seen = [await thread.run(where, n) for n in range(3)]
    assert [n for n, _ in seen] == [0, 1, 2]
    assert len({t for _, t in seen}) == 1
    assert seen[0][1] is not threading.current_thread()
    assert seen[0][1].name.startswith("drago-test")
    thread.close()
    seen[0][1].join(5)
    assert not seen[0][1].is_alive()


async def test_errors_reach_the_caller() -> None:
    thread = DedicatedThread("drago-test")

    def failing() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await thread.run(failing)
    thread.close()


class Slow:
    """A call that takes 0.3 s: ``started`` once it runs, ``finished`` once it ends."""

    def __init__(self) -> None:
        self.started, self.finished = threading.Event(), threading.Event()

    def __call__(self) -> None:
        self.started.set()
        time.sleep(0.3)
        self.finished.set()

    async def running(self) -> None:
        await anyio.to_thread.run_sync(self.started.wait)


class Blocking:
    """A call that runs until ``release`` is set."""

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self) -> None:
        self.started.set()
        self.release.wait(5)

    async def running(self) -> None:
        await anyio.to_thread.run_sync(self.started.wait)


async def test_a_cancelled_caller_waits_for_the_call_it_started() -> None:
    thread = DedicatedThread("drago-test")
    slow = Slow()
    with anyio.move_on_after(5) as scope:
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                await thread.run(slow)

            tg.start_soon(call)
            await slow.running()
            tg.cancel_scope.cancel()
    assert not scope.cancelled_caught
    assert slow.finished.is_set()  # the cancellation went on only after the call ended
    thread.close()


async def test_no_calls_after_close() -> None:
    thread = DedicatedThread("drago-test")
    thread.close()
    with pytest.raises(RuntimeError, match="closed"):
        await thread.run(lambda: None)


@pytest.mark.parametrize("cancels", [1, 2])
async def test_a_task_cancelled_natively_waits_for_the_call_it_started(cancels: int) -> None:
    """Twice too: a stopping server cancels its render worker more than once, and
    the render still ends before the worker does (and before the server closes
    its stores)."""
    thread = DedicatedThread("drago-test")
    slow = Slow()
    task = asyncio.get_running_loop().create_task(thread.run(slow))
    await slow.running()
    for _ in range(cancels):
        task.cancel()
        await asyncio.sleep(0.05)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert slow.finished.is_set()
    thread.close()


async def test_a_call_cancelled_before_it_started_never_runs() -> None:
    thread = DedicatedThread("drago-test")
    blocking = Blocking()
    ran: list[str] = []
    first = asyncio.get_running_loop().create_task(thread.run(blocking))
    await blocking.running()
    second = asyncio.get_running_loop().create_task(thread.run(lambda: ran.append("second")))
    await asyncio.sleep(0.05)
    second.cancel()  # queued behind the first: dropped at once
    with pytest.raises(asyncio.CancelledError):
        await second
    blocking.release.set()
    await first
    assert ran == []
    thread.close()


async def test_a_call_queued_when_the_thread_closes_raises() -> None:
    thread = DedicatedThread("drago-test")
    blocking = Blocking()
    first = asyncio.get_running_loop().create_task(thread.run(blocking))
    await blocking.running()
    queued = asyncio.get_running_loop().create_task(thread.run(lambda: None))
    await asyncio.sleep(0.05)
    thread.close()
    with pytest.raises(RuntimeError, match="closed before the call ran"):
        await queued
    blocking.release.set()
    await first
