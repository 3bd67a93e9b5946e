"""Nodes: list, read (with keys and config hash), create, update, delete with keys."""

from __future__ import annotations

import pytest

from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

NEW_NODE = {
    "name": "ams-1",
    "spec": {
        "description": "Amsterdam gateway",
        "endpoint": "ams-1.example.net",
        "labels": {"role": "core"},
        "interfaces": {"backbone": {"address": "10.20.0.9/16", "routes": ["10.200.0.0/16"]}},
    },
    "message": "add Amsterdam",
}


async def test_list_and_read_with_keys_and_hash(api: Api) -> None:
    listed = (await api.get("/api/v1/nodes", as_="reader")).json()
    names = [n["name"] for n in listed["nodes"]]
    assert names == sorted(names) and "laptop-ben" in names
    fra = (await api.get("/api/v1/nodes/fra-1", as_="reader")).json()
    assert fra["path"] == "nodes/fra-1.toml"
    assert fra["spec"]["labels"] == {"role": "core", "cloud": "hetzner"}
    assert fra["spec"]["interfaces"]["backbone"]["routes"] == ["10.100.0.0/16"]
    assert fra["keys"] == {"backbone": "v/4GQk7c6xGmG93rIbzARy+d0lnpH8HktralhV/cc3I="}
    assert fra["config_hash"] == api.ctx.live.hash_of("fra-1")
    assert fra["config_hash"] is not None
    ben = (await api.get("/api/v1/nodes/laptop-ben")).json()
    assert ben["keys"] == {}


async def test_create_update_delete(api: Api) -> None:
    created = await api.post("/api/v1/nodes", json=NEW_NODE)
    assert created.status_code == 201, created.text
    node = created.json()
    assert node["revision"] == api.head()
    await api.ctx.live.settled()  # configs render after the write is answered
    read = (await api.get("/api/v1/nodes/ams-1")).json()
    assert read["config_hash"] == api.ctx.live.hash_of("ams-1") is not None
    assert api.ctx.store.history(limit=1)[0].message.strip() == "add Amsterdam"
    assert (await api.post("/api/v1/nodes", json=NEW_NODE)).status_code == 409

    spec = node["spec"]
    spec["endpoint"] = None
    spec["interfaces"]["backbone"]["listen_port"] = 51830
    updated = await api.put("/api/v1/nodes/ams-1", json={"spec": spec})
    assert updated.status_code == 200, updated.text
    assert "endpoint" not in updated.json()["spec"]
    assert "listen_port = 51830" in updated.json()["toml"]

    key = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    registered = await api.put("/api/v1/nodes/ams-1/keys/backbone", json={"public_key": key})
    assert registered.status_code == 200, registered.text
    deleted = await api.delete("/api/v1/nodes/ams-1", json={"message": "bye Amsterdam"})
    assert deleted.status_code == 200, deleted.text
    assert sorted(deleted.json()["paths"]) == ["keys/ams-1.toml", "nodes/ams-1.toml"]
    assert api.text("keys/ams-1.toml") is None
    assert (await api.get("/api/v1/nodes/ams-1")).status_code == 404


async def test_node_edit_keeps_comments(api: Api) -> None:
    muc = (await api.get("/api/v1/nodes/muc-1")).json()
    muc["spec"]["description"] = "Munich office router"
    answer = await api.put("/api/v1/nodes/muc-1", json={"spec": muc["spec"]})
    assert answer.status_code == 200
    text = answer.json()["toml"]
    assert "# The office router forwards UDP 61821 to us on 51821." in text
    assert 'routes = ["192.168.60.0/24"]  # Munich office LAN' in text
    assert text == muc["toml"].replace("Munich branch office router", "Munich office router")


async def test_invalid_node_is_422_with_path_and_key(api: Api) -> None:
    body = {
        "name": "bad-1",
        "spec": {"interfaces": {"backbone": {"address": "10.21.0.1/16"}}},
    }
    answer = await api.post("/api/v1/nodes", json=body)
    assert answer.status_code == 422
    details = answer.json()["error"]["details"]
    assert {"path": "nodes/bad-1.toml", "key": "interfaces.backbone.address"} == {
        k: details[0][k] for k in ("path", "key")
    }
    assert "10.20.0.0/16" in details[0]["message"]


async def test_delete_of_explicitly_connected_node_is_refused(api: Api) -> None:
    answer = await api.delete("/api/v1/nodes/nyc-1")
    assert answer.status_code == 422
    assert any(d["path"] == "networks/backbone.toml" for d in answer.json()["error"]["details"])


async def test_body_shape_errors_are_422(api: Api) -> None:
    answer = await api.put("/api/v1/nodes/fra-1", json={"spec": {"interfaces": 5}})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"].startswith("spec.interfaces")
    unknown = await api.put("/api/v1/nodes/fra-1", json={"spec": {"endpont": "x"}})
    assert unknown.status_code == 422
