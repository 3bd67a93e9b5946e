"""The live revision: what the server serves to agents, and who to wake when it changes.

:class:`LiveState` holds two revisions of the branch:

- the *accepted* one (``revision``, ``state``): the newest valid revision, what
  the API reads, so a writer reads its own write as soon as its commit returns;
- the *rendered* one (``snapshot``): the config of every node, what agents get.

:meth:`LiveState.refresh` re-reads the branch head; a new valid head is rendered
(incrementally: the renderer caches per file) and swapped in atomically, then
only the nodes whose hash changed are woken. An invalid head (a push that
bypassed the checks, a hand-moved ref) is not served: the last valid revision
stays live and ``problem`` says why.

A commit made through the server is :meth:`LiveState.accept`-ed (its state is
already validated) and rendered by a background worker (:meth:`LiveState.start`),
off the write path: one render at a time, and a burst of commits is rendered
once, at its newest revision.

Long-polls cost one ``anyio.Event`` per node with waiters, shared by all of that
node's waiters, and the waiter's own timeout: no task or timer per waiter beyond
the wait itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import anyio
import anyio.to_thread

from drago.errors import DragoError, NotFound
from drago.model.state import State
from drago.render.config import NodeConfig
from drago.render.renderer import Renderer
from drago.render.result import RenderResult
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


class LiveState:
    def __init__(
        self,
        store: RevisionSource,
        metrics: Metrics,
        *,
        branch: str = "main",
        renderer: Renderer | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._branch = branch
        self._renderer = renderer or Renderer()
        self._snapshot = EMPTY
        self._lock = anyio.Lock()
        self._events: dict[str, anyio.Event] = {}
        self._waiters = 0
        self._closed = False
        self.problem: LiveProblem | None = None
        # The accepted revision and state, and how many times one was accepted
        # (a render only makes its own revision the accepted one when no newer
        # commit was accepted meanwhile).
        self._accepted: tuple[str | None, State] = (None, EMPTY.state)
        self._accepts = 0
        self._wake = anyio.Event()  # set: the accepted revision may need a render
        self._idle = anyio.Event()  # set: nothing is waiting for a render
        self._idle.set()
        self._worker: asyncio.Task[None] | None = None

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

    # -- changing --------------------------------------------------------------
    async def refresh(self, known: tuple[str, State] | None = None) -> bool:
        """Make the branch head live if it changed and is valid; True when it did.

        ``known`` is a revision and its already validated state (a commit just
        made through the server): when it is the head, it is not validated again.
        """
        async with self._lock:
            accepts = self._accepts
            head = await anyio.to_thread.run_sync(self._store.head, self._branch)
            if head == self._snapshot.revision:
                if accepts == self._accepts:  # e.g. a ref moved back by hand
                    self._accepted = (head, self._snapshot.state)
                self._clear_problem()
                return False
            if head is None:
                if accepts == self._accepts:
                    self._accepted = (None, EMPTY.state)
                return self._swap(EMPTY)
            if self.problem is not None and self.problem.revision == head:
                return False
            started = time.perf_counter()
            try:
                state = known[1] if known is not None and known[0] == head else None
                if state is None and self._accepted[0] == head:
                    state = self._accepted[1]  # validated when it was accepted
                snapshot = await anyio.to_thread.run_sync(self._build, head, state)
            except DragoError as exc:
                self.problem = LiveProblem(head, exc, time.time())
                self._metrics.live_problem.set(1)
                self._metrics.validation_failures.labels(source="live").inc()
                log.error(
                    "branch %s at %s is not valid, still serving %s: %s",
                    self._branch,
                    head[:12],
                    (self.revision or "nothing")[:12],
                    exc.message,
                )
                return False
            self._metrics.render_seconds.observe(time.perf_counter() - started)
            self._clear_problem()
            if accepts == self._accepts:
                self._accepted = (snapshot.revision, snapshot.state)
            return self._swap(snapshot)

    def _clear_problem(self) -> None:
        self.problem = None
        self._metrics.live_problem.set(0)

    def accept(self, revision: str, state: State) -> None:
        """Make ``revision`` (a commit just made, ``state`` its validated state)
        the accepted revision at once, and have the worker render it."""
        self._accepted = (revision, state)
        self._accepts += 1
        if self._idle.is_set() and not self._closed:
            self._idle = anyio.Event()
        self._wake.set()

    def start(self) -> None:
        """Start the background worker that renders accepted revisions."""
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
        """Wait until every accepted revision was rendered (or found invalid)."""
        while not self._idle.is_set():
            await self._idle.wait()

    async def _render_accepted(self) -> None:
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            revision, state = self._accepted
            known = (revision, state) if revision is not None else None
            try:
                await self.refresh(known=known)
            except Exception:  # the worker must outlive one failed render
                log.exception("rendering revision %s failed", (revision or "none")[:12])
            if not self._wake.is_set():
                self._idle.set()

    def _build(self, revision: str, state: State | None) -> Snapshot:
        if state is None:
            state = self._store.state(revision)
        return Snapshot(revision, state, self._renderer.render(state, revision))

    def _swap(self, snapshot: Snapshot) -> bool:
        old = self._snapshot.hashes
        new = snapshot.hashes
        changed = [n for n in old.keys() | new.keys() if old.get(n) != new.get(n)]
        self._snapshot = snapshot
        self._metrics.nodes.set(len(new))
        self._metrics.nodes_woken.inc(len(changed))
        for node in changed:
            event = self._events.pop(node, None)
            if event is not None:
                event.set()
        log.info(
            "live revision %s (%d nodes, %d changed)",
            (snapshot.revision or "none")[:12],
            len(new),
            len(changed),
        )
        return True

    # -- waiting ---------------------------------------------------------------
    async def wait_for_change(self, node: str, known_hash: str | None, timeout: float) -> bool:
        """Wait until ``node``'s hash differs from ``known_hash``; False on timeout or close."""
        if self.hash_of(node) != known_hash:
            return True
        if self._closed or timeout <= 0:
            return False
        event = self._events.get(node)
        if event is None:
            event = self._events[node] = anyio.Event()
        self._waiters += 1
        self._metrics.longpoll_waiters.inc()
        try:
            with anyio.move_on_after(timeout):
                await event.wait()
        finally:
            self._waiters -= 1
            self._metrics.longpoll_waiters.dec()
        return self.hash_of(node) != known_hash

    def close(self) -> None:
        """Release every waiter (they answer "not modified"), refuse new waits and
        stop the render worker (:meth:`stop` waits for it)."""
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
        self._idle.set()
        events, self._events = self._events, {}
        for event in events.values():
            event.set()
