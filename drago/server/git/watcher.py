"""Notice ref changes made outside the server (a push over SSH, a mirror job).

A thread watches the bare repository with watchfiles (the root minus
``objects/``, ignoring ``*.lock`` files) and, on any event, runs the callback
on the event loop: the live state re-reads the branch head, goes live with a
valid new revision or keeps the last valid one and records the problem.
``git pack-refs`` moves refs into ``packed-refs``, so every event re-reads
refs rather than interpreting the path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import watchfiles

log = logging.getLogger("drago.server.git")

OnChange = Callable[[], Awaitable[object]]


class RefWatcher:
    def __init__(self, repository: Path, on_change: OnChange, *, debounce_ms: int = 30) -> None:
        self.repository = repository.resolve()
        self._on_change = on_change
        self._debounce = debounce_ms
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.events = 0

    def relevant(self, change: watchfiles.Change, path: str) -> bool:
        relative = Path(path).relative_to(self.repository) if path else Path()
        parts = relative.parts
        if parts and parts[0] == "objects":
            return False
        return not path.endswith(".lock")

    async def start(self) -> None:
        if self._thread is not None:
            return
        token = anyio.lowlevel.current_token()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(token,), name="drago-ref-watcher", daemon=True
        )
        self._thread.start()
        await anyio.to_thread.run_sync(self._ready.wait, 5.0)

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        await anyio.to_thread.run_sync(thread.join, 5.0)

    def _run(self, token: anyio.lowlevel.EventLoopToken) -> None:
        self._ready.set()
        try:
            for _changes in watchfiles.watch(
                self.repository,
                watch_filter=self.relevant,
                debounce=self._debounce,
                step=10,
                stop_event=self._stop,
                raise_interrupt=False,
            ):
                self.events += 1
                try:
                    anyio.from_thread.run(self._call, token=token)
                except RuntimeError:
                    return  # the event loop is gone
        except Exception:
            log.exception("the repository watcher stopped")

    async def _call(self) -> None:
        try:
            await self._on_change()
        except Exception:
            log.exception("refreshing after an external ref change failed")
