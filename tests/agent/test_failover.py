"""Several servers: the agent sticks to one, fails over, comes back, keeps its config.

The servers are httpx mock transports speaking the server's protocol (whoami,
the config long-poll by hash, keys, status); the agent is the real loop with
the fake WireGuard host.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from drago.agent.backends.fake import FakeHost
from drago.agent.cache import ConfigCache
from drago.agent.client import HttpClient
from drago.agent.failover import Failover
from drago.agent.loop import Agent
from drago.errors import DragoError, NotFound, ServerUnavailable, Unauthorized
from drago.render.config import NodeConfig
from drago.server.runtime.status import StatusReport
from tests.agent.factory import standard
from tests.agent.test_loop import Clock, make_agent, record_waits

Step = Callable[[], None]


class Server:
    """One drago server behind a mock transport; ``down`` refuses connections,
    ``failing`` answers 503. Each long-poll that finds the hash unchanged runs the
    next step of the shared script (then answers 304)."""

    def __init__(self, url: str, config: NodeConfig, script: list[Step]) -> None:
        self.url = url
        self.config = config
        self.script = script
        self.down = False
        self.failing = False
        #: Answer 200 with the whole config even when the agent holds its hash.
        self.ignores_etag = False
        self.requests: list[str] = []
        self.reports: list[dict[str, Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        if self.failing:
            return httpx.Response(503, json={"error": {"code": "x", "message": "overloaded"}})
        if path == "/api/v1/whoami":
            return httpx.Response(200, json={"node": "ber-gw"})
        if path == "/api/v1/nodes/ber-gw/config":
            held = request.headers.get("if-none-match") == f'"{self.config.hash}"'
            if held and self.script:
                self.script.pop(0)()
            if held and not self.ignores_etag:
                return httpx.Response(304)
            return httpx.Response(
                200, content=self.config.to_json(), headers={"ETag": f'"{self.config.hash}"'}
            )
        if path == "/api/v1/nodes/ber-gw/status":
            self.reports.append(json.loads(request.content))
            return httpx.Response(200, json={})
        return httpx.Response(200, json={})

    def client(self) -> HttpClient:
        return HttpClient(self.url, "t", transport=httpx.MockTransport(self.handle))


@dataclass
class Fleet:
    agent: Agent
    client: Failover
    servers: dict[str, Server]
    host: FakeHost
    clock: Clock
    #: Every delay the loop waited without long-polling.
    delays: list[float]
    stop: threading.Event

    def run(self) -> None:
        self.agent.run(self.stop)


def failover_agent(
    tmp_path: Path, names: str, script: list[Step], failback_after: float = 60
) -> Fleet:
    """An agent whose client is a :class:`Failover` over servers ``a``, ``b``, ...
    (``names``), all serving :func:`standard`; ``stop`` is set when the script ends."""
    agent, _, host, stop, clock = make_agent(tmp_path, [])
    servers = {n: Server(f"http://{n}.test:8080", standard(), script) for n in names}
    client = Failover(
        [(s.url, s.client()) for s in servers.values()],
        failback_after=failback_after,
        clock=clock,
        rng=lambda: 0.0,
    )
    agent.client = client
    script.append(stop.set)
    return Fleet(agent, client, servers, host, clock, record_waits(stop), stop)


def test_a_dead_server_moves_the_agent_to_the_next_without_touching_the_config(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script: list[Step] = []
    f = failover_agent(tmp_path, "ab", script, failback_after=100)
    a, b = f.servers["a"], f.servers["b"]

    def a_dies() -> None:
        a.down = True

    def b_holds_the_same_hash_and_a_report_is_due() -> None:
        assert f.client.url == b.url
        f.clock.now += 30

    script[:0] = [a_dies, b_holds_the_same_hash_and_a_report_is_due]
    with caplog.at_level(logging.INFO, logger="drago.agent"):
        f.run()
    # applied once, from a; the switch changed nothing on the device nor in the cache
    assert caplog.text.count("new config") == 1
    assert len(f.host.updates) == 1
    assert f.agent.applied == standard() and ConfigCache(tmp_path).load() == standard()
    assert "switching to http://b.test:8080" in caplog.text
    assert f.delays == [0.5]  # one backoff (with jitter) before asking b
    # b was asked by hash only: no whole config, no key registration
    config, status = "GET /api/v1/nodes/ber-gw/config", "PUT /api/v1/nodes/ber-gw/status"
    assert b.requests == [config, status, config]
    # the status goes to the server in use and names it
    assert a.reports[0]["server"] == "http://a.test:8080"
    assert b.reports[-1]["server"] == "http://b.test:8080"
    assert b.reports[-1]["applied_hash"] == standard().hash
    for report in a.reports + b.reports:
        StatusReport.model_validate(report)


def test_another_server_sending_the_same_hash_in_full_is_no_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script: list[Step] = []
    f = failover_agent(tmp_path, "ab", script)
    a, b = f.servers["a"], f.servers["b"]
    b.ignores_etag = True

    def a_fails() -> None:
        a.failing = True  # 5xx

    def b_answered_in_full() -> None:
        b.ignores_etag = False

    script[:0] = [a_fails, b_answered_in_full]
    with caplog.at_level(logging.INFO, logger="drago.agent"):
        f.run()
    assert f.client.url == b.url
    assert caplog.text.count("new config") == 1
    assert len(f.host.updates) == 1
    assert "PUT /api/v1/nodes/ber-gw/keys/backbone" not in b.requests


def test_the_agent_comes_back_to_the_first_server_once_it_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script: list[Step] = []
    f = failover_agent(tmp_path, "ab", script)
    a, b = f.servers["a"], f.servers["b"]

    def a_dies() -> None:
        a.down = True

    def on_b_until_the_first_try_is_due() -> None:
        assert f.client.url == b.url
        assert f.client.return_at == 30  # failback_after with the jitter at its low end
        f.clock.now = 30

    def a_was_tried_and_is_still_down() -> None:
        assert f.client.url == b.url
        assert f.client.return_at == 30 + 60  # the next try waits twice as long
        a.down = False
        f.clock.now = 90

    def back_on_a() -> None:
        assert f.client.url == a.url and f.client.return_at is None
        f.clock.now = 120  # a report is due

    script[:0] = [a_dies, on_b_until_the_first_try_is_due, a_was_tried_and_is_still_down, back_on_a]
    with caplog.at_level(logging.INFO, logger="drago.agent"):
        f.run()
    assert "first server http://a.test:8080 answers again" in caplog.text
    assert a.requests[-4:] == [
        "GET /api/v1/whoami",  # the try, then long-polls by hash and the due report
        "GET /api/v1/nodes/ber-gw/config",
        "PUT /api/v1/nodes/ber-gw/status",
        "GET /api/v1/nodes/ber-gw/config",
    ]
    assert a.reports[-1]["server"] == a.url
    assert caplog.text.count("new config") == 1
    assert f.delays == [0.5]


def test_servers_are_tried_in_turn_with_growing_delays(tmp_path: Path) -> None:
    script: list[Step] = []
    f = failover_agent(tmp_path, "abc", script)
    a, b, c = f.servers["a"], f.servers["b"], f.servers["c"]

    def a_and_b_die() -> None:
        a.down = b.down = True

    def on_c() -> None:
        assert f.client.url == c.url

    script[:0] = [a_and_b_die, on_c]
    f.run()
    assert f.delays == [0.5, 1.0]  # a failed, then b: the backoff grows until one answers
    assert b.requests == []
    assert f.agent.applied == standard()


class Scripted:
    """A :class:`ServerClient` whose ``whoami`` raises the errors it is given, in turn."""

    def __init__(self, *errors: Exception | None) -> None:
        self.errors = list(errors)
        self.calls = 0

    def whoami(self) -> str:
        self.calls += 1
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return "ber-gw"

    def config(
        self, node: str, known_hash: str | None, wait: float, held: NodeConfig | None = None
    ) -> NodeConfig | None:
        return None

    def register_key(self, node: str, network: str, public_key: str) -> None:
        pass

    def report_status(self, node: str, report: dict[str, Any]) -> None:
        pass

    def server_in_use(self) -> str | None:
        return None

    def close(self) -> None:
        pass


def test_only_outages_move_the_agent() -> None:
    a = Scripted(Unauthorized("server answered 401"), NotFound("server answered 404"))
    client = Failover([("http://a", a), ("http://b", Scripted())], clock=lambda: 0.0)
    for _ in range(2):
        with pytest.raises((Unauthorized, NotFound)):
            client.whoami()
    assert client.url == "http://a"  # the server answered: it is up
    a.errors.append(ServerUnavailable("server answered 502"))
    with pytest.raises(ServerUnavailable):
        client.whoami()
    assert client.url == "http://b"
    assert client.server_in_use() == "http://b"


def test_a_first_server_that_refuses_the_token_is_not_come_back_to() -> None:
    now = [0.0]
    a = Scripted(ServerUnavailable("down"), Unauthorized("server answered 401"))
    client = Failover(
        [("http://a", a), ("http://b", Scripted())],
        failback_after=10,
        clock=lambda: now[0],
        rng=lambda: 1.0,
    )
    with pytest.raises(ServerUnavailable):
        client.whoami()
    now[0] = 10
    assert client.config("ber-gw", "0" * 64, 25) is None  # a was tried (401), b answered
    assert client.url == "http://b" and a.calls == 2
    assert client.return_at == 30


def test_one_server_is_not_named_in_the_status() -> None:
    client = Failover([("http://a", Scripted(ServerUnavailable("down")))])
    with pytest.raises(ServerUnavailable):
        client.whoami()
    assert client.url == "http://a" and client.server_in_use() is None


def test_each_tries_a_one_shot_round_on_every_server_in_turn() -> None:
    a, b = Scripted(ServerUnavailable("down")), Scripted(ServerUnavailable("down"))
    client = Failover([("http://a", a), ("http://b", b)])
    with pytest.raises(ServerUnavailable):
        client.each(client.whoami)
    assert (a.calls, b.calls) == (1, 1)
    a.errors.append(ServerUnavailable("down"))
    assert client.each(client.whoami) == "ber-gw"
    assert (a.calls, b.calls, client.url) == (2, 2, "http://b")


def _raises(error: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    return handler


def _answers(status: int) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json={"error": {"code": "x", "message": "m"}})


OUTAGES = {
    "connection refused": _raises(httpx.ConnectError("connection refused")),
    "connect timeout": _raises(httpx.ConnectTimeout("timed out")),
    "read timeout": _raises(httpx.ReadTimeout("timed out")),
    "connection reset": _raises(httpx.RemoteProtocolError("peer closed connection")),
    "500": _answers(500),
    "502": _answers(502),
    "503": _answers(503),
}
ANSWERS = {str(status): _answers(status) for status in (400, 401, 403, 404, 409)}


@pytest.mark.parametrize(
    ("handler", "moves"),
    [(h, True) for h in OUTAGES.values()] + [(h, False) for h in ANSWERS.values()],
    ids=[*OUTAGES, *ANSWERS],
)
def test_which_answers_move_the_agent(
    handler: Callable[[httpx.Request], httpx.Response], moves: bool
) -> None:
    first = HttpClient("http://a", "t", transport=httpx.MockTransport(handler))
    ok = HttpClient("http://b", "t", transport=httpx.MockTransport(_answers(304)))
    client = Failover([("http://a", first), ("http://b", ok)], clock=lambda: 0.0)
    with pytest.raises(DragoError):
        client.config("ber-gw", "0" * 64, 25)
    assert client.url == ("http://b" if moves else "http://a")
    if moves:
        assert client.config("ber-gw", "0" * 64, 25) is None
