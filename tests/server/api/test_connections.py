"""Connections of a network, addressed by position."""

from __future__ import annotations

import tomllib

import pytest

from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

URL = "/api/v1/networks/backbone/connections"


async def test_list(api: Api) -> None:
    answer = await api.get(URL, as_="reader")
    assert answer.status_code == 200
    body = answer.json()
    assert body["network"] == "backbone"
    assert [c["index"] for c in body["connections"]] == [0, 1, 2]
    assert body["connections"][1]["connection"]["between"] == ["role=office", "fra-1"]


async def test_add_update_delete_keep_the_other_entries_and_comments(api: Api) -> None:
    added = await api.post(
        URL,
        json={"connection": {"between": ["sgp-1", "muc-1"], "persistent_keepalive": 30}},
    )
    assert added.status_code == 201, added.text
    assert added.json()["index"] == 3
    text = api.text("networks/backbone.toml") or ""
    assert "# ...and Berlin has a backup uplink to New York." in text
    assert tomllib.loads(text)["connections"][3] == {
        "between": ["sgp-1", "muc-1"],
        "persistent_keepalive": 30,
    }
    assert api.ctx.store.history(limit=1)[0].message.strip() == (
        "api: add a connection to networks/backbone.toml"
    )

    updated = await api.put(f"{URL}/2", json={"connection": {"between": ["ber-gw", "sgp-1"]}})
    assert updated.status_code == 200, updated.text
    text = api.text("networks/backbone.toml") or ""
    assert tomllib.loads(text)["connections"][2] == {"between": ["ber-gw", "sgp-1"]}
    assert "# Every cloud gateway talks to every other one." in text

    deleted = await api.delete(f"{URL}/3")
    assert deleted.status_code == 200, deleted.text
    connections = tomllib.loads(api.text("networks/backbone.toml") or "")["connections"]
    assert len(connections) == 3


async def test_missing_index_and_invalid_connection(api: Api) -> None:
    assert (await api.delete(f"{URL}/9")).status_code == 404
    not_a_position = await api.put(f"{URL}/x", json={"connection": {"between": ["a", "b"]}})
    assert not_a_position.status_code == 400
    self_loop = await api.post(URL, json={"connection": {"between": ["fra-1", "fra-1"]}})
    assert self_loop.status_code == 422
    assert self_loop.json()["error"]["details"][0]["path"] == "networks/backbone.toml"
    unknown = await api.post(URL, json={"connection": {"between": ["fra-1", "nowhere"]}})
    assert unknown.status_code == 422
