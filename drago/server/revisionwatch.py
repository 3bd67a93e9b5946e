"""Waiting for the accepted revision to change: ``GET /api/v1/live?wait=`` (replicas
long-poll it on their primary to learn of a new revision at once).

One ``anyio.Event`` for all waiters, replaced on every advance (an
:data:`~drago.server.live.AdvanceHook`), so a waiter costs its own wait and
nothing else. A held wait wakes at least every second to notice that the live
state closed (shutdown) or that its client went away, and then ends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from drago.model.state import State
from drago.server.live import LiveState

#: How often a held wait looks whether the server is shutting down (s).
CLOSED_CHECK = 1.0


class RevisionWatch:
    def __init__(self, live: LiveState) -> None:
        self._live = live
        self._changed = anyio.Event()
        live.on_advance.append(self._advanced)

    async def _advanced(self, revision: str | None, state: State) -> None:
        changed, self._changed = self._changed, anyio.Event()
        changed.set()

    async def wait_for_change(
        self, known: str | None, timeout: float, *, gone: Callable[[], Awaitable[bool]]
    ) -> bool:
        """Wait until the accepted revision is not ``known``; False on timeout, on
        close, or once ``gone()`` (the client disconnected) says so."""
        deadline = anyio.current_time() + timeout
        while self._live.revision == known:
            left = deadline - anyio.current_time()
            if self._live.closed or left <= 0 or await gone():
                return False
            with anyio.move_on_after(min(left, CLOSED_CHECK)):
                await self._changed.wait()
        return True
