"""Every route of the app, built from its own route list: no token -> 401, a token
without the right -> 403, public routes answer without a token.

A new route is covered automatically; a route without a declaration fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from starlette.routing import BaseRoute, Mount, Route

from drago.server.app import app_routes
from drago.server.endpoint import EndpointSpec, spec_of
from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

#: Values for path parameters: a real node and network so node-scoped checks
#: compare against a real node name.
PARAMS = {
    "node": "fra-1",
    "network": "backbone",
    "index": "0",
    "rev": "main",
    "id": "nothing",
    "name": "main",
}
#: Every route under this prefix must be declared with ``endpoint()``; routes
#: elsewhere (git over HTTP with its own Basic auth, the UI's static files) are
#: checked here only when they are declared (``/healthz``, ``/metrics``).
API_PREFIX = "/api/"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    url: str
    spec: EndpointSpec

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def http_routes() -> Iterator[tuple[Route, str]]:
    routes: list[BaseRoute] = app_routes()
    for route in routes:
        assert not isinstance(route, Mount) or not route.path.startswith(API_PREFIX), (
            f"{route.path}: mount API routes flat so they can be checked"
        )
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield route, method


def cases() -> list[Case]:
    found = []
    for route, method in http_routes():
        spec = spec_of(route.endpoint)
        if spec is None:
            assert not route.path.startswith(API_PREFIX), (
                f"{method} {route.path} is not declared with endpoint()"
            )
            continue
        url = route.path_format
        for name in route.param_convertors:
            url = url.replace("{" + name + "}", PARAMS.get(name, "x"))
        found.append(Case(method, route.path_format, url, spec))
    return found


CASES = cases()


def test_every_api_route_is_declared() -> None:
    assert len(CASES) > 20
    paths = {c.path for c in CASES}
    for expected in (
        "/api/v1/networks/{network}",
        "/api/v1/nodes/{node}/keys/{network}",
        "/api/v1/revisions/{rev}/revert",
        "/api/v1/openapi.json",
    ):
        assert expected in paths


@pytest.mark.parametrize("case", [c for c in CASES if c.spec.access != "public"], ids=str)
async def test_no_token_is_401(api: Api, case: Case) -> None:
    answer = await api.call(case.method, case.url, as_=None, json={})
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "unauthorized"
    bad = await api.call(
        case.method, case.url, as_=None, json={}, headers={"Authorization": "Bearer drago_x_y"}
    )
    assert bad.status_code == 401


def _outsider(access: str) -> str | None:
    """A caller that must be refused by ``access`` (None: everyone with a token may)."""
    return {
        "admin": "reader",
        "read": "node:fra-1",
        "node-read": "node:nyc-1",
        "node-write": "reader",
    }.get(access)


@pytest.mark.parametrize("case", [c for c in CASES if _outsider(c.spec.access)], ids=str)
async def test_token_without_the_right_is_403(api: Api, case: Case) -> None:
    who = _outsider(case.spec.access)
    answer = await api.call(case.method, case.url, as_=who, json={})
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "forbidden"
    if case.spec.access == "node-write":
        other = await api.call(case.method, case.url, as_="node:nyc-1", json={})
        assert other.status_code == 403


@pytest.mark.parametrize("case", [c for c in CASES if c.spec.access == "public"], ids=str)
async def test_public_routes_answer_without_a_token(api: Api, case: Case) -> None:
    answer = await api.call(case.method, case.url, as_=None)
    assert answer.status_code < 400, answer.text
