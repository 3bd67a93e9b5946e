"""Git over HTTP with the push check, and the watcher of external ref changes."""

from drago.server.git.transport import routes

__all__ = ["routes"]
