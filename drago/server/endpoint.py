"""How an API endpoint is declared: its access policy, its models, its summary.

Every route of the REST API is built with :func:`endpoint`. The declaration is
data (``EndpointSpec``) that three readers share: the request handler (which
authorizes before the endpoint runs), the OpenAPI generator, and the
authorization test that walks the app's route list.

Access policies:

``public``      no token needed (health, metrics, OpenAPI document)
``any``         any valid token
``read``        admin or reader tokens
``admin``       admin tokens
``node-read``   admin, reader, or the node token of the ``{node}`` path parameter
``node-write``  admin, or the node token of the ``{node}`` path parameter
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from drago.errors import Forbidden, InvalidBody, InvalidRequest, Unauthorized

if TYPE_CHECKING:
    from drago.server.recheck import TokenAuthentication, TokenRecheck

Access = Literal["public", "any", "read", "admin", "node-read", "node-write"]
ACCESS_POLICIES: tuple[Access, ...] = ("public", "any", "read", "admin", "node-read", "node-write")


class Role(enum.StrEnum):
    admin = "admin"
    reader = "reader"
    node = "node"


@dataclass(frozen=True)
class Principal:
    """Who a valid token belongs to; its name and email author its commits."""

    token_id: str
    name: str
    email: str
    role: Role
    node: str | None = None


class TokenAuthenticator(Protocol):
    def authenticate(self, secret: str) -> Principal | None: ...


@dataclass(frozen=True)
class OtherAnswer:
    """A success answer besides ``status_code`` (a 226 delta, a 304)."""

    description: str
    media_type: str | None = None
    model: type[BaseModel] | None = None


@dataclass(frozen=True)
class EndpointSpec:
    access: Access
    summary: str
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status_code: int = 200
    query: dict[str, str] = field(default_factory=dict)  # name -> description
    tags: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # request header -> description
    answers: dict[int, OtherAnswer] = field(default_factory=dict)  # status -> answer


#: Where an authorized request's principal is left in the ASGI scope.
PRINCIPAL_SCOPE_KEY = "drago.principal"

Handler = Callable[[Request, Principal | None], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=BaseModel)


def bearer_secret(request: Request) -> str | None:
    return parse_bearer(request.headers.get("authorization"))


def parse_bearer(header: str | None) -> str | None:
    """The secret of an ``Authorization: Bearer SECRET`` header, or None."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


async def authorize(request: Request, access: Access) -> Principal | None:
    """Check the request's bearer token against ``access``; raise 401/403 errors.

    The token is looked up off the event loop (SQLite), together with the
    tokens of the other requests of the same moment (see :mod:`drago.server.recheck`).
    """
    if access == "public":
        return None
    secret = bearer_secret(request)
    if secret is None:
        raise Unauthorized("missing bearer token (Authorization: Bearer TOKEN)")
    authentication: TokenAuthentication = request.app.state.authentication
    principal = await authentication.principal(secret)
    if principal is None:
        raise Unauthorized("invalid or revoked token")
    return permit(request, access, principal)


def permit(request: Request, access: Access, principal: Principal) -> Principal:
    """``principal`` if its role (and node) may do what ``access`` guards; else Forbidden."""
    problem = refusal(access, principal, request.path_params.get("node"))
    if problem is not None:
        raise Forbidden(problem)
    return principal


def refusal(access: Access, principal: Principal, node: object) -> str | None:
    """Why ``principal`` may not do what ``access`` guards on the ``{node}`` path
    parameter ``node`` (None: it may)."""
    if principal.role is Role.admin or access == "any":
        return None
    if access in ("read", "node-read") and principal.role is Role.reader:
        return None
    if access in ("node-read", "node-write") and principal.role is Role.node:
        if (
            node is not None
            and principal.node is not None
            and hmac.compare_digest(str(node).encode(), principal.node.encode())
        ):
            return None
        return f"this node token may only access node {principal.node!r}"
    return f"a {principal.role} token may not do this"


async def reauthorize(request: Request, principal: Principal | None) -> None:
    """Check again that the request's token exists: a request held for a while (a
    long-poll) must not answer with what its token may no longer read.

    401 when the token was revoked meanwhile. The secret matched the token when
    the request arrived, and a token's role and node never change, so finding
    its id again is enough (in batches, see :mod:`drago.server.recheck`).
    """
    if principal is None:
        return
    recheck: TokenRecheck = request.app.state.recheck
    if not await recheck.valid(principal.token_id):
        raise Unauthorized("the token was revoked while the request waited")


def endpoint(
    access: Access,
    summary: str,
    *,
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status_code: int = 200,
    query: dict[str, str] | None = None,
    tags: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
    answers: dict[int, OtherAnswer] | None = None,
) -> Callable[[Handler], Endpoint]:
    """Declare an API endpoint: ``async def handler(request, principal) -> Response``."""
    spec = EndpointSpec(
        access,
        summary,
        request,
        response,
        status_code,
        query or {},
        tags,
        headers or {},
        answers or {},
    )

    def decorate(handler: Handler) -> Endpoint:
        async def run(req: Request) -> Response:
            principal = await authorize(req, access)
            if principal is not None:
                req.scope[PRINCIPAL_SCOPE_KEY] = principal  # for the request log
            return await handler(req, principal)

        run.__name__ = handler.__name__
        run.__doc__ = handler.__doc__ or summary
        run.spec = spec  # type: ignore[attr-defined]
        return run

    return decorate


def spec_of(func: Any) -> EndpointSpec | None:
    """The declaration of an endpoint built with :func:`endpoint`, if it is one."""
    spec = getattr(func, "spec", None)
    return spec if isinstance(spec, EndpointSpec) else None


def _message(text: str) -> str:
    """A validator's own words, without the prefix pydantic puts before them."""
    for prefix in ("Value error, ", "Assertion failed, "):
        text = text.removeprefix(prefix)
    return text


async def parse_body(req: Request, model: type[M]) -> M:
    """The JSON body of ``req`` as ``model``, read strictly (the one body reader).

    A body that is not JSON, or not a JSON object, is a 400; an empty body reads
    as ``{}``. JSON of the wrong shape is a 422 naming each field: values are
    never coerced (``"51820"`` is not an integer, ``1.0`` not a count, ``true``
    not a number), so what a client sends is what the documentation says it sends.
    """
    raw = await req.body()
    try:
        return model.model_validate_json(raw or b"{}", strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": _message(err["msg"])}
            for err in errors
        ]
        if any(err["type"] == "json_invalid" for err in errors):
            raise InvalidRequest(
                f"request body is not valid JSON: {errors[0]['msg']}", details=details
            ) from None
        if any(err["type"] == "model_type" and not err["loc"] for err in errors):
            raise InvalidRequest("request body must be a JSON object", details=details) from None
        raise InvalidBody(
            "request body does not match the schema: "
            + "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details),
            details=details,
        ) from None
