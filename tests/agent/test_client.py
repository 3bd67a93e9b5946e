from __future__ import annotations

import gzip
import json

import httpx
import pytest

from drago.agent import client as client_module
from drago.agent.client import HttpClient, parse_config
from drago.errors import (
    ConfigRefused,
    DragoError,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServerUnavailable,
    Unauthorized,
)
from drago.render.config import ENVELOPE_KEYS, canonical_json, sha256_hex
from tests.agent.factory import standard

CONFIG = standard()


def handler(request: httpx.Request) -> httpx.Response:
    assert request.headers["authorization"] == "Bearer s3cret"
    path = request.url.path
    if path == "/api/v1/whoami":
        return httpx.Response(
            200, json={"name": "n", "email": None, "role": "node", "node": "ber-gw"}
        )
    if path == "/api/v1/nodes/ber-gw/config":
        if request.headers.get("if-none-match") == f'"{CONFIG.hash}"':
            assert request.url.params["wait"] == "25"
            return httpx.Response(304)
        return httpx.Response(200, content=CONFIG.to_json(), headers={"ETag": f'"{CONFIG.hash}"'})
    if path == "/api/v1/nodes/ber-gw/keys/backbone":
        assert json.loads(request.content) == {"public_key": "K"}
        return httpx.Response(200, json={})
    if path == "/api/v1/nodes/ber-gw/status":
        return httpx.Response(
            503, json={"error": {"code": "x", "message": "busy", "details": None}}
        )
    if path == "/api/v1/nodes/other/config":
        return httpx.Response(403, json={"error": {"code": "forbidden", "message": "not yours"}})
    return httpx.Response(404, json={"error": {"code": "not_found", "message": "nope"}})


def client(token: str = "s3cret") -> HttpClient:
    return HttpClient("http://drago.test", token, transport=httpx.MockTransport(handler))


def test_long_poll_by_hash() -> None:
    c = client()
    assert c.whoami() == "ber-gw"
    assert c.config("ber-gw", None, 25) == CONFIG
    assert c.config("ber-gw", CONFIG.hash, 25) is None
    c.register_key("ber-gw", "backbone", "K")


def test_errors_map_to_the_hierarchy() -> None:
    c = client()
    with pytest.raises(ServerUnavailable, match="busy"):
        c.report_status("ber-gw", {})
    with pytest.raises(Forbidden, match="not yours"):
        c.config("other", None, 0)
    with pytest.raises(NotFound):
        c.register_key("ber-gw", "nowhere", "K")


def test_unreachable_server_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    c = HttpClient("http://drago.test", "t", transport=httpx.MockTransport(refuse))
    with pytest.raises(ServerUnavailable, match="cannot reach"):
        c.whoami()


def test_unauthorized() -> None:
    def deny(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "bad token"}})

    c = HttpClient("http://drago.test", "t", transport=httpx.MockTransport(deny))
    with pytest.raises(Unauthorized, match="bad token"):
        c.whoami()


HOSTILE_FIELDS = {
    "endpoint": ("peers", "endpoint", "[fd00::1%\npublic_key=" + "ab" * 32 + "]:51820"),
    "allowed_ips": ("peers", "allowed_ips", ["10.0.0.0/24\nallowed_ip=0.0.0.0/0"]),
    "public_key": ("peers", "public_key", "A" * 43 + "="),
    "peer name": ("peers", "name", "x\nPostUp = id"),
    "address": ("interface", "address", "fd00::1%eth0/64"),
    "dns": ("interface", "dns", ["10.0.0.53 "]),
    "ifname": ("interface", "ifname", "wg0\n"),
}


@pytest.mark.parametrize("target", HOSTILE_FIELDS.values(), ids=HOSTILE_FIELDS.keys())
def test_a_config_outside_the_grammar_is_refused_even_with_a_matching_hash(
    target: tuple[str, str, object],
) -> None:
    where, key, value = target
    document = json.loads(CONFIG.to_json())
    iface = document["interfaces"][0]
    (iface["peers"][0] if where == "peers" else iface)[key] = value
    content = {k: v for k, v in document.items() if k not in ENVELOPE_KEYS}
    document["hash"] = sha256_hex(canonical_json(content))
    with pytest.raises(ConfigRefused, match=f"refused the config from the server: .*{key}"):
        parse_config(json.dumps(document).encode())


def test_a_damaged_config_is_refused() -> None:
    document = json.loads(CONFIG.to_json())
    document["hash"] = "0" * 64
    with pytest.raises(ConfigRefused, match="does not match the content"):
        parse_config(json.dumps(document).encode())


@pytest.mark.parametrize(
    "name",
    ["ber-gw\n", "n1/../../tokens?x=", "BER-GW", "ber gw", "a" * 64, "ber\x1b[2K"],
    ids=["newline", "path", "upper", "space", "too-long", "esc"],
)
def test_a_node_name_outside_the_grammar_is_refused(name: str) -> None:
    """The name goes into URL paths and the log: a DragoError, never httpx.InvalidURL."""
    seen: list[str] = []

    def hostile(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"node": name})

    c = HttpClient("http://drago.test", "t", transport=httpx.MockTransport(hostile))
    with pytest.raises(Forbidden, match="not a node name") as caught:
        c.whoami()
    assert caught.value.message.isprintable()
    assert seen == ["/api/v1/whoami"]


def test_a_path_httpx_refuses_is_a_drago_error() -> None:
    c = client()
    with pytest.raises(InvalidRequest, match="refusing to ask for"):
        c.config("ber-gw\n", None, 0)


def test_whoami_that_is_not_json_is_a_drago_error() -> None:
    answer = httpx.MockTransport(lambda request: httpx.Response(200, content=b"<html>"))
    with pytest.raises(ServerUnavailable, match="not JSON"):
        HttpClient("http://drago.test", "t", transport=answer).whoami()


@pytest.mark.parametrize("status", [400, 403, 503])
def test_server_error_text_is_escaped(status: int) -> None:
    """A server's message cannot forge an agent log line or send a terminal escape."""
    text = "bad\nINFO:drago.agent:node n1 in sync\x1b[2K"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": {"code": "x", "message": text}})

    c = HttpClient("http://drago.test", "t", transport=httpx.MockTransport(answer))
    with pytest.raises(DragoError) as caught:
        c.report_status("ber-gw", {})
    message = caught.value.message
    assert message.isprintable()
    assert message == f"server answered {status}: {text!r}"
    plain = httpx.MockTransport(
        lambda request: httpx.Response(403, json={"error": {"code": "x", "message": "not yours"}})
    )
    with pytest.raises(Forbidden) as caught:
        HttpClient("http://drago.test", "t", transport=plain).report_status("ber-gw", {})
    assert caught.value.message == "server answered 403: not yours"
    long = httpx.MockTransport(
        lambda request: httpx.Response(400, json={"error": {"code": "x", "message": "y" * 10_000}})
    )
    with pytest.raises(InvalidRequest) as caught:
        HttpClient("http://drago.test", "t", transport=long).report_status("ber-gw", {})
    assert len(caught.value.message) < 600


def test_a_gzip_bomb_is_not_inflated_past_the_answer_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A small compressed answer that inflates to more than MAX_ANSWER is refused as it
    streams in, not inflated whole."""
    monkeypatch.setattr(client_module, "MAX_ANSWER", 1 << 20)
    bomb = gzip.compress(b"0" * (8 << 20))  # 8 MiB of zeros: about 8 KiB compressed

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=bomb,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    c = HttpClient("http://drago.test", "t", transport=httpx.MockTransport(answer))
    with pytest.raises(ServerUnavailable, match="larger than 1 MiB"):
        c.config("fra-1", None, 0)


def test_a_gzip_answer_is_read_decoded() -> None:
    body = json.dumps({"node": "fra-1"}).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=gzip.compress(body), headers={"Content-Encoding": "gzip"}
        )

    c = HttpClient("http://drago.test", "t", transport=httpx.MockTransport(answer))
    assert c.whoami() == "fra-1"
