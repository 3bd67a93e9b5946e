"""Every answer of the server tells browsers not to guess its type (``nosniff``):
JSON answers and errors of the API, health, metrics, git over HTTP and the UI."""

from __future__ import annotations

import base64

import pytest
from starlette.requests import Request

from drago.server.endpoint import Role
from drago.server.errors import handle_unexpected
from tests.server.conftest import Harness

pytestmark = pytest.mark.anyio


def basic(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"x:{secret}".encode()).decode()}


async def test_every_kind_of_answer_carries_nosniff(harness: Harness) -> None:
    h = harness
    admin = h.auth(h.admin)
    etag = (await h.client.get("/api/v1/nodes/fra-1/config", headers=admin)).headers["etag"]
    calls: list[tuple[str, str, dict[str, str], bytes | None, int | None]] = [
        ("GET", "/healthz", {}, None, 200),
        ("GET", "/metrics", {}, None, 200),
        ("GET", "/api/v1/openapi.json", {}, None, 200),
        ("GET", "/api/v1/nodes", admin, None, 200),
        ("GET", "/api/v1/nodes/fra-1/config", {**admin, "If-None-Match": etag}, None, 304),
        ("GET", "/api/v1/nodes", {}, None, 401),
        ("GET", "/api/v1/tokens", h.auth(h.token(Role.reader)), None, 403),
        ("GET", "/api/v1/nodes/Bad.Name", admin, None, 400),
        ("GET", "/api/v1/nodes/ghost", admin, None, 404),
        ("GET", "/api/v1/no-such-thing", admin, None, 404),
        ("PATCH", "/api/v1/nodes", admin, None, 405),
        ("POST", "/api/v1/validate", admin, b"{", 400),
        ("POST", "/api/v1/validate", admin, b'{"changes": 1}', 422),
        ("POST", "/api/v1/validate", admin, b"x" * 10_000, 413),
        ("GET", "/repo.git/info/refs?service=git-upload-pack", basic(h.admin), None, 200),
        ("GET", "/repo.git/info/refs?service=git-upload-pack", {}, None, 401),
        ("GET", "/", {}, None, None),
    ]
    for method, url, headers, content, status in calls:
        answer = await h.client.request(method, url, headers=headers, content=content)
        if status is not None:
            assert answer.status_code == status, (method, url, answer.text)
        assert answer.headers.get("x-content-type-options") == "nosniff", (method, url)
        assert len(answer.headers.get_list("x-content-type-options")) == 1, (method, url)


async def test_internal_errors_carry_nosniff() -> None:
    scope = {"type": "http", "method": "GET", "path": "/api/v1/x", "headers": []}
    answer = await handle_unexpected(Request(scope), RuntimeError("boom"))
    assert answer.status_code == 500
    assert answer.headers["x-content-type-options"] == "nosniff"
