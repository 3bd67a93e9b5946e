"""The live revision: what the server serves to agents, and who to wake when it changes.

:class:`LiveState` holds the rendered config of every node at the live revision
of the branch. :meth:`LiveState.refresh` re-reads the branch head; a new valid
head is rendered (incrementally: the renderer caches per file) and swapped in
atomically, then only the nodes whose hash changed are woken. An invalid head
(a push that bypassed the checks, a hand-moved ref) is not served: the last
valid revision stays live and ``problem`` says why.

Long-polls cost one ``anyio.Event`` per node with waiters, shared by all of that
node's waiters, and the waiter's own timeout: no task or timer per waiter beyond
the wait itself.
"""

from __future__ import annotations

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

    # -- reading ---------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def revision(self) -> str | None:
        return self._snapshot.revision

    @property
    def state(self) -> State:
        return self._snapshot.state

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
            head = await anyio.to_thread.run_sync(self._store.head, self._branch)
            if head == self._snapshot.revision:
                return False
            if head is None:
                return self._swap(EMPTY)
            if self.problem is not None and self.problem.revision == head:
                return False
            started = time.perf_counter()
            try:
                state = known[1] if known is not None and known[0] == head else None
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
            self.problem = None
            self._metrics.live_problem.set(0)
            return self._swap(snapshot)

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
        """Release every waiter (they answer "not modified") and refuse new waits."""
        self._closed = True
        events, self._events = self._events, {}
        for event in events.values():
            event.set()
