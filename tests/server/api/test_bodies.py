"""Every JSON request body goes through one strict reader.

Malformed JSON (or JSON that is not an object) is a 400 and changes nothing;
JSON of the wrong shape or type is a 422 naming the field, never coerced: the
documented types are the contract (``"listen_port": "51820"`` is not a port).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drago.server.api import routes
from drago.server.api.openapi import operations
from drago.server.endpoint import EndpointSpec
from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

#: A value for every path parameter, naming something that exists in example-repo.
PATH_VALUES = {
    "node": "fra-1",
    "network": "backbone",
    "index": "0",
    "token_id": "abc",
    "name": "review/x",
}


def body_endpoints() -> Iterator[tuple[str, str, EndpointSpec]]:
    for path, method, _, spec in operations(routes()):
        if spec.request is not None:
            yield path, method, spec


def fill(path: str, head: str) -> str:
    for key, value in {**PATH_VALUES, "rev": head}.items():
        path = path.replace("{" + key + "}", value).replace("{" + key + ":path}", value)
    return path


def test_every_write_with_a_body_is_covered() -> None:
    declared = {(method, path) for path, method, _ in body_endpoints()}
    assert ("POST", "/api/v1/branches/{name}/merge") in declared
    assert ("PUT", "/api/v1/nodes/{node}/status") in declared
    assert len(declared) >= 15


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"message": "x",}', b"\xff\xfe", b"[]", b'"text"', b"5", b"null", b"{}{}"],
)
async def test_malformed_bodies_are_400_and_change_nothing(api: Api, raw: bytes) -> None:
    head = api.head()
    api.secret("admin")
    tokens = {t.id for t in api.ctx.tokens.list()}
    for path, method, _ in body_endpoints():
        answer = await api.call(
            method,
            fill(path, head),
            content=raw,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 400, (method, path, raw, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "invalid_request"
        assert "JSON" in error["message"], error["message"]
    assert api.head() == head
    assert {t.id for t in api.ctx.tokens.list()} == tokens
    assert api.ctx.status.all() == {}


#: (method, path, body) with one value of the wrong JSON type, and the field it is in.
COERCIONS: list[tuple[str, str, dict[str, Any], str]] = [
    ("PUT", "/api/v1/networks/backbone", {"spec": {"address_range": 10}}, "spec.address_range"),
    (
        "PUT",
        "/api/v1/networks/backbone",
        {"spec": {"address_range": "10.20.0.0/16", "listen_port": "51820"}},
        "spec.listen_port",
    ),
    (
        "PUT",
        "/api/v1/networks/backbone",
        {"spec": {"address_range": "10.20.0.0/16", "mtu": 1420.0}},
        "spec.mtu",
    ),
    (
        "PUT",
        "/api/v1/networks/backbone",
        {"spec": {"address_range": "10.20.0.0/16", "persistent_keepalive": True}},
        "spec.persistent_keepalive",
    ),
    (
        "PUT",
        "/api/v1/networks/backbone",
        {"spec": {"address_range": "10.20.0.0/16", "dns": "10.20.0.1"}},
        "spec.dns",
    ),
    (
        "POST",
        "/api/v1/networks",
        {"name": 5, "spec": {"address_range": "10.30.0.0/16"}},
        "name",
    ),
    (
        "PUT",
        "/api/v1/nodes/fra-1",
        {"spec": {"interfaces": {"backbone": {"address": "10.20.0.1/16", "listen_port": "51820"}}}},
        "spec.interfaces.backbone.listen_port",
    ),
    (
        "PUT",
        "/api/v1/nodes/fra-1",
        {"spec": {"interfaces": {"backbone": {"address": "10.20.0.1/16", "mtu": 1.5e3}}}},
        "spec.interfaces.backbone.mtu",
    ),
    ("PUT", "/api/v1/nodes/fra-1", {"spec": {"endpoint": 1234}}, "spec.endpoint"),
    ("PUT", "/api/v1/nodes/fra-1", {"spec": {"description": False}}, "spec.description"),
    ("PUT", "/api/v1/nodes/fra-1", {"spec": {"labels": {"role": 1}}}, "spec.labels.role"),
    (
        "PUT",
        "/api/v1/nodes/fra-1",
        {"spec": {"interfaces": {"backbone": {"address": "10.20.0.1/16", "routes": [1]}}}},
        "spec.interfaces.backbone.routes.0",
    ),
    ("PUT", "/api/v1/nodes/fra-1", {"toml": 5}, "toml"),
    ("PUT", "/api/v1/nodes/fra-1", {"toml": "x = 1", "message": 7}, "message"),
    (
        "POST",
        "/api/v1/networks/backbone/connections",
        {"connection": {"between": ["fra-1", "nyc-1"], "persistent_keepalive": "25"}},
        "connection.persistent_keepalive",
    ),
    (
        "POST",
        "/api/v1/networks/backbone/connections",
        {"connection": {"between": ["fra-1", 2]}},
        "connection.between.1",
    ),
    ("PUT", "/api/v1/nodes/fra-1/keys/backbone", {"public_key": 1}, "public_key"),
    ("POST", "/api/v1/validate", {"changes": {"nodes/x.toml": 1}}, "changes.nodes/x.toml"),
    ("POST", "/api/v1/tokens", {"role": "reader", "name": 1}, "name"),
    (
        "PUT",
        "/api/v1/nodes/fra-1/status",
        {"applied_hash": None, "peers": [{"public_key": "k", "rx_bytes": "1"}]},
        "peers.0.rx_bytes",
    ),
    (
        "PUT",
        "/api/v1/nodes/fra-1/status",
        {"peers": [{"public_key": "k", "tx_bytes": 1.0}]},
        "peers.0.tx_bytes",
    ),
    ("DELETE", "/api/v1/nodes/laptop-ben", {"message": ["bye"]}, "message"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), COERCIONS)
async def test_wrong_json_types_are_422_not_coerced(
    api: Api, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    head = api.head()
    answer = await api.call(method, path, json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [d["field"] for d in error["details"]], error
    assert field in error["message"]
    assert api.head() == head
    assert api.ctx.status.all() == {}


async def test_the_documented_types_still_pass(api: Api) -> None:
    spec = {"address": "10.20.0.1/16", "listen_port": 51821, "mtu": 1420}
    node = (await api.get("/api/v1/nodes/fra-1")).json()["spec"]
    node["interfaces"]["backbone"].update(spec)
    answer = await api.put("/api/v1/nodes/fra-1", json={"spec": node})
    assert answer.status_code == 200, answer.text
    report = {"peers": [{"public_key": "k", "latest_handshake": 1700000000, "rx_bytes": 1}]}
    status = await api.put("/api/v1/nodes/fra-1/status", json=report)
    assert status.status_code == 200, status.text
