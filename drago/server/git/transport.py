"""Smart HTTP at ``/repo.git``: the three endpoints git's HTTP client uses.

``GET  /repo.git/info/refs?service=git-upload-pack|git-receive-pack``  ref advertisement
``POST /repo.git/git-upload-pack``                                    clone and fetch
``POST /repo.git/git-receive-pack``                                   push (checked)

Each request runs one dulwich handler (``stateless_rpc``) in one of git's own
worker threads (``app.state.git_turns``, see :mod:`drago.server.git.turns`)
over a fresh view of the bare repository (:class:`~drago.server.git.tips.FetchRepo`:
a fetch may still want a tip advertised moments before the branch moved);
request and response stream. A
clone or fetch request (wants and haves; git negotiates in rounds) may be at
most ``max_fetch`` bytes, a push ``max_push``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import cast

from dulwich.protocol import ReceivableProtocol
from dulwich.repo import Repo
from dulwich.server import BackendRepo, DictBackend, Handler, UploadPackHandler
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from drago.errors import DragoError, Forbidden, InvalidRequest
from drago.server.api.topology_size import size_bound
from drago.server.context import ServerContext
from drago.server.errors import drago_error_response
from drago.server.git.auth import SERVICES, Service, authorize_git
from drago.server.git.pace import ClientPace
from drago.server.git.receive import CheckedReceivePackHandler, PushPolicy
from drago.server.git.streams import ThreadedResponse, ThreadReader, ThreadWriter
from drago.server.git.tips import FetchRepo, RecentTips
from drago.server.git.turns import GitTurns

PREFIX = "/repo.git"

MakeHandler = Callable[[DictBackend, ReceivableProtocol, bool], Handler]


def _error(exc: DragoError) -> Response:
    response = drago_error_response(exc)
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="drago", charset="UTF-8"'
    return response


def _turns(request: Request) -> GitTurns:
    turns: GitTurns = request.app.state.git_turns
    return turns


def _policy(ctx: ServerContext) -> PushPolicy:
    return PushPolicy(
        store=ctx.store,
        trust=ctx.trust,
        live_branch=ctx.branch,
        max_input=ctx.settings.max_push,
        max_object=ctx.settings.max_push_object,
        max_inflated=ctx.settings.max_push_inflated,
        validator=ctx.validator,
        size=partial(size_bound, ctx.settings.max_topology, lambda: ctx.live.state),
    )


def _factory(service: Service, policy: PushPolicy | None) -> MakeHandler:
    def make(backend: DictBackend, proto: ReceivableProtocol, advertise: bool) -> Handler:
        if service == "git-upload-pack":
            return UploadPackHandler(
                backend, ["/"], proto, stateless_rpc=True, advertise_refs=advertise
            )
        assert policy is not None
        return CheckedReceivePackHandler(
            backend, ["/"], proto, policy=policy, stateless_rpc=True, advertise_refs=advertise
        )

    return make


def _opener(request: Request, service: Service, *, advertising: bool) -> Callable[[], Repo]:
    """How the handler's thread opens the repository: upload-pack through
    :class:`FetchRepo` (recent tips), receive-pack as it is."""
    ctx: ServerContext = request.app.state.ctx
    path = str(ctx.store.path)
    if service == "git-upload-pack":
        tips: RecentTips = request.app.state.git_tips
        return partial(FetchRepo, path, tips, advertising=advertising, ancestry=ctx.store)
    return partial(Repo, path)


def _pace(ctx: ServerContext) -> ClientPace:
    settings = ctx.settings
    return ClientPace(min_rate=settings.git_min_rate, grace=settings.git_io_timeout)


def _run(
    make: MakeHandler,
    open_repo: Callable[[], Repo],
    reader: ThreadReader | None,
    banner: bytes | None,
) -> Callable[[ThreadWriter], None]:
    def work(writer: ThreadWriter) -> None:
        repo = open_repo()
        try:
            read = reader.recv if reader is not None else (lambda size: b"")
            proto = ReceivableProtocol(read, writer.write)
            handler = make(DictBackend({"/": cast(BackendRepo, repo)}), proto, reader is None)
            if banner is not None:
                proto.write_pkt_line(banner)
                proto.write_pkt_line(None)
            handler.handle()
        finally:
            repo.close()

    return work


async def info_refs(request: Request) -> Response:
    ctx: ServerContext = request.app.state.ctx
    service = request.query_params.get("service", "")
    try:
        if service not in SERVICES:
            raise Forbidden("only smart HTTP is served: use git 1.6.6 or newer")
        checked: Service = "git-upload-pack" if service == "git-upload-pack" else "git-receive-pack"
        await authorize_git(request, ctx.tokens, checked)
    except DragoError as exc:
        return _error(exc)
    policy = _policy(ctx) if checked == "git-receive-pack" else None
    banner = b"# service=" + checked.encode() + b"\n"
    return ThreadedResponse(
        _run(
            _factory(checked, policy),
            _opener(request, checked, advertising=True),
            None,
            banner,
        ),
        media_type=f"application/x-{checked}-advertisement",
        turns=_turns(request),
        timeout=ctx.settings.git_io_timeout,
        pace=_pace(ctx),
    )


async def _service(request: Request, service: Service) -> Response:
    ctx: ServerContext = request.app.state.ctx
    try:
        await authorize_git(request, ctx.tokens, service)
        if request.headers.get("content-type") != f"application/x-{service}-request":
            raise InvalidRequest(f"expected Content-Type application/x-{service}-request")
        encoding = request.headers.get("content-encoding", "").lower()
        if encoding not in ("", "identity", "gzip", "x-gzip"):
            raise InvalidRequest(f"unsupported Content-Encoding {encoding}")
    except DragoError as exc:
        return _error(exc)
    settings = ctx.settings
    fetch = service == "git-upload-pack"
    pace = _pace(ctx)  # one for the request: its body and its answer
    reader = ThreadReader(
        request.stream(),
        gzip=encoding in ("gzip", "x-gzip"),
        limit=settings.max_fetch if fetch else settings.max_push,
        timeout=settings.git_io_timeout,
        what="fetch request" if fetch else "push",
        setting="max_fetch" if fetch else "max_push",
        pace=pace,
    )
    policy = _policy(ctx) if service == "git-receive-pack" else None

    async def after() -> None:
        if policy is None:
            return
        for verdict in policy.refused:
            if verdict.invalid:
                ctx.metrics.validation_failures.labels(source="push").inc()
        if policy.live is not None:
            await ctx.live.advance(*policy.live)
            await ctx.live.settled()  # the push answers once its revision is served

    return ThreadedResponse(
        _run(
            _factory(service, policy),
            _opener(request, service, advertising=False),
            reader,
            None,
        ),
        media_type=f"application/x-{service}-result",
        turns=_turns(request),
        timeout=settings.git_io_timeout,
        after=after,
        pace=pace,
    )


async def upload_pack(request: Request) -> Response:
    return await _service(request, "git-upload-pack")


async def receive_pack(request: Request) -> Response:
    return await _service(request, "git-receive-pack")


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/info/refs", info_refs, methods=["GET"]),
        Route(f"{PREFIX}/git-upload-pack", upload_pack, methods=["POST"]),
        Route(f"{PREFIX}/git-receive-pack", receive_pack, methods=["POST"]),
    ]
