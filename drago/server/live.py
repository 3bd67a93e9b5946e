"""The live revision: what the server serves to agents, and who to wake when it changes.

:class:`LiveState` holds two revisions of the branch:

- the *accepted* one (``revision``, ``state``): the newest valid revision, what
  the API reads, so a writer reads its own write as soon as its commit returns;
- the *rendered* one (``snapshot``): the config of every node, what agents get.

Every way the branch moves goes live through one entry,
:meth:`LiveState.advance` ``(revision, state)``, with the state its caller
already validated: an API commit, a push (the push check validated the new
head), a fast-forward merge (the review validated it). The revision is the
accepted one at once; a background worker renders it on a thread of its own
(:mod:`drago.server.dedicated`; incrementally: the
renderer caches per file), off the write path, one render at a time, a burst
rendered once at its newest revision, swaps it in atomically and wakes only
the nodes whose hash changed. :meth:`LiveState.settled` waits for that render.

Refs moved outside the server (the watcher, start-up) are followed by
:meth:`LiveState.refresh`, which reads the head, validates it once and
advances. An invalid head (a push that bypassed the checks, a hand-moved ref)
is not served: the last valid revision stays live and ``problem`` says why.

Whoever must act on what a new revision no longer has registers an
:data:`AdvanceHook` in :attr:`LiveState.on_advance` (the server context revokes
the tokens of removed nodes there): it runs on every advance, whichever way the
branch moved.

Long-polls cost one asyncio future and one timer handle each, kept in a set per
node: a render wakes only the futures of the nodes whose hash changed, and a
timer that fires releases its one waiter. Plain asyncio (the server runs on
asyncio or uvloop only): anyio's cancel scope per wait cost a woken long-poll
more CPU than its answer. Their answers are built once per hash and shared
(:meth:`LiveState.answer`, :mod:`drago.server.answers`): a delta against the
config the agent holds when one of the last ``history`` rendered revisions had
it (those results share their unchanged fragments, so the history costs the
changed nodes' peer lists per revision), else the full config.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

import anyio
import anyio.to_thread

from drago.errors import DragoError, NotFound
from drago.model.state import State
from drago.render.config import NodeConfig
from drago.render.renderer import Renderer
from drago.render.result import RenderResult
from drago.server.answers import DEFAULT_CACHE_BYTES, Body, ConfigAnswers
from drago.server.dedicated import DedicatedThread
from drago.server.metrics import Metrics

log = logging.getLogger("drago.server.live")


class RevisionSource(Protocol):
    """What the live state reads from the store (a replica could provide it too)."""

    def head(self, branch: str = "main") -> str | None: ...

    def state(self, rev: str) -> State: ...


@dataclass(frozen=True)
class Snapshot:
    """One live revision, never mutated: readers take it and use it freely."""

    revision: str | None
    state: State
    result: RenderResult

    @property
    def hashes(self) -> Mapping[str, str]:
        return self.result.hashes


@dataclass(frozen=True)
class LiveProblem:
    """The branch head that is not served, and why."""

    revision: str
    error: DragoError
    since: float

    def as_dict(self) -> dict[str, object]:
        return {
            "revision": self.revision,
            "code": self.error.code,
            "message": self.error.message,
            "details": self.error.details,
            "since": self.since,
        }


EMPTY = Snapshot(None, State(), RenderResult(None, {}, {}, {}))

#: Called by :meth:`LiveState.advance` with the new accepted revision and its state.
AdvanceHook = Callable[[str | None, State], Awaitable[None]]


class LiveState:
    def __init__(
        self,
        store: RevisionSource,
        metrics: Metrics,
        *,
        branch: str = "main",
        renderer: Renderer | None = None,
        history: int = 8,
        body_cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        """``history``: how many rendered revisions deltas may start from;
        ``body_cache_bytes``: the bound of the shared answer bodies."""
        self._store = store
        self._metrics = metrics
        self._branch = branch
        self._renderer = renderer or Renderer()
        self._render_thread = DedicatedThread("drago-render")
        self._snapshot = EMPTY
        self._history: deque[RenderResult] = deque(maxlen=history)
        self.answers = ConfigAnswers(metrics, max_bytes=body_cache_bytes)
        self._refresh_lock = anyio.Lock()
        self._advance_lock = anyio.Lock()
        self._waiting: dict[str, set[asyncio.Future[None]]] = {}
        self._waiters = 0
        # read when scraped: a held long-poll updates no metric
        metrics.longpoll_waiters.set_function(lambda: self._waiters)
        self._closed = False
        self.problem: LiveProblem | None = None
        # The accepted revision and its validated state.
        self._accepted: tuple[str | None, State] = (None, EMPTY.state)
        self._wake = anyio.Event()  # set: the accepted revision may need a render
        self._idle = anyio.Event()  # set: nothing is waiting for a render
        self._idle.set()
        self._worker: asyncio.Task[None] | None = None
        #: Called after each render is swapped in (and its waiters woken), in
        #: order (the server process freezes the new render out of the cyclic
        #: garbage collector's reach there: :class:`drago.server.process.FreezeRenders`).
        self.on_swap: list[Callable[[], None]] = []
        #: Run by :meth:`advance` once the new revision is accepted (its render
        #: started), in order, before advance returns; a hook that fails is
        #: logged and does not stop the advance.
        self.on_advance: list[AdvanceHook] = []

    # -- reading ---------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The rendered revision: node configs and hashes."""
        return self._snapshot

    @property
    def revision(self) -> str | None:
        """The accepted revision: the newest valid one (it may not be rendered yet)."""
        return self._accepted[0]

    @property
    def state(self) -> State:
        """The validated state of :attr:`revision`."""
        return self._accepted[1]

    @property
    def rendered_revision(self) -> str | None:
        """The revision of the node configs being served."""
        return self._snapshot.revision

    @property
    def waiters(self) -> int:
        return self._waiters

    @property
    def closed(self) -> bool:
        return self._closed

    def hash_of(self, node: str) -> str | None:
        return self._snapshot.hashes.get(node)

    def require_hash(self, node: str) -> str:
        """The node's hash at the live revision; NotFound for unknown nodes."""
        digest = self._snapshot.hashes.get(node)
        if digest is None:
            raise NotFound(f"there is no node {node!r} at the live revision")
        return digest

    def document(self, node: str) -> tuple[str, bytes]:
        """The node's hash and JSON document (with ``revision``); NotFound if unknown."""
        result = self._snapshot.result
        digest = result.hashes.get(node)
        if digest is None:
            raise NotFound(f"there is no node {node!r} at the live revision")
        return digest, result.document(node)

    def config(self, node: str) -> NodeConfig:
        """The node's rendered config at the live revision; NotFound for unknown nodes."""
        return self._snapshot.result.config(node)

    def answer(self, node: str, base: str | None = None, *, compress: bool = False) -> Body:
        """The body to answer ``node``'s config request with, shared with every
        other request for the same hash: a delta from ``base`` (the hash the
        client holds) when a recent render had it and the delta is smaller,
        else the full config. NotFound for unknown nodes."""
        base_result = None
        if base is not None:
            base_result = next((r for r in self._history if r.hashes.get(node) == base), None)
        return self.answers.answer(
            node, self._snapshot.result, base=base, base_result=base_result, compress=compress
        )

    # -- changing --------------------------------------------------------------
    async def advance(self, revision: str | None, state: State) -> bool:
        """Make ``revision``, the branch head, the accepted revision and have it
        rendered; False (nothing changes) when the head is no longer ``revision``.

        The one way to go live: ``state`` is ``revision``'s state, already
        validated by the caller (an API commit, the push check, a merge, or
        :meth:`refresh`); it is not validated again. The API reads it as soon as
        this returns; the worker renders it in the background (a burst of
        revisions is rendered once, at the newest) and wakes only the nodes
        whose config changed. :meth:`settled` waits for that render.

        Whoever moved the branch past ``revision`` meanwhile advances to its own
        revision (or the watcher refreshes), so an older revision never
        replaces a newer one.
        """
        async with self._advance_lock:
            head = await anyio.to_thread.run_sync(self._store.head, self._branch)
            if head != revision:
                return False
            self._accepted = (revision, state)
            self._clear_problem()  # the head is valid
            if not self._closed:  # the render starts while the hooks run
                if self._idle.is_set():
                    self._idle = anyio.Event()
                self._wake.set()
                self.start()
            for hook in self.on_advance:
                try:
                    await hook(revision, state)
                except Exception:  # the revision is live whatever a hook does
                    log.exception("advancing to %s: a hook failed", (revision or "none")[:12])
            return True

    async def refresh(self) -> bool:
        """Follow the branch head after a ref moved outside the server (the
        watcher, start-up); True when a new head was :meth:`advance`-d.

        The head is validated here, once (the store caches validated trees). An
        invalid head is not served: the accepted and rendered revisions stay and
        ``problem`` says why, until the branch moves again.
        """
        async with self._refresh_lock:
            head = await anyio.to_thread.run_sync(self._store.head, self._branch)
            if head == self.revision:
                self._clear_problem()  # e.g. a ref moved back by hand
                return False
            if head is None:
                state = EMPTY.state
            elif self.problem is not None and self.problem.revision == head:
                return False
            else:
                try:
                    state = await anyio.to_thread.run_sync(self._store.state, head)
                except DragoError as exc:
                    self._set_problem(head, exc)
                    return False
            return await self.advance(head, state)

    def _set_problem(self, revision: str, exc: DragoError) -> None:
        self.problem = LiveProblem(revision, exc, time.time())
        self._metrics.live_problem.set(1)
        self._metrics.validation_failures.labels(source="live").inc()
        log.error(
            "branch %s at %s is not valid, still serving %s: %s",
            self._branch,
            revision[:12],
            (self.rendered_revision or "nothing")[:12],
            exc.message,
        )

    def _clear_problem(self) -> None:
        if self.problem is not None:
            self.problem = None
            self._metrics.live_problem.set(0)

    def start(self) -> None:
        """Start the background worker that renders accepted revisions (once;
        :meth:`advance` starts it too)."""
        if self._closed:
            return
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(
                self._render_accepted(), name="drago-live-render"
            )

    async def stop(self) -> None:
        """:meth:`close`, and wait until the worker has stopped (a render in
        progress finishes first: it runs in a thread that cannot be interrupted)."""
        self.close()
        worker, self._worker = self._worker, None
        if worker is not None:
            await asyncio.wait([worker])

    async def settled(self) -> None:
        """Wait until every accepted revision was rendered (or failed to render)."""
        while not self._idle.is_set():
            await self._idle.wait()

    async def _render_accepted(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            revision, state = self._accepted
            try:
                await self._render(revision, state)
            except Exception:  # the worker must outlive one failed render
                log.exception("rendering revision %s failed", (revision or "none")[:12])
            if not self._wake.is_set():
                self._idle.set()

    async def _render(self, revision: str | None, state: State) -> None:
        if revision == self._snapshot.revision:
            return
        if revision is None:
            self._swap(EMPTY)
            return
        started = time.perf_counter()
        try:
            result = await self._render_thread.run(self._renderer.render, state, revision)
        except DragoError as exc:
            self._set_problem(revision, exc)
            return
        self._metrics.render_seconds.observe(time.perf_counter() - started)
        self._swap(Snapshot(revision, state, result))

    def _swap(self, snapshot: Snapshot) -> None:
        old = self._snapshot.hashes
        new = snapshot.hashes
        changed = [n for n in old.keys() | new.keys() if old.get(n) != new.get(n)]
        self._snapshot = snapshot
        if snapshot.revision is not None:
            self._history.appendleft(snapshot.result)
        self._metrics.nodes.set(len(new))
        self._metrics.nodes_woken.inc(len(changed))
        for node in changed:
            release(self._waiting.pop(node, ()))
        for hook in self.on_swap:
            hook()
        log.info(
            "live revision %s (%d nodes, %d changed)",
            (snapshot.revision or "none")[:12],
            len(new),
            len(changed),
        )

    # -- waiting ---------------------------------------------------------------
    async def wait_for_change(self, node: str, known_hash: str | None, timeout: float) -> bool:
        """Wait until ``node``'s hash differs from ``known_hash``; False on timeout or close."""
        if self.hash_of(node) != known_hash:
            return True
        if self._closed or timeout <= 0:
            return False
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        waiting = self._waiting.get(node)
        if waiting is None:
            waiting = self._waiting[node] = set()
        waiting.add(waiter)
        timer = loop.call_later(timeout, release, (waiter,))
        self._waiters += 1
        try:
            await waiter  # cancelled with the request: only this waiter goes
        finally:
            timer.cancel()
            waiting.discard(waiter)  # a timeout or a cancellation: the node's set stays
            if not waiting and self._waiting.get(node) is waiting:
                del self._waiting[node]
            self._waiters -= 1
        return self.hash_of(node) != known_hash

    def close(self) -> None:
        """Release every waiter (they answer "not modified"), refuse new waits and
        stop the render worker (:meth:`stop` waits for it)."""
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
        self._render_thread.close()  # a render in progress finishes (stop waits for it)
        self._idle.set()
        waiting, self._waiting = self._waiting, {}
        for waiters in waiting.values():
            release(waiters)


def release(waiters: Iterable[asyncio.Future[None]]) -> None:
    """End the waits of ``waiters`` (those not already ended or cancelled)."""
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)
