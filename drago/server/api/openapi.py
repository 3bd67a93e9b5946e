"""The OpenAPI 3.1 document, generated from the app's routes and their declarations.

Nothing here lists endpoints by hand: every route built with
:func:`drago.server.endpoint.endpoint` is described from its ``EndpointSpec``
(access policy -> security and error answers, pydantic models -> schemas,
path converters -> path parameters, ``query`` -> query parameters).

``python -m drago.server.api.openapi`` prints the JSON document;
``--markdown`` prints the reference that is ``docs/api.md``, ``--typescript`` the
UI's API types that are ``ui/src/api-types.ts``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.convertors import FloatConvertor, IntegerConvertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

import drago
from drago.model.names import NAME_PATTERN
from drago.server.api import PREFIX
from drago.server.api.markdown import to_markdown
from drago.server.api.models import ErrorBody
from drago.server.api.typescript import to_typescript
from drago.server.endpoint import EndpointSpec, Principal, endpoint, spec_of

REF = "#/components/schemas/{model}"
#: Answers are described by their fields as well (their "validation" schema): the
#: spec models leave out null fields when serialised, which a serialisation
#: schema could not express.
MODE: Literal["validation"] = "validation"

ERRORS: dict[int, str] = {
    400: "malformed request: not JSON, or a bad path or query parameter",
    401: "no valid bearer token",
    403: "the token may not do this",
    404: "no such resource",
    409: "stale If-Match base revision, or the resource exists",
    413: "request body too large",
    422: (
        "the body does not match its schema (details list {field, message}; values are"
        " never coerced), or the change is invalid (details list {path, key, message})"
    ),
}
#: Schemas of path parameters whose meaning is the same on every route.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "node": {"type": "string", "pattern": f"^{NAME_PATTERN}$", "description": "node name"},
    "network": {"type": "string", "pattern": f"^{NAME_PATTERN}$", "description": "network name"},
    "index": {"type": "integer", "minimum": 0, "description": "position in the list (0-based)"},
    "rev": {"type": "string", "description": "revision: sha, short sha, branch, main~N"},
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

ACCESS_TEXT = {
    "public": "public (no token)",
    "any": "any valid token",
    "read": "admin or reader token",
    "admin": "admin token",
    "node-read": "admin, reader, or the node's own token",
    "node-write": "admin, or the node's own token",
}


def operations(
    routes: Iterable[BaseRoute], prefix: str = ""
) -> Iterator[tuple[str, str, Route, EndpointSpec]]:
    """(path, method, route, spec) for every declared endpoint, in route order."""
    for route in routes:
        if isinstance(route, Mount):
            yield from operations(route.routes, prefix + route.path_format)
            continue
        if not isinstance(route, Route):
            continue
        spec = spec_of(route.endpoint)
        if spec is None:
            continue
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            yield prefix + route.path_format, method, route, spec


def _parameters(route: Route, spec: EndpointSpec) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name, convertor in route.param_convertors.items():
        schema: dict[str, Any] = dict(PATH_PARAMETERS.get(name, {"type": "string"}))
        if isinstance(convertor, IntegerConvertor):
            schema = {"type": "integer", "minimum": 0}
        elif isinstance(convertor, FloatConvertor):
            schema = {"type": "number"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for where, named in (("query", spec.query), ("header", spec.headers)):
        for name, description in named.items():
            params.append(
                {
                    "name": name,
                    "in": where,
                    "required": False,
                    "description": description,
                    "schema": {"type": "string"},
                }
            )
    return params


def _error_statuses(method: str, spec: EndpointSpec, has_params: bool) -> list[int]:
    statuses = [400]
    if spec.access != "public":
        statuses.append(401)
    if spec.access not in ("public", "any"):
        statuses.append(403)
    if has_params:
        statuses.append(404)
    if method in WRITE_METHODS:
        statuses += [409, 413, 422]
    return sorted(statuses)


def openapi_document(routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 document describing every declared endpoint of ``routes``."""
    found = list(operations(routes))
    wanted: list[tuple[type[BaseModel], Literal["validation"]]] = [(ErrorBody, MODE)]
    for _, _, _, spec in found:
        if spec.request is not None:
            wanted.append((spec.request, MODE))
        if spec.response is not None:
            wanted.append((spec.response, MODE))
        wanted += [(a.model, MODE) for a in spec.answers.values() if a.model is not None]
    unique = list(dict.fromkeys(wanted))
    refs, defs = models_json_schema(unique, ref_template=REF)

    paths: dict[str, dict[str, Any]] = {}
    for path, method, route, spec in found:
        error_ref = refs[(ErrorBody, MODE)]
        parameters = _parameters(route, spec)
        operation: dict[str, Any] = {
            "operationId": f"{route.endpoint.__name__}_{method.lower()}",
            "summary": spec.summary,
            "tags": list(spec.tags),
            "x-access": spec.access,
            "security": [] if spec.access == "public" else [{"bearer": []}],
        }
        if parameters:
            operation["parameters"] = parameters
        if spec.request is not None:
            operation["requestBody"] = {
                "required": method in ("POST", "PUT", "PATCH") and _has_required(spec.request),
                "content": {"application/json": {"schema": refs[(spec.request, MODE)]}},
            }
        success: dict[str, Any] = {"description": spec.summary}
        if spec.response is not None:
            success["content"] = {"application/json": {"schema": refs[(spec.response, MODE)]}}
        responses: dict[str, Any] = {str(spec.status_code): success}
        for status, other in sorted(spec.answers.items()):
            answer: dict[str, Any] = {"description": other.description}
            if other.model is not None:
                media = other.media_type or "application/json"
                answer["content"] = {media: {"schema": refs[(other.model, MODE)]}}
            responses[str(status)] = answer
        for status in _error_statuses(method, spec, bool(route.param_convertors)):
            responses[str(status)] = {
                "description": ERRORS[status],
                "content": {"application/json": {"schema": error_ref}},
            }
        operation["responses"] = responses
        paths.setdefault(path, {})[method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "drago API",
            "version": drago.__version__,
            "description": (
                "GitOps configuration manager for WireGuard networks. Every write is one"
                " Git commit; send `If-Match: <revision>` to get 409 instead of writing"
                " on top of changes you have not seen. Errors are"
                ' `{"error": {"code", "message", "details"}}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an API token: `Authorization: Bearer drago_...`",
                }
            },
        },
    }


def _has_required(model: type[BaseModel]) -> bool:
    return any(field.is_required() for field in model.model_fields.values())


@endpoint("public", "This OpenAPI 3.1 document", tags=("meta",))
async def openapi_json(request: Request, principal: Principal | None) -> Response:
    return JSONResponse(openapi_document(request.app.routes))


def routes() -> list[BaseRoute]:
    return [Route(f"{PREFIX}/openapi.json", openapi_json, methods=["GET"])]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drago.server.api.openapi", description=__doc__.split("\n\n")[0]
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--markdown", action="store_true", help="print docs/api.md instead")
    shown.add_argument(
        "--typescript", action="store_true", help="print ui/src/api-types.ts instead"
    )
    args = parser.parse_args(argv)
    from drago.server.app import app_routes

    document = openapi_document(app_routes())
    if args.markdown:
        sys.stdout.write(to_markdown(document))
    elif args.typescript:
        sys.stdout.write(to_typescript(document))
    else:
        sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
