"""Token look-ups in batches: requests of the same moment share one worker-thread call.

Token look-ups read SQLite, so they run off the event loop. One commit can wake
thousands of held long-polls at once, and every agent it answers polls again
at once: one thread hop per request would cost each of them a hand-over of the
GIL to a worker and back. Instead the first request of a moment opens a batch,
every request arriving in the same moment joins it, and one worker-thread call
looks all of them up.

- :class:`TokenRecheck`: a held long-poll's token is looked up again before the
  answer (it may have been revoked, through the API or by ``drago token revoke``
  in another process, while the request waited).
- :class:`TokenAuthentication`: the bearer secret of each arriving request.

Each request's look-up still happens after the request arrived: a batch only
shares the trip to the database, never an earlier answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import anyio
import anyio.to_thread

from drago.server.endpoint import Principal

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TokenLookup(Protocol):
    def existing(self, token_ids: Collection[str]) -> set[str]:
        """Which of ``token_ids`` are tokens (not revoked)."""
        ...


@dataclass
class _Batch(Generic[K, V]):
    keys: set[K]
    done: asyncio.Future[Mapping[K, V]]


class BatchedLookup(Generic[K, V]):
    """``await lookup.get(key)``: ``look_up(keys)[key]``, or ``missing`` when absent.

    The first caller opens a batch and starts its look-up as a task of its own;
    every caller of the same moment (before that task first runs, on the next
    turn of the event loop) joins it, and ``look_up`` runs once, in a worker
    thread, with all of their keys; callers arriving while it runs open the
    next batch. A caller that goes away (its client hung up) leaves the batch
    to the others. When ``look_up`` fails, every caller of its batch gets the
    error. Plain asyncio futures: one per caller would be too many for anyio's
    primitives when ten thousand long-polls wake at once.
    """

    def __init__(self, look_up: Callable[[frozenset[K]], Mapping[K, V]], missing: V) -> None:
        self._look_up = look_up
        self._missing = missing
        self._open: _Batch[K, V] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def get(self, key: K) -> V:
        batch = self._open
        if batch is None or batch.done.done():  # (a batch whose task never ran is done)
            loop = asyncio.get_running_loop()
            batch = self._open = _Batch({key}, loop.create_future())
            # an error nobody is left to read is still read: no "never retrieved" noise
            batch.done.add_done_callback(_read_outcome)
            task = loop.create_task(self._run(batch))
            self._running.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(lambda task: self._ended(batch, task))
        else:
            batch.keys.add(key)
        found = await asyncio.shield(batch.done)
        return found.get(key, self._missing)

    def _ended(self, batch: _Batch[K, V], task: asyncio.Task[None]) -> None:
        """However the batch's task ended (even cancelled before it ran), its
        callers are answered and no later caller joins it."""
        self._running.discard(task)
        if self._open is batch:
            self._open = None
        if not batch.done.done():
            batch.done.cancel()

    async def _run(self, batch: _Batch[K, V]) -> None:
        if self._open is batch:  # the callers of that moment are in: the next ones wait
            self._open = None
        try:
            found = await anyio.to_thread.run_sync(self._look_up, frozenset(batch.keys))
        except asyncio.CancelledError:  # the server is stopping
            batch.done.cancel()
            raise
        except Exception as exc:
            batch.done.set_exception(exc)
        else:
            batch.done.set_result(found)


def _read_outcome(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()


class TokenRecheck:
    """``await recheck.valid(token_id)``: whether the token still exists."""

    def __init__(self, tokens: TokenLookup) -> None:
        def existing(token_ids: frozenset[str]) -> Mapping[str, bool]:
            return dict.fromkeys(tokens.existing(token_ids), True)

        self._lookup = BatchedLookup(existing, False)

    async def valid(self, token_id: str) -> bool:
        return await self._lookup.get(token_id)


class BatchAuthenticator(Protocol):
    def authenticate_many(self, secrets: Collection[str]) -> Mapping[str, Principal | None]:
        """Whose token each of ``secrets`` is (None: nobody's), in one look-up."""
        ...


class TokenAuthentication:
    """``await authentication.principal(secret)``: whose token the secret is, or None."""

    def __init__(self, tokens: BatchAuthenticator) -> None:
        self._lookup: BatchedLookup[str, Principal | None] = BatchedLookup(
            tokens.authenticate_many, None
        )

    async def principal(self, secret: str) -> Principal | None:
        return await self._lookup.get(secret)
