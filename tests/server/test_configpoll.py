"""The config long-poll's own path (:mod:`drago.server.configpoll`): it takes the
plain requests agents make, hands every other one to the route, and answers
exactly as the route does.

The oracle of the property test is the route itself: a request with an empty
body declared (``Content-Length: 0``) means the same to the route but is never
taken by the fast path, so both answers of every generated request (hostile
header values and queries included) must be the same bytes.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from drago.server.app import DragoApp, create_app, open_context
from drago.server.configpoll import parse_poll
from drago.server.context import ServerContext
from drago.server.endpoint import Role
from drago.server.settings import Settings
from tests.server.conftest import Harness
from tests.server.helpers import edit

URL = "/api/v1/nodes/{}/config"
#: Answer headers that differ between two answers of the same content.
VOLATILE = frozenset({"date", "server"})


def scope(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/nodes/fra-1/config",
        "query_string": b"wait=30",
        "root_path": "",
        "headers": [(b"authorization", b"Bearer s3cret"), (b"if-none-match", b'"abc"')],
    }
    return {**base, **extra}


# -- which requests the fast path takes ------------------------------------------------


def test_an_agents_poll_is_taken() -> None:
    headers = [
        (b"authorization", b"Bearer s3cret"),
        (b"if-none-match", b'"abc"'),
        (b"a-im", b"drago-delta"),
        (b"accept-encoding", b"gzip, deflate"),
    ]
    poll = parse_poll(scope(headers=headers), 60.0)
    assert poll is not None
    assert (poll.node, poll.secret, poll.wait) == ("fra-1", "s3cret", 30.0)
    assert poll.known == {"abc"} and poll.delta and poll.compress


def test_wait_is_capped_and_optional() -> None:
    assert parse_poll(scope(query_string=b"wait=600"), 60.0).wait == 60.0  # type: ignore[union-attr]
    assert parse_poll(scope(query_string=b""), 60.0).wait == 0.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "extra",
    [
        {"method": "HEAD"},
        {"method": "POST"},
        {"type": "websocket"},
        {"root_path": "/drago"},
        {"path": "/api/v1/nodes/fra-1/config/"},
        {"path": "/api/v1/nodes/Bad.Name/config"},
        {"path": "/api/v1/nodes/fra-1"},
        {"query_string": b"format=wg-quick&network=core"},
        {"query_string": b"wait=1&wait=2"},
        {"query_string": b"wait=soon"},
        {"query_string": b"wait=-1"},
        {"query_string": b"wait=nan"},
        {"headers": [(b"if-none-match", b'"abc"')]},  # no token
        {"headers": [(b"authorization", b"Basic eDp5")]},
        {"headers": [(b"authorization", b"Bearer ")]},
        {"headers": [(b"authorization", b"Bearer s"), (b"content-length", b"0")]},
        {"headers": [(b"authorization", b"Bearer s"), (b"transfer-encoding", b"chunked")]},
    ],
)
def test_anything_else_goes_to_the_route(extra: dict[str, object]) -> None:
    assert parse_poll(scope(**extra), 60.0) is None


# -- the same answers as the route -------------------------------------------------------


@dataclass
class Served:
    portal: BlockingPortal
    ctx: ServerContext
    app: DragoApp
    client: httpx.AsyncClient
    secrets: dict[str, str]
    previous: str  # fra-1's hash one render ago (a delta base)
    taken: list[bool]


@asynccontextmanager
async def serving(tmp: Path, example_repo: Path) -> AsyncIterator[tuple[ServerContext, DragoApp]]:
    opened = open_context(Settings(data=tmp / "data", init_from=example_repo, max_wait=2.0))
    app = create_app(opened.ctx)
    await opened.ctx.start()
    try:
        yield opened.ctx, app
    finally:
        await opened.ctx.stop()


@pytest.fixture
def served(tmp_path: Path, example_repo: Path) -> Iterator[Served]:
    """A server in an event loop of its own (hypothesis calls it from plain
    functions), with fra-1's config changed once so deltas have a base."""
    with start_blocking_portal("asyncio") as portal:
        with portal.wrap_async_context_manager(serving(tmp_path, example_repo)) as (ctx, app):
            taken: list[bool] = []
            polls = app.polls
            assert polls is not None
            take = polls.take

            async def recording(scope: Scope, receive: Receive, send: Send) -> bool:
                found = await take(scope, receive, send)
                taken.append(found)
                return found

            polls.take = recording  # type: ignore[method-assign]
            previous = ctx.live.require_hash("fra-1")

            async def move() -> None:
                await edit(ctx, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-9.example.net")
                await ctx.live.settled()

            portal.call(move)
            secrets = {
                "admin": ctx.tokens.create(Role.admin, name="a", email="a@example.org")[1],
                "reader": ctx.tokens.create(Role.reader, name="r", email="r@example.org")[1],
                "fra-1": ctx.tokens.create(Role.node, node="fra-1", name="f", email="f@x.org")[1],
                "muc-1": ctx.tokens.create(Role.node, node="muc-1", name="m", email="m@x.org")[1],
            }
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://drago.test"
            )
            try:
                yield Served(portal, ctx, app, client, secrets, previous, taken)
            finally:
                portal.call(client.aclose)


#: Printable header text, hostile parts included (quotes, commas, semicolons, ``=``).
header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)


@st.composite
def requests(draw: st.DrawFn, served: Served) -> tuple[str, dict[str, str]]:
    node = draw(st.sampled_from(["fra-1", "muc-1", "ghost", "Bad.Name", "x" * 70]))
    query = draw(
        st.sampled_from(["", "?wait=0", "?wait=", "?wait=soon", "?wait=-1", "?format=json"])
        | st.builds(lambda t: "?wait=" + t, header_text.filter(lambda t: "#" not in t))
    )
    hashes = [served.ctx.live.hash_of("fra-1") or "", served.previous, "0" * 64]
    tag = st.sampled_from(hashes).map(lambda h: f'"{h}"')
    headers: dict[str, str] = {}
    who = draw(st.sampled_from(["admin", "reader", "fra-1", "muc-1", "bad", "none", "text"]))
    if who == "bad":
        headers["Authorization"] = "Bearer not-a-token"
    elif who == "text":
        headers["Authorization"] = draw(header_text)
    elif who != "none":
        headers["Authorization"] = f"Bearer {served.secrets[who]}"
    inm = draw(
        st.none()
        | tag
        | st.just("*")
        | st.lists(tag, min_size=2, max_size=3).map(", ".join)
        | tag.map(lambda t: "W/" + t)
        | header_text
    )
    if inm is not None:
        headers["If-None-Match"] = inm
    aim = draw(st.sampled_from([None, "drago-delta", "drago-delta;q=0", "vcdiff"]) | header_text)
    if aim is not None:
        headers["A-IM"] = aim
    encoding = draw(st.sampled_from(["identity", "gzip", "gzip;q=0", "*", "br"]) | header_text)
    headers["Accept-Encoding"] = encoding
    return URL.format(node) + query, headers


def answer_of(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.multi_items() if k not in VOLATILE)
    return response.status_code, headers, response.content


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_answers_are_the_routes(served: Served, data: st.DataObject) -> None:
    url, headers = data.draw(requests(served))

    raw = {k.encode(): v.encode("latin-1") for k, v in headers.items()}  # as on the wire

    async def both() -> tuple[httpx.Response, httpx.Response]:
        fast = await served.client.get(url, headers=raw)
        routed = await served.client.get(url, headers={**raw, b"Content-Length": b"0"})
        return fast, routed

    served.taken.clear()
    fast, routed = served.portal.call(both)
    assert served.taken[1] is False  # the oracle went the route's way
    assert answer_of(fast) == answer_of(routed), (url, headers)


def test_agents_requests_are_taken(served: Served) -> None:
    node = served.secrets["fra-1"]
    held = served.ctx.live.hash_of("fra-1")
    headers = {
        "Authorization": f"Bearer {node}",
        "A-IM": "drago-delta",
        "Accept-Encoding": "gzip",
    }
    cases = [
        (URL.format("fra-1"), headers, 200),
        (URL.format("fra-1") + "?wait=0", {**headers, "If-None-Match": f'"{held}"'}, 304),
        (URL.format("fra-1"), {**headers, "If-None-Match": f'"{served.previous}"'}, 226),
    ]
    for url, sent, status in cases:
        served.taken.clear()
        answer = served.portal.call(partial(served.client.get, url, headers=sent))
        assert answer.status_code == status
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert served.taken == [True]


# -- after the wait ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_token_revoked_while_waiting_gets_the_routes_401(harness: Harness) -> None:
    """Held on both ways at once (the route's by a declared empty body), revoked,
    woken by a change: the same 401, never the config."""
    h = harness
    info, secret = h.ctx.tokens.create(Role.node, node="fra-1", name="f", email="f@x.org")
    held = {**h.auth(secret), "If-None-Match": f'"{h.ctx.live.require_hash("fra-1")}"'}
    answers: dict[str, httpx.Response] = {}

    async def poll(way: str, extra: dict[str, str]) -> None:
        url = URL.format("fra-1") + "?wait=5"
        answers[way] = await h.client.get(url, headers={**held, **extra})

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poll, "fast", {})
            tg.start_soon(poll, "route", {"Content-Length": "0"})
            while h.ctx.live.waiters < 2:
                await anyio.sleep(0.01)
            h.ctx.tokens.revoke(info.id)
            await edit(h.ctx, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net")
    fast, route = answers["fast"], answers["route"]
    assert answer_of(fast) == answer_of(route)
    assert fast.status_code == 401
    assert fast.json()["error"]["code"] == "unauthorized"
    assert b"sgp-2.example.net" not in fast.content
    assert fast.headers["www-authenticate"] == 'Bearer realm="drago"'
    assert fast.headers.get_list("x-content-type-options") == ["nosniff"]


@pytest.mark.anyio
async def test_polls_are_counted_and_logged_at_debug(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    info, secret = h.ctx.tokens.create(Role.node, node="fra-1", name="f", email="f@x.org")
    held = h.ctx.live.require_hash("fra-1")
    registry = h.ctx.metrics.registry
    before = registry.get_sample_value("drago_http_requests_total", {"status": "3xx"}) or 0.0
    with caplog.at_level(logging.DEBUG, logger="drago.access"):
        answer = await h.client.get(
            URL.format("fra-1") + "?wait=0",
            headers={**h.auth(secret), "If-None-Match": f'"{held}"'},
        )
    assert answer.status_code == 304
    after = registry.get_sample_value("drago_http_requests_total", {"status": "3xx"})
    assert after == before + 1
    lines = [r for r in caplog.records if r.name == "drago.access"]
    assert len(lines) == 1
    assert lines[0].levelno == logging.DEBUG
    text = lines[0].getMessage()
    assert "status=304" in text and f"token={info.id}" in text and 'query="wait=0"' in text


@pytest.mark.anyio
async def test_a_failing_token_store_is_answered_by_the_route(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error of the store that is not drago's own (SQLite's) gives the route's
    JSON 500 on both ways, never uvicorn's bare one."""
    h = harness
    _, secret = h.ctx.tokens.create(Role.node, node="fra-1", name="f", email="f@x.org")

    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    database = h.ctx.tokens._db  # type: ignore[attr-defined]
    monkeypatch.setattr(database, "query", broken)
    app = h.client._transport.app  # type: ignore[attr-defined]
    # the route's server error middleware re-raises after answering: read the answer
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://drago.test") as client:
        for extra in ({}, {"Content-Length": "0"}):
            answer = await client.get(URL.format("fra-1"), headers={**h.auth(secret), **extra})
            answers.append(answer_of(answer))
    assert answers[0] == answers[1]
    status, headers, body = answers[0]
    assert status == 500 and b"internal_error" in body
    assert ("x-content-type-options", "nosniff") in headers
