"""The API's index, who am I, is the server healthy, and its metrics."""

from __future__ import annotations

import logging
from typing import Any, Literal

import anyio.to_thread
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

import drago
from drago.errors import DatabaseUnavailable
from drago.server.answers import etag
from drago.server.api import PREFIX
from drago.server.api.common import context
from drago.server.api.config import parse_etags, parse_wait
from drago.server.api.status import count_in_sync
from drago.server.context import ServerContext
from drago.server.endpoint import Principal, Role, endpoint, reauthorize
from drago.server.metrics import CONTENT_TYPE_LATEST

log = logging.getLogger("drago.server")


class ApiIndex(BaseModel):
    """Where to go from /api/v1: no repository content, so anyone may read it."""

    name: str = Field(description='always "drago"')
    version: str = Field(description="the server's version")
    openapi: str = Field(description="path of the OpenAPI 3.1 document of this API")
    docs: str = Field(description="where the API reference is")
    links: dict[str, str] = Field(description="paths of the other entry points, by name")


class WhoAmI(BaseModel):
    token_id: str
    name: str
    email: str
    role: Role
    node: str | None


class Health(BaseModel):
    """What anyone may know: no file names, addresses or other repository content."""

    status: Literal["ok", "degraded"] = Field(
        description='"ok", or "degraded" when the branch head is not served, or a '
        "replica's primary does not answer or its revision was refused"
    )
    revision: str | None = Field(description="the live revision")
    role: Literal["primary", "replica"] = Field(description="this server's role")
    reasons: list[str] = Field(description="why the server is degraded (empty when ok)")


def degraded_reasons(ctx: ServerContext) -> list[str]:
    """Why ``ctx``'s server is degraded, without repository content (anyone may read it)."""
    reasons = []
    problem = ctx.live.problem
    if problem is not None:
        reasons.append(f"the branch head {problem.revision[:12]} is not valid and not served")
    if ctx.replica is not None:
        reasons.extend(ctx.replica.degraded_reasons())
    return reasons


class LiveProblem(BaseModel):
    """Why the branch head is not served: the error that refused it."""

    revision: str = Field(description="the refused branch head")
    code: str
    message: str
    details: Any = Field(description="as in an error answer (problems: path, key, message)")
    since: float = Field(description="unix time the head was refused")


class Live(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description='"ok", or "degraded" when the branch head is not served'
    )
    revision: str | None = Field(description="the live revision")
    nodes: int = Field(description="nodes at the live revision")
    problem: LiveProblem | None = Field(description="why the branch head is not live")


@endpoint("public", "Links to the OpenAPI document and the docs", response=ApiIndex, tags=("meta",))
async def index(request: Request, principal: Principal | None) -> Response:
    body = ApiIndex(
        name="drago",
        version=drago.__version__,
        openapi=f"{PREFIX}/openapi.json",
        docs="docs/api.md in the drago sources (generated from the OpenAPI document)",
        links={
            "whoami": f"{PREFIX}/whoami",
            "networks": f"{PREFIX}/networks",
            "nodes": f"{PREFIX}/nodes",
            "health": "/healthz",
            "metrics": "/metrics",
            "git": "/repo.git",
            "ui": "/",
        },
    )
    return JSONResponse(body.model_dump(mode="json"))


@endpoint("any", "The token's identity and role", response=WhoAmI, tags=("meta",))
async def whoami(request: Request, principal: Principal | None) -> Response:
    assert principal is not None
    body = WhoAmI(
        token_id=principal.token_id,
        name=principal.name,
        email=principal.email,
        role=principal.role,
        node=principal.node,
    )
    return JSONResponse(body.model_dump(mode="json"))


@endpoint("public", "Liveness and the live revision", response=Health, tags=("meta",))
async def healthz(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    reasons = degraded_reasons(ctx)
    body = Health(
        status="degraded" if reasons else "ok",
        revision=ctx.live.revision,
        role="primary" if ctx.replica is None else "replica",
        reasons=reasons,
    )
    return JSONResponse(body.model_dump(mode="json"))


@endpoint(
    "read",
    "The live revision and, when the branch head is not served, why "
    '(long-poll with If-None-Match: "<revision>" and ?wait=)',
    response=Live,
    query={"wait": "seconds to hold the request while the revision equals If-None-Match"},
    tags=("meta",),
)
async def live(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    wait = parse_wait(request.query_params.get("wait"), ctx.settings.max_wait)
    known = parse_etags(request.headers.get("if-none-match"))
    tag = ctx.live.revision or "none"
    if tag in known:
        changed = await ctx.revisions.wait_for_change(
            ctx.live.revision, wait, gone=request.is_disconnected
        )
        if wait > 0:
            await reauthorize(request, principal)  # revoked while held: 401
        if not changed:
            return Response(status_code=304, headers={"ETag": etag(tag)})
    problem = ctx.live.problem
    body = Live(
        status="ok" if problem is None else "degraded",
        revision=ctx.live.revision,
        nodes=len(ctx.live.snapshot.hashes),
        problem=LiveProblem.model_validate(problem.as_dict()) if problem is not None else None,
    )
    headers = {"ETag": etag(ctx.live.revision or "none"), "Cache-Control": "no-cache"}
    return JSONResponse(body.model_dump(mode="json"), headers=headers)


@endpoint("public", "Prometheus metrics (text format)", tags=("meta",))
async def metrics(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    try:
        applied = await anyio.to_thread.run_sync(ctx.status.applied)
    except DatabaseUnavailable as exc:
        # The rest of the figures matter most during an outage: keep the last in-sync count.
        log.warning("metrics without the in-sync count: %s", exc.message)
    else:
        count_in_sync(ctx, applied)  # sets the gauge
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route(PREFIX, index, methods=["GET"]),
        Route(f"{PREFIX}/whoami", whoami, methods=["GET"]),
        Route(f"{PREFIX}/live", live, methods=["GET"]),
    ]
