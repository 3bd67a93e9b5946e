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


async def test_a_cancelled_caller_waits_for_the_call_it_started() -> None:
    thread = DedicatedThread("drago-test")
    started, finished = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    with anyio.move_on_after(5) as scope:
        async with anyio.create_task_group() as tg:

            async def call() -> None:
                await thread.run(slow)

            tg.start_soon(call)
            await anyio.to_thread.run_sync(started.wait)
            tg.cancel_scope.cancel()
    assert not scope.cancelled_caught
    assert finished.is_set()  # the cancellation went on only after the call ended
    thread.close()


async def test_no_calls_after_close() -> None:
    thread = DedicatedThread("drago-test")
    thread.close()
    with pytest.raises(RuntimeError, match="closed"):
        await thread.run(lambda: None)


async def test_a_task_cancelled_natively_waits_for_the_call_it_started() -> None:
    thread = DedicatedThread("drago-test")
    started, finished = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    task = asyncio.get_running_loop().create_task(thread.run(slow))
    await anyio.to_thread.run_sync(started.wait)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()
    thread.close()


async def test_a_call_cancelled_before_it_started_never_runs() -> None:
    thread = DedicatedThread("drago-test")
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def blocking() -> None:
        started.set()
        release.wait(5)

    first = asyncio.get_running_loop().create_task(thread.run(blocking))
    await anyio.to_thread.run_sync(started.wait)
    second = asyncio.get_running_loop().create_task(thread.run(lambda: ran.append("second")))
    await asyncio.sleep(0.05)
    second.cancel()  # queued behind the first: dropped at once
    with pytest.raises(asyncio.CancelledError):
        await second
    release.set()
    await first
    assert ran == []
    thread.close()


async def test_a_task_cancelled_twice_still_waits_for_the_call_it_started() -> None:
    """A stopping server cancels its render worker more than once: the render
    still ends before the worker does (and before the server closes its stores)."""
    thread = DedicatedThread("drago-test")
    started, finished = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    task = asyncio.get_running_loop().create_task(thread.run(slow))
    await anyio.to_thread.run_sync(started.wait)
    task.cancel()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished.is_set()
    thread.close()


async def test_a_call_queued_when_the_thread_closes_raises() -> None:
    thread = DedicatedThread("drago-test")
    started, release = threading.Event(), threading.Event()

    def blocking() -> None:
        started.set()
        release.wait(5)

    first = asyncio.get_running_loop().create_task(thread.run(blocking))
    await anyio.to_thread.run_sync(started.wait)
    queued = asyncio.get_running_loop().create_task(thread.run(lambda: None))
    await asyncio.sleep(0.05)
    thread.close()
    with pytest.raises(RuntimeError, match="closed before the call ran"):
        await queued
    release.set()
    await first
