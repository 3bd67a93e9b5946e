"""Git over HTTP with the push check, and the watcher of external ref changes.

The app mounts :func:`routes`; :func:`install_watcher` registers the watcher
with the context's startup and shutdown hooks.
"""

from __future__ import annotations

import logging

import anyio.to_thread

from drago.server.context import ServerContext
from drago.server.git.quarantine import sweep
from drago.server.git.transport import routes
from drago.server.git.turns import GitTurns
from drago.server.git.watcher import RefWatcher

log = logging.getLogger("drago.server.git")


def install_watcher(ctx: ServerContext) -> RefWatcher:
    """Watch ``ctx``'s repository from startup to shutdown; refresh the live state on changes.

    At startup it also removes quarantine directories a crash left behind.
    """
    watcher = RefWatcher(ctx.store.path, ctx.live.refresh)

    async def sweep_quarantine() -> None:
        removed = await anyio.to_thread.run_sync(sweep, ctx.store.path)
        if removed:
            log.info("removed %d stale push quarantine directories", removed)

    ctx.on_startup.append(sweep_quarantine)
    ctx.on_startup.append(watcher.start)
    ctx.on_shutdown.append(watcher.stop)
    return watcher


__all__ = ["GitTurns", "RefWatcher", "install_watcher", "routes"]
