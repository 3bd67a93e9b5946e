"""The app factory: routes, middleware, error handlers and lifespan around a context.

``create_app(ctx)`` builds the Starlette application; ``open_context(settings)``
opens (or on first start initialises) the data directory and builds the context.
Nothing here reads the environment or starts a server: that is the CLI's job.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio.to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drago.errors import PayloadTooLarge
from drago.model.directory import read_directory
from drago.model.state import SourceFile
from drago.model.validate import Validator
from drago.render.renderer import Renderer
from drago.server import api, git, ui
from drago.server.configpoll import ConfigPolls
from drago.server.context import ServerContext
from drago.server.datadir import DataDir, write_private
from drago.server.endpoint import Role
from drago.server.errors import EXCEPTION_HANDLERS, drago_error_response
from drago.server.git.tips import RecentTips
from drago.server.live import LiveState
from drago.server.logs import RequestLog, RequestLogMiddleware
from drago.server.metrics import Metrics
from drago.server.nosniff import NoSniffMiddleware
from drago.server.recheck import TokenAuthentication, TokenRecheck
from drago.server.replica.forward import ForwardWrites
from drago.server.replica.replica import check_replica_settings, install_replica
from drago.server.runtime.stores import initialised, open_runtime
from drago.server.settings import Settings
from drago.signing import ServerKey, Trust
from drago.store import GitStore

log = logging.getLogger("drago.server")

GIT_PREFIX = "/repo.git"


class BodyLimitMiddleware:
    """413 for request bodies over the limit (declared or streamed); git pushes and
    git fetches (clone, fetch) get their own."""

    def __init__(self, app: ASGIApp, *, limit: int, push_limit: int, fetch_limit: int) -> None:
        self.app = app
        self.limit = limit
        self.push_limit = push_limit
        self.fetch_limit = fetch_limit

    def _limit(self, path: str) -> tuple[int, str]:
        if path == GIT_PREFIX + "/git-upload-pack":
            return self.fetch_limit, "max_fetch"
        if path.startswith(GIT_PREFIX + "/"):
            return self.push_limit, "max_push"
        return self.limit, "max_body"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit, setting = self._limit(path)
        framed = False  # a request without Content-Length or Transfer-Encoding has no body
        for name, value in scope["headers"]:
            if name == b"content-length":
                framed = True
                if value.isdigit() and int(value) > limit:
                    response = drago_error_response(too_large(limit, setting))
                    await response(scope, receive, send)
                    return
            elif name == b"transfer-encoding":
                framed = True
        if not framed:  # a long-poll, most GETs: nothing to count
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit, setting)
            return message

        await self.app(scope, limited_receive, send)


def too_large(limit: int, setting: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body larger than {limit} bytes ({setting})", details={"limit_bytes": limit}
    )


class DragoApp(Starlette):
    """The application, with the config long-poll's own way in front
    (:mod:`drago.server.configpoll`): what it does not take goes through the
    middlewares and routes."""

    polls: ConfigPolls | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        polls = self.polls
        if polls is not None and scope["type"] == "http" and await polls.take(scope, receive, send):
            return
        await super().__call__(scope, receive, send)


def app_routes() -> list[BaseRoute]:
    """Every route of the server: the REST API, git over HTTP, then the UI (catch-all)."""
    return [*api.routes(), *git.routes(), *ui.routes()]


def create_app(ctx: ServerContext) -> DragoApp:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ctx.start()
        try:
            yield
        finally:
            await ctx.stop()

    settings = ctx.settings
    middleware = [
        Middleware(RequestLogMiddleware, style=settings.log_format, metrics=ctx.metrics),
        Middleware(NoSniffMiddleware),
        Middleware(
            BodyLimitMiddleware,
            limit=settings.max_body,
            push_limit=settings.max_push,
            fetch_limit=settings.max_fetch,
        ),
    ]
    if ctx.replica is None:
        git.install_watcher(ctx)  # pushes and hand-moved refs make new revisions live
    else:  # a replica's refs move only by its mirror; its writes go to the primary
        middleware.append(Middleware(ForwardWrites, forwarder=ctx.replica.forwarder))
    app = DragoApp(
        routes=app_routes(),
        middleware=middleware,
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    # tokens are looked up in batches: requests arriving together share one thread hop
    app.state.authentication = TokenAuthentication(ctx.tokens)
    app.state.recheck = TokenRecheck(ctx.tokens)  # held long-polls re-check their tokens
    # git work gets threads of its own, never the pool token checks and commits need
    app.state.git_turns = git.GitTurns(settings.git_concurrency, settings.git_wait)
    app.state.git_tips = RecentTips()  # a fetch racing a write still gets its tips
    app.polls = ConfigPolls(
        ctx,
        authentication=app.state.authentication,
        recheck=app.state.recheck,
        request_log=RequestLog(style=settings.log_format, metrics=ctx.metrics),
    )
    return app


@dataclass(frozen=True)
class Opened:
    """A context and what opening it did (for the CLI to print)."""

    ctx: ServerContext
    created: bool
    imported: str | None  # revision of the --init-from import
    bootstrap_secret: str | None  # only on the first start


def open_context(settings: Settings) -> Opened:
    """Open the data directory, creating and initialising it on first start.

    ``init_from`` is read and validated before anything is created, and only
    imported while the branch has no commit.
    """
    datadir = DataDir(settings.data)
    datadir.check_existing()
    created = not initialised(datadir, settings.database)
    validator = Validator()
    store = (
        GitStore.open(datadir.repo, branch=settings.branch, validator=validator)
        if datadir.repo.is_dir()
        else None
    )
    files: list[SourceFile] | None = None
    if settings.replica_of is not None:
        check_replica_settings(settings)
    if settings.init_from is not None:
        if store is None or store.head(settings.branch) is None:
            files = read_directory(settings.init_from)
            validator.validate_files(files)
        else:
            log.warning("%s already has a history; ignoring --init-from", datadir.repo)
    datadir.ensure_root()
    if store is None:
        store = GitStore.init(datadir.repo, branch=settings.branch, validator=validator)
    store.make_durable()  # objects reach the disk before a ref names them
    server_key = ServerKey.load_or_create(datadir.server_key)
    runtime = open_runtime(datadir, settings.database, server_key=server_key)
    tokens = runtime.tokens
    metrics = Metrics()
    ctx = ServerContext(
        settings=settings,
        datadir=datadir,
        store=store,
        tokens=tokens,
        status=runtime.status,
        live=LiveState(
            store, metrics, branch=settings.branch, renderer=Renderer(validator=validator)
        ),
        metrics=metrics,
        trust=Trust.load(runtime.signers, server_key),
        server_key=server_key,
        database=runtime.database,
        validator=validator,
    )
    imported = None
    if files is not None and settings.init_from is not None:
        imported = import_files(ctx, files, f"import {settings.init_from.resolve().name}")
    secret = None
    # A database without tokens gets a bootstrap admin token: on the first start, when
    # the file is gone, or when a shared database is new to this data directory (a
    # data directory moved from SQLite). One with tokens (from another server) needs none.
    fresh = created or runtime.shared or not datadir.bootstrap_token.exists()
    if settings.replica_of is not None:
        install_replica(ctx)  # the primary's tokens serve: no bootstrap token here
    elif fresh and not tokens.list():
        _, secret = tokens.create(Role.admin, name="bootstrap admin", email="admin@drago.invalid")
        write_private(datadir.bootstrap_token, secret + "\n")
    return Opened(ctx, created, imported, secret)


def import_files(ctx: ServerContext, files: list[SourceFile], message: str) -> str:
    """Commit validated ``files`` as the first commit of the branch (signed by the server)."""
    signer = ctx.server_key
    return ctx.store.commit(
        {f.path: f.data for f in files},
        message=message,
        author=ctx.server_identity,
        committer=ctx.server_identity,
        base=None,
        branch=ctx.branch,
        sign=signer.sign if signer is not None else None,
    )


async def build_context(settings: Settings) -> ServerContext:
    opened = await anyio.to_thread.run_sync(open_context, settings)
    return opened.ctx


__all__ = ["DragoApp", "Opened", "build_context", "create_app", "open_context"]
