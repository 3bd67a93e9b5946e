"""Serving the web UI: the built single-page app at ``/``.

The UI is built from ``ui/`` into ``drago/server/ui_dist/`` (by the package build,
see ``hatch_build.py``, or ``npm run build`` in ``ui/``). Hashed files under
``/assets/`` are cached for a year; every other path that is not an API, git or
file route answers ``index.html`` (no cache) so the app's own router can show it.
Without a build, ``/`` answers a page that says how to build the UI.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from drago.errors import NotFound

#: Where the package build writes the UI.
UI_DIST = Path(__file__).resolve().parent / "ui_dist"

#: Paths that belong to the server, never to the app (unknown ones stay 404).
SERVER_PREFIXES = ("api/", "repo.git/")
SERVER_PATHS = frozenset({"api", "repo.git", "healthz", "metrics"})

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

#: The app loads only its own files and talks only to its own server (inline
#: styles stay allowed: the graph library writes its own style element).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

NOT_BUILT = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>drago: web UI not built</title>
<style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;
line-height:1.5}}code,pre{{background:#f1f3f5;padding:.1rem .3rem;border-radius:4px}}
pre{{padding:.7rem}}</style></head>
<body>
<h1>The drago web UI is not built</h1>
<p>The server is running and its REST API answers under <a href="/api/v1/openapi.json">
<code>/api/v1</code></a>, but this installation has no built UI in
<code>{dist}</code>.</p>
<p>Installing drago from its source tree builds the UI (Node.js 20 or newer and npm
are needed at install time):</p>
<pre>python3 -m pip install .</pre>
<p>or build it in place for an editable install:</p>
<pre>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>Then reload this page; the server does not need a restart.</p>
</body>
</html>
"""


class AssetFiles(StaticFiles):
    """Hashed build assets: cached for a year, never revalidated."""

    async def check_config(self) -> None:
        if self.directory is None or not Path(self.directory).is_dir():
            raise NotFound("the web UI is not built: no assets")

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        response.headers.update(SECURITY_HEADERS)
        return response


class UIApp:
    """The app's pages: a file of the build's root, else ``index.html``."""

    def __init__(self, dist: Path) -> None:
        self.dist = dist

    def root_file(self, path: str) -> Path | None:
        """A file at the top of the build (``favicon.ico``), never outside it."""
        if not path or "/" in path or path.startswith("."):
            return None
        candidate = self.dist / path
        return candidate if candidate.is_file() else None

    async def page(self, request: Request) -> Response:
        path: str = request.path_params.get("path", "")
        if path in SERVER_PATHS or path.startswith(SERVER_PREFIXES):
            raise NotFound(f"no such resource: /{path}")
        index = self.dist / "index.html"
        if not index.is_file():
            return HTMLResponse(
                NOT_BUILT.format(dist=escape(str(self.dist))),
                status_code=503,
                headers={"Cache-Control": REVALIDATE, **SECURITY_HEADERS},
            )
        found = self.root_file(path)
        return FileResponse(
            found or index,
            headers={"Cache-Control": REVALIDATE, **SECURITY_HEADERS},
        )


def routes(dist: Path = UI_DIST) -> list[BaseRoute]:
    """The UI's routes; mount them after every API and git route."""
    ui = UIApp(dist)
    return [
        Mount("/assets", app=AssetFiles(directory=dist / "assets", check_dir=False)),
        Route("/{path:path}", ui.page, methods=["GET", "HEAD"]),
    ]


__all__ = ["UI_DIST", "routes"]
