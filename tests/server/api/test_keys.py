"""Key registration: node tokens register their own keys, idempotently."""

from __future__ import annotations

import base64
import tomllib

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


def _alias(key: str) -> str:
    """Another base64 spelling of the same 32 bytes (unused low bits set)."""
    raw = base64.b64decode(key)
    alias = key[:-2] + chr(ord(key[-2]) + 1) + "="
    assert alias != key and base64.b64decode(alias) == raw
    return alias


async def test_another_spelling_of_a_peers_key_cannot_be_registered(api: Api) -> None:
    """laptop-ben joins network site, where ber-gw's key is registered: the same bytes
    spelled differently must not pass for a new key."""
    keys = api.text("keys/ber-gw.toml")
    assert keys is not None
    theirs = tomllib.loads(keys)["interfaces"]["site"]["public_key"]
    before = api.head()
    for spelling in (_alias(theirs), theirs):
        answer = await api.put(
            "/api/v1/nodes/laptop-ben/keys/site",
            json={"public_key": spelling},
            as_="node:laptop-ben",
        )
        assert answer.status_code == 422, answer.text
        detail = answer.json()["error"]["details"][0]
        assert detail["path"] == "keys/laptop-ben.toml"
        assert detail["key"] == "interfaces.site.public_key"
    assert api.head() == before


async def test_the_all_zero_key_is_refused(api: Api) -> None:
    answer = await api.put(
        "/api/v1/nodes/laptop-ben/keys/site",
        json={"public_key": "A" * 43 + "="},
        as_="node:laptop-ben",
    )
    assert answer.status_code == 422
    assert "all-zero" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    "message",
    ["pwned\x1b[2K\x1b[1A", "line\rover", "bell\x07", "c1\x9b31m", "bidi \u202etxt.exe"],
    ids=["esc", "cr", "bel", "c1-csi", "bidi-override"],
)
async def test_control_characters_in_a_commit_message_are_422(api: Api, message: str) -> None:
    """A node token must not write terminal escapes into a server-signed commit."""
    before = api.head()
    answer = await api.put(
        "/api/v1/nodes/laptop-ben/keys/site",
        json={"public_key": KEY, "message": message},
        as_="node:laptop-ben",
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert [d["field"] for d in error["details"]] == ["message"]
    assert "commit message" in error["details"][0]["message"]
    assert api.head() == before


async def test_newlines_and_tabs_in_a_commit_message_are_fine(api: Api) -> None:
    message = "keys: rotate\n\n\tafter the reinstall"
    answer = await api.put(
        "/api/v1/nodes/laptop-ben/keys/site",
        json={"public_key": KEY, "message": message},
        as_="node:laptop-ben",
    )
    assert answer.status_code == 200, answer.text
    assert api.ctx.store.history(limit=1)[0].message.rstrip("\n") == message
