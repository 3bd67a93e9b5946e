"""The agent's side of config deltas: negotiated only while it holds the base,
applied and verified, gzip accepted, and every delta it cannot trust replaced by
the whole config (never applied, the held config unchanged).

The server is an httpx mock transport that answers as ``docs/architecture.md``
says a drago server does (RFC 3229: ``A-IM: drago-delta`` and ``If-None-Match``
-> ``226 IM Used`` with ``Delta-Base``), with switches to corrupt its deltas.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from drago.agent.cache import ConfigCache
from drago.agent.client import HttpClient
from drago.render.config import NodeConfig
from drago.render.delta import MEDIA_TYPE, make_delta
from tests.agent.factory import PEER_KEYS, interface, node, peer, standard
from tests.agent.test_loop import make_agent, record_waits

BASE = standard()
#: nyc-1 moved, lon-1 joined, fra-1 unchanged.
NEW = node(
    interface(
        peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "192.168.10.0/24")),
        peer("lon-1", "192.0.2.4:51820", ("10.20.0.4/32",)),
        peer("nyc-1", "192.0.2.3:51820", ("10.20.0.3/32",)),
    ),
    revision="r2",
)


def tamper(delta: dict[str, Any], headers: dict[str, str]) -> None:
    """No change: a valid delta."""


def wrong_hash(delta: dict[str, Any], headers: dict[str, str]) -> None:
    delta["hash"] = "0" * 64
    headers["ETag"] = '"' + "0" * 64 + '"'


def dropped_peer(delta: dict[str, Any], headers: dict[str, str]) -> None:
    delta["interfaces"][0]["peers"] = delta["interfaces"][0]["peers"][:1]  # lon-1 only


def removes_a_stranger(delta: dict[str, Any], headers: dict[str, str]) -> None:
    delta["interfaces"][0]["remove_peers"] = ["sgp-1"]


def another_base(delta: dict[str, Any], headers: dict[str, str]) -> None:
    headers["Delta-Base"] = '"' + "ab" * 32 + '"'


def base_in_body(delta: dict[str, Any], headers: dict[str, str]) -> None:
    delta["base"] = "ab" * 32


def hostile_endpoint(delta: dict[str, Any], headers: dict[str, str]) -> None:
    delta["interfaces"][0]["peers"][0]["endpoint"] = "192.0.2.4:51820\npublic_key=" + "ab" * 32


def etag_differs(delta: dict[str, Any], headers: dict[str, str]) -> None:
    headers["ETag"] = f'"{BASE.hash}"'


def another_im(delta: dict[str, Any], headers: dict[str, str]) -> None:
    headers["IM"] = "vcdiff"


def not_json(delta: dict[str, Any], headers: dict[str, str]) -> None:
    delta.clear()


Tamper = Callable[[dict[str, Any], dict[str, str]], None]
CORRUPTIONS: dict[str, Tamper] = {
    "wrong hash": wrong_hash,
    "peer left out": dropped_peer,
    "removes a peer not there": removes_a_stranger,
    "Delta-Base of another config": another_base,
    "base of another config": base_in_body,
    "value outside the grammar": hostile_endpoint,
    "ETag not the delta's hash": etag_differs,
    "another IM": another_im,
    "empty body": not_json,
}


class DeltaServer:
    """Serves ``current`` by hash; a delta (226) against any config in ``history``
    to a client that asked for one, changed by ``tamper``; gzip when accepted."""

    def __init__(self, current: NodeConfig, history: list[NodeConfig]) -> None:
        self.current = current
        self.history = {c.hash: c for c in history}
        self.tamper: Tamper = tamper
        #: Answer every request with a delta, asked for or not.
        self.always_delta = False
        #: Status codes to answer full-config requests with first (e.g. 503).
        self.full_answers: list[int] = []
        self.requests: list[httpx.Request] = []
        #: Statuses of the answers sent gzip-compressed.
        self.gzipped: list[int] = []
        self.on_held: Callable[[], None] | None = None

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/api/v1/whoami":
            return httpx.Response(200, json={"node": "ber-gw"})
        if request.url.path != "/api/v1/nodes/ber-gw/config":
            return httpx.Response(200, json={})
        gzipped = "gzip" in request.headers.get("accept-encoding", "")
        tag = request.headers.get("if-none-match", "").strip('"')
        if tag == self.current.hash:
            if self.on_held is not None:
                self.on_held()
            return httpx.Response(304)
        base = self.history.get(tag)
        wants_delta = request.headers.get("a-im") == "drago-delta"
        if base is not None and (wants_delta or self.always_delta):
            body = json.loads(make_delta(base, self.current).to_json())
            headers = {
                "IM": "drago-delta",
                "Delta-Base": f'"{base.hash}"',
                "ETag": f'"{self.current.hash}"',
                "Content-Type": MEDIA_TYPE,
            }
            self.tamper(body, headers)
            return self._answer(226, json.dumps(body).encode() if body else b"", headers, gzipped)
        if self.full_answers:
            status = self.full_answers.pop(0)
            return httpx.Response(status, json={"error": {"code": "x", "message": "busy"}})
        headers = {"ETag": f'"{self.current.hash}"', "Content-Type": "application/json"}
        return self._answer(200, self.current.to_json(), headers, gzipped)

    def _answer(
        self, status: int, body: bytes, headers: dict[str, str], gzipped: bool
    ) -> httpx.Response:
        if gzipped:
            self.gzipped.append(status)
            body = gzip.compress(body)
            headers = {**headers, "Content-Encoding": "gzip"}
        return httpx.Response(status, content=body, headers=headers)

    def client(self) -> HttpClient:
        return HttpClient("http://drago.test", "t", transport=httpx.MockTransport(self.handle))


def test_a_delta_is_asked_for_only_while_holding_the_base_and_applied() -> None:
    server = DeltaServer(BASE, [])
    client = server.client()
    first = client.config("ber-gw", None, 0, None)
    assert first == BASE
    assert "a-im" not in server.requests[0].headers  # nothing held: nothing to apply to
    server.history[BASE.hash] = BASE
    server.current = NEW
    got = client.config("ber-gw", BASE.hash, 25, BASE)
    asked = server.requests[-1]
    assert asked.headers["a-im"] == "drago-delta"
    assert asked.headers["if-none-match"] == f'"{BASE.hash}"'
    assert asked.headers["accept-encoding"] == "gzip"
    assert got == NEW and got is not None and got.to_json() == NEW.to_json()
    assert (client.deltas, client.fallbacks) == (1, 0)
    assert len(server.requests) == 2  # no full fetch


def test_no_delta_is_asked_for_against_a_hash_the_agent_does_not_hold() -> None:
    """After a refused config the agent waits on the refused hash: it holds another."""
    server = DeltaServer(NEW, [BASE])
    client = server.client()
    assert client.config("ber-gw", BASE.hash, 25, NEW) == NEW
    assert "a-im" not in server.requests[0].headers
    assert client.deltas == 0


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_delta_that_cannot_be_trusted_is_replaced_by_the_whole_config(
    corrupt: Tamper, caplog: pytest.LogCaptureFixture
) -> None:
    held = BASE.model_copy()
    server = DeltaServer(NEW, [BASE])
    server.tamper = corrupt
    client = server.client()
    with caplog.at_level("WARNING", logger="drago.agent"):
        got = client.config("ber-gw", BASE.hash, 25, held)
    assert got == NEW
    delta_request, full_request = server.requests
    assert delta_request.headers["a-im"] == "drago-delta"
    assert "a-im" not in full_request.headers and "if-none-match" not in full_request.headers
    assert (client.deltas, client.fallbacks) == (0, 1)
    assert held == BASE and held.to_json() == BASE.to_json()  # the held config is untouched
    (line,) = caplog.messages
    assert line.endswith("; fetching the whole config") and line.isprintable()


def test_a_delta_nobody_asked_for_is_not_applied() -> None:
    server = DeltaServer(NEW, [BASE])
    server.always_delta = True
    client = server.client()
    assert client.config("ber-gw", BASE.hash, 25, None) == NEW
    assert [r.headers.get("if-none-match") for r in server.requests] == [f'"{BASE.hash}"', None]
    assert client.fallbacks == 1


def test_gzip_bodies_are_read() -> None:
    server = DeltaServer(BASE, [BASE])
    client = server.client()
    assert client.config("ber-gw", None, 0) == BASE
    server.current = NEW
    assert client.config("ber-gw", BASE.hash, 25, BASE) == NEW
    assert server.gzipped == [200, 226]  # both went compressed on the wire
    assert client.deltas == 1


def test_the_loop_keeps_the_applied_config_until_a_valid_one_arrives(tmp_path: Path) -> None:
    """A corrupted delta, and the whole config cannot be fetched then (503): the
    applied config stays; the next, valid delta applies, touching only the peers
    that changed."""
    server = DeltaServer(BASE, [])
    agent, _, host, stop, _ = make_agent(tmp_path, [])
    delays = record_waits(stop)
    device = host.read  # the fake WireGuard device, read back

    def held_on_the_base() -> None:  # the server moves on, and corrupts its delta
        server.history[BASE.hash] = BASE
        server.current = NEW
        server.tamper = wrong_hash
        server.on_held = stop.set  # once the agent holds NEW

    def handle(request: httpx.Request) -> httpx.Response:
        whole = request.url.path.endswith("/config") and "if-none-match" not in request.headers
        if whole and server.tamper is wrong_hash:
            # the fallback after the corrupted delta: nothing of it was applied
            assert agent.applied == BASE and agent.config == BASE
            peers = device("wg-backbone").peers
            assert set(peers) == {PEER_KEYS["fra-1"].public_key, PEER_KEYS["nyc-1"].public_key}
            assert peers[PEER_KEYS["nyc-1"].public_key].endpoint == "192.0.2.2:51820"
            host.touched.clear()
            server.tamper = tamper  # the next delta is sound
            server.requests.append(request)
            return httpx.Response(503, json={"error": {"code": "x", "message": "busy"}})
        return server.handle(request)

    server.on_held = held_on_the_base
    agent.client = HttpClient("http://drago.test", "t", transport=httpx.MockTransport(handle))
    agent.run(stop)
    assert agent.applied == NEW
    assert ConfigCache(tmp_path).load() == NEW  # what a restart re-applies
    assert delays == [0.5]  # the failed fetch of the whole config: one backoff
    # only the changed peers were touched on the device
    assert sorted(host.touched) == sorted(
        [PEER_KEYS["lon-1"].public_key, PEER_KEYS["nyc-1"].public_key]
    )
    polls = [
        (r.headers.get("a-im"), r.headers.get("if-none-match"))
        for r in server.requests
        if r.url.path.endswith("/config")
    ]
    base, new = f'"{BASE.hash}"', f'"{NEW.hash}"'
    assert polls == [
        (None, None),  # nothing held yet: the whole config
        ("drago-delta", base),  # held (304), the server moves on
        ("drago-delta", base),  # the corrupted delta
        (None, None),  # the whole config instead: 503
        ("drago-delta", base),  # the sound delta, applied
        ("drago-delta", new),  # held on NEW
    ]
