from __future__ import annotations

import json
import logging

import pytest

from drago.server.logs import format_line, logfmt
from tests.server.conftest import Harness

pytestmark = pytest.mark.anyio


def test_logfmt_quotes_only_when_needed() -> None:
    line = logfmt({"a": 1, "b": "two words", "c": None, "d": 'q"x', "e": "k=v"})
    assert line == 'a=1 b="two words" c="" d="q\\"x" e="k=v"'


def test_json_lines() -> None:
    assert json.loads(format_line({"status": 200, "path": "/x"}, "json")) == {
        "status": 200,
        "path": "/x",
    }


async def test_every_request_is_logged(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="drago.access"):
        await harness.client.get("/healthz?x=1")
        await harness.client.get("/api/v1/nope")
        await harness.client.get("/api/v1/whoami", headers=harness.auth(harness.admin))
    lines = [r.getMessage() for r in caplog.records if r.name == "drago.access"]
    assert any('method=GET path=/healthz query="x=1" status=200' in line for line in lines)
    assert any("path=/api/v1/nope" in line and "status=404" in line for line in lines)
    admin = harness.ctx.tokens.authenticate(harness.admin)
    assert admin is not None
    assert any(
        "path=/api/v1/whoami" in line and line.endswith(f"token={admin.token_id}") for line in lines
    )
