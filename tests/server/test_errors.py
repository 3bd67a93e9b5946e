from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.requests import Request

from drago.errors import Busy, ConfigError, Conflict, DragoError, Forbidden, NotFound, Problem
from drago.server.errors import handle_unexpected, status_of
from tests.server.conftest import Harness

pytestmark = pytest.mark.anyio


def shape(body: object) -> dict[str, object]:
    assert isinstance(body, dict) and set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message", "details"}
    return error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ConfigError([Problem("nodes/a.toml", "x", "bad")]), 422),
        (NotFound("x"), 404),
        (Conflict("x"), 409),
        (Forbidden("x"), 403),
        (Busy("x"), 503),
        (DragoError("x"), 400),
    ],
)
def test_status_table(error: DragoError, status: int) -> None:
    assert status_of(error) == status


async def test_unknown_route_is_json_404(harness: Harness) -> None:
    r = await harness.client.get("/api/v1/no/such/thing")
    assert r.status_code == 404
    assert shape(r.json())["code"] == "not_found"


async def test_wrong_method_is_json_405(harness: Harness) -> None:
    r = await harness.client.request("PATCH", "/healthz")
    assert r.status_code == 405
    assert shape(r.json())["code"] == "method_not_allowed"


async def test_missing_token_is_401_with_challenge(harness: Harness) -> None:
    r = await harness.client.get("/api/v1/whoami")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert shape(r.json())["code"] == "unauthorized"
    bad = await harness.client.get("/api/v1/whoami", headers=harness.auth("drago_x_y"))
    assert bad.status_code == 401


async def test_declared_oversized_body_is_413(harness: Harness) -> None:
    r = await harness.client.post(
        "/api/v1/tokens", headers=harness.auth(harness.admin), content=b"x" * 5000
    )
    assert r.status_code == 413
    assert shape(r.json())["details"] == {"limit_bytes": 4096}


async def test_streamed_oversized_body_is_413(harness: Harness) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    r = await harness.client.post(
        "/api/v1/tokens", headers=harness.auth(harness.admin), content=chunks()
    )
    assert r.status_code == 413
    assert shape(r.json())["code"] == "payload_too_large"


async def test_unexpected_error_log_quotes_the_path(caplog: pytest.LogCaptureFixture) -> None:
    """The path is the client's: it must not put an ESC or a second line into the log."""
    path = "/api/v1/x\x1b[2K\nINFO fake line"
    scope = {"type": "http", "method": "GET", "path": path, "headers": []}
    with caplog.at_level("ERROR", logger="drago.server"):
        answer = await handle_unexpected(Request(scope), RuntimeError("boom"))
    assert answer.status_code == 500
    [record] = [r for r in caplog.records if r.name == "drago.server"]
    line = record.getMessage()
    assert line == 'unexpected error on GET "/api/v1/x\\u001b[2K\\nINFO fake line"'
    assert line.isprintable()
    plain = {"type": "http", "method": "GET", "path": "/api/v1/x", "headers": []}
    with caplog.at_level("ERROR", logger="drago.server"):
        await handle_unexpected(Request(plain), RuntimeError("boom"))
    assert caplog.records[-1].getMessage() == "unexpected error on GET /api/v1/x"
