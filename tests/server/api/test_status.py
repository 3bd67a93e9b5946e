from __future__ import annotations

import time
from typing import Any

import pytest

from drago.server.endpoint import Role
from tests.server.conftest import Harness

pytestmark = pytest.mark.anyio


def report(applied: str | None) -> dict[str, Any]:
    return {
        "applied_hash": applied,
        "applied_revision": "f" * 40,
        "errors": ["peer nyc-1: endpoint does not resolve"],
        "peers": [
            {
                "network": "backbone",
                "name": "nyc-1",
                "public_key": "k" * 44,
                "endpoint": "198.51.100.2:51820",
                "latest_handshake": 1764213000,
                "rx_bytes": 10,
                "tx_bytes": 20,
            }
        ],
    }


async def test_node_reports_and_everyone_allowed_reads(harness: Harness) -> None:
    h = harness
    node = h.token(Role.node, "fra-1")
    desired = h.ctx.live.require_hash("fra-1")
    r = await h.client.put("/api/v1/nodes/fra-1/status", headers=h.auth(node), json=report(desired))
    assert r.status_code == 200
    body = r.json()
    assert body["in_sync"] is False  # the desired hash, but with an error
    assert body["desired_hash"] == desired
    clean = {**report(desired), "errors": []}
    r = await h.client.put("/api/v1/nodes/fra-1/status", headers=h.auth(node), json=clean)
    assert r.json()["in_sync"] is True
    r = await h.client.put("/api/v1/nodes/fra-1/status", headers=h.auth(node), json=report(desired))
    assert abs(body["last_seen"] - time.time()) < 5

    own = await h.client.get("/api/v1/nodes/fra-1/status", headers=h.auth(node))
    assert own.json()["peers"][0]["rx_bytes"] == 10
    reader = h.token(Role.reader)
    overview = (await h.client.get("/api/v1/status", headers=h.auth(reader))).json()
    by_node = {n["node"]: n for n in overview["nodes"]}
    assert overview["revision"] == h.ctx.live.revision
    assert set(by_node) == set(h.ctx.live.snapshot.hashes)
    assert by_node["fra-1"]["in_sync"] is False
    assert by_node["fra-1"]["errors"] == ["peer nyc-1: endpoint does not resolve"]
    assert by_node["nyc-1"] == {
        "node": "nyc-1",
        "desired_hash": h.ctx.live.require_hash("nyc-1"),
        "applied_hash": None,
        "applied_revision": None,
        "in_sync": False,
        "last_seen": None,
        "errors": [],
        "peers": [],
        "server": None,
    }
    assert (overview["in_sync"], overview["total"]) == (0, len(by_node))


async def test_stale_applied_hash_is_out_of_sync(harness: Harness) -> None:
    h = harness
    r = await h.client.put(
        "/api/v1/nodes/nyc-1/status", headers=h.auth(h.admin), json=report("0" * 64)
    )
    assert r.json()["in_sync"] is False


async def test_status_access_rules(harness: Harness) -> None:
    h = harness
    node = h.token(Role.node, "fra-1")
    reader = h.token(Role.reader)
    other = await h.client.put("/api/v1/nodes/nyc-1/status", headers=h.auth(node), json={})
    assert other.status_code == 403
    assert (await h.client.get("/api/v1/status", headers=h.auth(node))).status_code == 403
    write = await h.client.put("/api/v1/nodes/fra-1/status", headers=h.auth(reader), json={})
    assert write.status_code == 403
    missing = await h.client.put("/api/v1/nodes/ghost/status", headers=h.auth(h.admin), json={})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'{"applied_hash": 5}', 422),
        (b'{"private_key": "x"}', 422),
        (b'{"errors": "x"}', 422),
        (b'{"server": "http://a\\nINFO forged"}', 422),
        (b'{"server": "file:///etc/passwd"}', 422),
    ],
)
async def test_bad_reports_are_rejected(harness: Harness, body: bytes, status: int) -> None:
    r = await harness.client.put(
        "/api/v1/nodes/fra-1/status", headers=harness.auth(harness.admin), content=body
    )
    assert r.status_code == status
    assert r.json()["error"]["code"] == "invalid_request"
    assert harness.ctx.status.get("fra-1") is None


async def test_per_peer_problems_are_kept_and_do_not_count_against_in_sync(
    harness: Harness,
) -> None:
    h = harness
    node = h.token(Role.node, "fra-1")
    desired = h.ctx.live.require_hash("fra-1")
    problem = "endpoint unresolved: nyc-1.invalid:51820: [Errno -2] Name or service not known"
    sent = report(desired)
    sent["errors"] = []
    sent["peers"] = [
        {**sent["peers"][0], "endpoint": None, "problem": problem},
        {"network": "backbone", "name": "lon-1", "public_key": "l" * 44, "problem": "x"},
    ]
    r = await h.client.put("/api/v1/nodes/fra-1/status", headers=h.auth(node), json=sent)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["in_sync"] is True and body["errors"] == []
    assert [p["problem"] for p in body["peers"]] == [problem, "x"]
    assert body["peers"][1]["latest_handshake"] is None
    unknown = {**sent, "peers": [{"public_key": "k" * 44, "problems": ["x"]}]}
    r = await h.client.put("/api/v1/nodes/fra-1/status", headers=h.auth(node), json=unknown)
    assert r.status_code == 422  # unknown fields are refused


async def test_the_server_an_agent_uses_is_kept(harness: Harness) -> None:
    h = harness
    node = h.token(Role.node, "fra-1")
    sent = {**report(None), "server": "https://drago-2.example.net:8443"}
    r = await h.client.put("/api/v1/nodes/fra-1/status", headers=h.auth(node), json=sent)
    assert r.status_code == 200, r.text
    assert r.json()["server"] == "https://drago-2.example.net:8443"
    overview = (await h.client.get("/api/v1/status", headers=h.auth(h.admin))).json()
    by_node = {n["node"]: n for n in overview["nodes"]}
    assert by_node["fra-1"]["server"] == "https://drago-2.example.net:8443"
