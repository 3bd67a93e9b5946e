"""Key registration: node tokens register their own keys, idempotently."""

from __future__ import annotations

import pytest

from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

KEY = "kZ8x3cFq1X0h0Yd3JwBv1g4Vb9m2uQk7sR5tP6oL8nA="


async def test_node_registers_its_key_once(api: Api) -> None:
    before = api.head()
    url = "/api/v1/nodes/laptop-ben/keys/site"
    first = await api.put(url, json={"public_key": KEY}, as_="node:laptop-ben")
    assert first.status_code == 200, first.text
    assert first.json()["committed"] is True
    revision = first.json()["revision"]
    assert revision == api.head() != before
    assert api.text("keys/laptop-ben.toml") == f'[interfaces.site]\npublic_key = "{KEY}"\n'
    commit = api.ctx.store.history(limit=1)[0]
    assert commit.message.strip() == "keys: register laptop-ben site"
    assert commit.author.name == "node:laptop-ben token"

    again = await api.put(url, json={"public_key": KEY}, as_="node:laptop-ben")
    assert again.status_code == 200
    assert again.json() == {"revision": revision, "committed": False, "paths": []}
    assert api.head() == revision

    keys = await api.get("/api/v1/nodes/laptop-ben/keys", as_="node:laptop-ben")
    assert keys.json()["keys"] == {"site": KEY}
    config = api.ctx.live.hash_of("ber-gw")
    assert config is not None


async def test_registered_key_reaches_peers(api: Api) -> None:
    hub_before = api.ctx.live.hash_of("ber-gw")
    await api.put("/api/v1/nodes/laptop-ben/keys/site", json={"public_key": KEY})
    await api.ctx.live.settled()  # configs render after the write is answered
    assert api.ctx.live.hash_of("ber-gw") != hub_before
    assert api.ctx.live.hash_of("fra-1") is not None


async def test_invalid_key_is_422_naming_file_and_key(api: Api) -> None:
    answer = await api.put("/api/v1/nodes/fra-1/keys/backbone", json={"public_key": "bm90IGEga2V5"})
    assert answer.status_code == 422
    detail = answer.json()["error"]["details"][0]
    assert detail["path"] == "keys/fra-1.toml"
    assert detail["key"] == "interfaces.backbone.public_key"


async def test_key_for_a_network_the_node_is_not_in_is_refused(api: Api) -> None:
    answer = await api.put("/api/v1/nodes/laptop-ben/keys/backbone", json={"public_key": KEY})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["path"] == "keys/laptop-ben.toml"


async def test_unknown_node_is_404(api: Api) -> None:
    answer = await api.put("/api/v1/nodes/ghost/keys/site", json={"public_key": KEY})
    assert answer.status_code == 404


async def test_admin_deletes_a_key(api: Api) -> None:
    answer = await api.delete("/api/v1/nodes/fra-1/keys/backbone")
    assert answer.status_code == 200, answer.text
    assert api.text("keys/fra-1.toml") is None
    assert (await api.delete("/api/v1/nodes/fra-1/keys/backbone")).status_code == 404
