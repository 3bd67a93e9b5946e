"""API tokens (admin only): list, create (the secret is shown once), revoke."""

from __future__ import annotations

import functools

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from drago.server.api import PREFIX
from drago.server.api.common import context
from drago.server.endpoint import Principal, Role, endpoint, parse_body
from drago.server.runtime.tokens import TokenInfo, check_token_fields, unknown_node


class TokenView(BaseModel):
    id: str
    role: Role
    node: str | None
    name: str
    email: str
    created_at: float = Field(description="unix time")

    @classmethod
    def of(cls, info: TokenInfo) -> TokenView:
        return cls(
            id=info.id,
            role=info.role,
            node=info.node,
            name=info.name,
            email=info.email,
            created_at=info.created_at,
        )


class TokenList(BaseModel):
    tokens: list[TokenView]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    node: str | None = Field(
        None, description="the node a node token is bound to (it must exist at the live revision)"
    )
    name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"^[^<>\r\n\x00]*\S[^<>\r\n\x00]*$",
        description="commit author name",
    )
    email: str | None = Field(None, min_length=3, max_length=200, pattern=r"^[^\s<>@]+@[^\s<>]+$")


class TokenCreated(BaseModel):
    token: TokenView
    secret: str = Field(description="the bearer token; shown only in this answer")


@endpoint("admin", "List tokens (never their secrets)", response=TokenList, tags=("tokens",))
async def list_tokens(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    tokens = await anyio.to_thread.run_sync(ctx.tokens.list)  # the database may be remote
    body = TokenList(tokens=[TokenView.of(t) for t in tokens])
    return JSONResponse(body.model_dump(mode="json"))


@endpoint(
    "admin",
    "Create a token; its secret is in this answer only",
    request=TokenCreate,
    response=TokenCreated,
    status_code=201,
    tags=("tokens",),
)
async def create_token(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    spec = await parse_body(request, TokenCreate)
    check_token_fields(spec.role, spec.node)
    if spec.node is not None and spec.node not in ctx.live.state.nodes:
        raise unknown_node(spec.node)
    info, secret = await anyio.to_thread.run_sync(
        functools.partial(
            ctx.tokens.create, spec.role, node=spec.node, name=spec.name, email=spec.email
        )
    )
    body = TokenCreated(token=TokenView.of(info), secret=secret)
    return JSONResponse(body.model_dump(mode="json"), status_code=201)


@endpoint("admin", "Revoke a token", response=TokenView, tags=("tokens",))
async def revoke_token(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    info = await anyio.to_thread.run_sync(ctx.tokens.revoke, request.path_params["token_id"])
    return JSONResponse(TokenView.of(info).model_dump(mode="json"))


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/tokens", list_tokens, methods=["GET"]),
        Route(f"{PREFIX}/tokens", create_token, methods=["POST"]),
        Route(f"{PREFIX}/tokens/{{token_id}}", revoke_token, methods=["DELETE"]),
    ]
