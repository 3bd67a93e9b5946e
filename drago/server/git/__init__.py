"""Git over HTTP with the push check, and the watcher of external ref changes.

The app mounts :func:`routes`; :func:`install_watcher` registers the watcher
with the context's startup and shutdown hooks.
"""

from __future__ import annotations

from drago.server.context import ServerContext
from drago.server.git.transport import routes
from drago.server.git.watcher import RefWatcher


def install_watcher(ctx: ServerContext) -> RefWatcher:
    """Watch ``ctx``'s repository from startup to shutdown; refresh the live state on changes."""
    watcher = RefWatcher(ctx.store.path, ctx.live.refresh)
    ctx.on_startup.append(watcher.start)
    ctx.on_shutdown.append(watcher.stop)
    return watcher


__all__ = ["RefWatcher", "install_watcher", "routes"]
