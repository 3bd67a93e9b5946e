"""Token look-ups in batches: thousands of held requests woken by one commit (and
the requests they send next) share a few look-ups instead of one worker-thread
hop each."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection

import anyio
import pytest

from drago.server.endpoint import Principal, Role
from drago.server.recheck import TokenAuthentication, TokenRecheck

pytestmark = pytest.mark.anyio


class CountingLookup:
    def __init__(self, valid: set[str], *, fail: bool = False) -> None:
        self.valid = valid
        self.calls: list[frozenset[str]] = []
        self.threads: set[int] = set()
        self.fail = fail

    def existing(self, token_ids: Collection[str]) -> set[str]:
        self.calls.append(frozenset(token_ids))
        self.threads.add(threading.get_ident())
        if self.fail:
            raise RuntimeError("database is gone")
        return self.valid & set(token_ids)


async def test_a_thousand_woken_requests_share_a_few_lookups_off_the_loop() -> None:
    ids = [f"t{i}" for i in range(1000)]
    lookup = CountingLookup(set(ids[::2]))
    recheck = TokenRecheck(lookup)
    results: dict[str, bool] = {}
    woken = anyio.Event()

    async def held(token_id: str) -> None:
        await woken.wait()
        results[token_id] = await recheck.valid(token_id)

    async with anyio.create_task_group() as tg:
        for token_id in ids:
            tg.start_soon(held, token_id)
        await anyio.sleep(0.05)
        woken.set()
    assert results == {t: i % 2 == 0 for i, t in enumerate(ids)}
    assert len(lookup.calls) <= 3, [len(c) for c in lookup.calls]
    assert threading.get_ident() not in lookup.threads


async def test_later_requests_see_later_revocations() -> None:
    lookup = CountingLookup({"a"})
    recheck = TokenRecheck(lookup)
    assert await recheck.valid("a") is True
    lookup.valid.clear()
    assert await recheck.valid("a") is False
    assert len(lookup.calls) == 2


async def test_a_failed_lookup_fails_every_request_of_its_batch() -> None:
    recheck = TokenRecheck(CountingLookup({"a"}, fail=True))
    failures: list[str] = []

    async def held(token_id: str) -> None:
        try:
            await recheck.valid(token_id)
        except RuntimeError as exc:
            failures.append(str(exc))

    async with anyio.create_task_group() as tg:
        for token_id in ("a", "b", "c"):
            tg.start_soon(held, token_id)
    assert failures == ["database is gone"] * 3


async def test_the_batch_is_answered_when_the_request_that_opened_it_goes_away() -> None:
    lookup = CountingLookup({"a", "b"})
    recheck = TokenRecheck(lookup)
    answers: dict[str, bool] = {}

    async def joiner() -> None:
        answers["b"] = await recheck.valid("b")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            with anyio.CancelScope() as gone:
                gone.cancel()
                tg.start_soon(joiner)
                await recheck.valid("a")  # opens the batch, its caller is cancelled
    assert answers == {"b": True}
    assert lookup.calls == [frozenset({"a", "b"})]


class CountingAuthenticator:
    def __init__(self, secrets: dict[str, Principal]) -> None:
        self.secrets = secrets
        self.calls = 0
        self.batches = 0
        self.threads: set[int] = set()

    def authenticate_many(self, secrets: Collection[str]) -> dict[str, Principal | None]:
        self.calls += len(secrets)
        self.batches += 1
        self.threads.add(threading.get_ident())
        return {secret: self.secrets.get(secret) for secret in secrets}


def principal(i: int) -> Principal:
    return Principal(f"id{i}", f"n{i}", f"n{i}@x.invalid", Role.node, f"n{i}")


async def test_requests_arriving_together_are_each_authenticated_off_the_loop() -> None:
    secrets = {f"s{i}": principal(i) for i in range(500)}
    tokens = CountingAuthenticator(dict(secrets))
    authentication = TokenAuthentication(tokens)
    found: dict[str, Principal | None] = {}

    async def arrive(secret: str) -> None:
        found[secret] = await authentication.principal(secret)

    async with anyio.create_task_group() as tg:
        for secret in [*secrets, "wrong"]:
            tg.start_soon(arrive, secret)
    assert found == {**secrets, "wrong": None}
    assert tokens.calls == 501  # every secret looked up once, off the event loop
    assert tokens.batches <= 3  # in a few look-ups
    assert threading.get_ident() not in tokens.threads


async def test_a_request_after_a_revocation_is_refused() -> None:
    tokens = CountingAuthenticator({"s1": principal(1)})
    authentication = TokenAuthentication(tokens)
    assert await authentication.principal("s1") == principal(1)
    tokens.secrets.clear()
    assert await authentication.principal("s1") is None


async def test_a_batch_cancelled_before_it_ran_leaves_no_dead_batch() -> None:
    lookup = CountingLookup({"a", "b"})
    recheck = TokenRecheck(lookup)
    first = asyncio.ensure_future(recheck.valid("a"))
    await asyncio.sleep(0)  # the caller opened a batch; its task has not run yet
    for task in list(recheck._lookup._running):
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await recheck.valid("b") is True  # a new batch, answered
    assert lookup.calls == [frozenset({"b"})]
