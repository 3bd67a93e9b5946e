from __future__ import annotations

import io
import json
import logging

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from drago.server.logs import (
    RequestLogMiddleware,
    access_log,
    configure_access_log,
    format_line,
    level_of,
    logfmt,
)
from drago.server.metrics import Metrics
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


async def test_config_poll_answers_are_debug_lines(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    url = "/api/v1/nodes/fra-1/config"
    with caplog.at_level(logging.DEBUG, logger="drago.access"):
        full = await h.client.get(url, headers=h.auth(h.admin))
        held = {**h.auth(h.admin), "If-None-Match": full.headers["etag"]}
        unchanged = await h.client.get(url, headers=held)
        revoked = await h.client.get(url, headers=h.auth("not-a-token"))
        missing = await h.client.get("/api/v1/nodes/nope/config", headers=h.auth(h.admin))
        status = await h.client.get("/api/v1/status", headers=h.auth(h.admin))
    assert (full.status_code, unchanged.status_code) == (200, 304)
    assert (revoked.status_code, missing.status_code, status.status_code) == (401, 404, 200)
    levels = [
        (r.levelno, r.getMessage().split(" status=")[1].split(" ")[0], r.getMessage())
        for r in caplog.records
        if r.name == "drago.access"
    ]
    by_line = {(level, code) for level, code, _ in levels}
    assert (logging.DEBUG, "200") in by_line  # the config
    assert (logging.DEBUG, "304") in by_line
    assert (logging.INFO, "401") in by_line  # failures stay visible
    assert (logging.INFO, "404") in by_line
    assert any(level == logging.INFO and "path=/api/v1/status" in line for level, _, line in levels)
    assert all("/config" in line for level, _, line in levels if level == logging.DEBUG)


@pytest.mark.parametrize(
    ("method", "path", "status", "level"),
    [
        ("GET", "/api/v1/nodes/fra-1/config", 226, logging.DEBUG),
        ("GET", "/api/v1/nodes/fra-1/config", 500, logging.INFO),
        ("GET", "/api/v1/nodes/fra-1/config/x", 200, logging.INFO),
        ("GET", "/api/v1/nodes/fra-1", 200, logging.INFO),
        ("PUT", "/api/v1/nodes/fra-1/config", 200, logging.INFO),
        ("GET", "/x/api/v1/nodes/fra-1/config", 200, logging.INFO),
    ],
)
def test_level_of(method: str, path: str, status: int, level: int) -> None:
    assert level_of(method, path, status) == level


def test_verbose_access_log_shows_debug_lines() -> None:
    saved = (access_log.handlers[:], access_log.level, access_log.propagate)
    try:
        configure_access_log(io.StringIO())
        assert not access_log.isEnabledFor(logging.DEBUG)
        configure_access_log(io.StringIO(), verbose=True)
        assert access_log.isEnabledFor(logging.DEBUG)
    finally:
        access_log.handlers[:], access_log.level, access_log.propagate = saved


# -- one request, one line: hostile paths, queries and user agents ---------------------
CONTROL = "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1c\x1d\x1e\x1f\x7f\x85\u2028\u2029\ufeff\u200e"
hostile_text = st.text(
    alphabet=st.one_of(st.sampled_from(CONTROL + " \"=\\'ab/%é"), st.characters(codec="utf-8")),
    max_size=40,
)


def parse_logfmt(line: str) -> dict[str, str]:
    """An independent reader of logfmt: bare values, or JSON strings for quoted ones."""
    fields: dict[str, str] = {}
    decoder = json.JSONDecoder()
    at = 0
    while at < len(line):
        key_end = line.index("=", at)
        key = line[at:key_end]
        at = key_end + 1
        if line.startswith('"', at):
            value, at = decoder.raw_decode(line, at)
        else:
            end = line.find(" ", at)
            end = len(line) if end == -1 else end
            value, at = line[at:end], end
            assert value, f"empty bare value for {key}"
        assert key not in fields
        fields[key] = value
        assert at == len(line) or line[at] == " ", line
        at += 1
    return fields


async def logged_line(path: str, query: bytes, agent: bytes, style: str) -> str:
    stream = io.StringIO()
    saved = (access_log.handlers[:], access_log.level, access_log.propagate)
    configure_access_log(stream)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        pass

    scope: Scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "headers": [(b"user-agent", agent)],
        "client": ("127.0.0.1", 1234),
    }
    try:
        await RequestLogMiddleware(app, style=style, metrics=Metrics())(scope, receive, send)
    finally:
        access_log.handlers[:], access_log.level, access_log.propagate = saved
    return stream.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    path=hostile_text,
    query=st.binary(max_size=30),
    agent=st.binary(max_size=30),
    style=st.sampled_from(["logfmt", "json"]),
)
def test_any_request_is_one_line_that_reads_back(
    path: str, query: bytes, agent: bytes, style: str
) -> None:
    output = anyio.run(logged_line, "/" + path, query, agent, style)
    assert output.endswith("\n")
    line = output[:-1]
    assert len(output.splitlines()) == 1, output
    assert all(ch.isprintable() for ch in line), line
    assert line.isascii() or style == "logfmt"
    fields = json.loads(line) if style == "json" else parse_logfmt(line)
    assert fields["path"] == "/" + path
    assert (fields["query"] or "") == query.decode("latin-1")
    assert (fields["ua"] or "") == agent.decode("latin-1")
    assert str(fields["status"]) == "200"


async def test_a_request_with_control_characters_logs_one_line(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="drago.access"):
        await harness.client.get(
            "/api/v1/a%00b%0Ac%0Dd%1Be%7Ff%E2%80%A8g", headers={"User-Agent": "x\x1b[31mred"}
        )
    [line] = [r.getMessage() for r in caplog.records if r.name == "drago.access"]
    assert all(ch.isprintable() for ch in line), line
    fields = parse_logfmt(line)
    assert fields["path"] == "/api/v1/a\x00b\nc\rd\x1be\x7ff\u2028g"
    assert fields["ua"] == "x\x1b[31mred"
