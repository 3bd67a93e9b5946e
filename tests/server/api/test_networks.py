"""Networks: list, read, create, update (keeping comments), delete (with cascade)."""

from __future__ import annotations

import tomllib

import pytest

from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio


async def test_list_and_read(api: Api) -> None:
    listed = await api.get("/api/v1/networks", as_="reader")
    assert listed.status_code == 200
    body = listed.json()
    assert [n["name"] for n in body["networks"]] == ["backbone", "site"]
    assert body["revision"] == api.ctx.live.revision

    one = await api.get("/api/v1/networks/backbone", as_="reader")
    assert one.status_code == 200
    net = one.json()
    assert net["path"] == "networks/backbone.toml"
    assert net["revision"] == api.head()
    assert one.headers["etag"] == f'"{api.head()}"'
    assert net["spec"]["address_range"] == "10.20.0.0/16"
    assert net["spec"]["connections"][2]["between"] == ["ber-gw", "nyc-1"]
    assert net["toml"] == api.text("networks/backbone.toml")
    assert "fra-1" in net["members"]


BACKBONE_LINKS = [
    ["ber-gw", "fra-1"],
    ["ber-gw", "nyc-1"],
    ["fra-1", "muc-1"],
    ["fra-1", "nyc-1"],
    ["fra-1", "sgp-1"],
    ["nyc-1", "sgp-1"],
]
SITE_LINKS = [["ber-gw", "laptop-anna"], ["ber-gw", "laptop-ben"], ["ber-gw", "muc-1"]]


async def test_links_are_the_resolved_peer_pairs(api: Api) -> None:
    one = (await api.get("/api/v1/networks/backbone", as_="reader")).json()
    assert one["links"] == BACKBONE_LINKS
    site = (await api.get("/api/v1/networks/site", as_="reader")).json()
    assert site["links"] == SITE_LINKS
    # The list leaves them out: a full mesh has n*(n-1)/2 of them.
    listed = (await api.get("/api/v1/networks", as_="reader")).json()
    assert {n["name"]: n["links"] for n in listed["networks"]} == {"backbone": None, "site": None}


async def test_links_follow_an_edited_connection(api: Api) -> None:
    net = (await api.get("/api/v1/networks/backbone")).json()
    spec = net["spec"]
    del spec["connections"][2]  # the Berlin backup uplink to New York
    answer = await api.put("/api/v1/networks/backbone", json={"spec": spec})
    assert answer.status_code == 200, answer.text
    assert answer.json()["links"] == [p for p in BACKBONE_LINKS if p != ["ber-gw", "nyc-1"]]
    reread = (await api.get("/api/v1/networks/backbone")).json()
    assert reread["links"] == answer.json()["links"]


async def test_unknown_and_invalid_names(api: Api) -> None:
    missing = await api.get("/api/v1/networks/nope")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    bad = await api.get("/api/v1/networks/Bad.Name")
    assert bad.status_code == 400


async def test_update_keeps_comments_and_commits_once(api: Api) -> None:
    before = api.head()
    net = (await api.get("/api/v1/networks/backbone")).json()
    spec = net["spec"]
    spec["persistent_keepalive"] = 20
    answer = await api.put(
        "/api/v1/networks/backbone", json={"spec": spec, "message": "shorter keepalive"}
    )
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert after["revision"] == api.head() != before
    text = api.text("networks/backbone.toml")
    assert text is not None
    assert "persistent_keepalive = 20" in text
    assert "# Every cloud gateway talks to every other one." in text
    assert text.replace("persistent_keepalive = 20", "persistent_keepalive = 25", 1) == net["toml"]
    history = api.ctx.store.history(limit=2)
    assert history[0].message.strip() == "shorter keepalive"
    assert history[0].author.name == "admin token"
    assert history[0].parents == (before,)


async def test_update_with_same_spec_commits_nothing(api: Api) -> None:
    before = api.head()
    net = (await api.get("/api/v1/networks/site")).json()
    answer = await api.put("/api/v1/networks/site", json={"spec": net["spec"]})
    assert answer.status_code == 200
    assert api.head() == before


async def test_update_from_raw_toml_and_default_message(api: Api) -> None:
    text = api.text("networks/site.toml")
    assert text is not None
    answer = await api.put(
        "/api/v1/networks/site", json={"toml": text.replace("Offices", "Branch offices")}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["spec"]["description"] == "Branch offices and remote workers"
    assert api.ctx.store.history(limit=1)[0].message.strip() == "api: update networks/site.toml"


async def test_spec_and_toml_are_exclusive(api: Api) -> None:
    answer = await api.put("/api/v1/networks/site", json={"message": "nothing"})
    assert answer.status_code == 422
    assert "exactly one" in answer.json()["error"]["message"]


async def test_invalid_spec_is_422_naming_file_and_key_and_commits_nothing(api: Api) -> None:
    before = api.head()
    net = (await api.get("/api/v1/networks/backbone")).json()
    spec = net["spec"]
    spec["address_range"] = "10.99.0.0/16"
    answer = await api.put("/api/v1/networks/backbone", json={"spec": spec})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_config"
    paths = {(d["path"], d["key"]) for d in error["details"]}
    assert ("nodes/fra-1.toml", "interfaces.backbone.address") in paths
    assert api.head() == before


async def test_stale_if_match_is_409(api: Api) -> None:
    first = await api.get("/api/v1/networks/site")
    etag = first.headers["etag"]
    spec = first.json()["spec"]
    spec["description"] = "one"
    ok = await api.put("/api/v1/networks/site", json={"spec": spec}, headers={"If-Match": etag})
    assert ok.status_code == 200
    spec["description"] = "two"
    stale = await api.put("/api/v1/networks/site", json={"spec": spec}, headers={"If-Match": etag})
    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["head"] == api.head()
    assert "one" in (api.text("networks/site.toml") or "")


async def test_create_then_conflict_then_delete(api: Api) -> None:
    body = {"name": "lab", "spec": {"address_range": "10.77.0.0/24", "description": "lab"}}
    created = await api.post("/api/v1/networks", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["toml"] == 'description = "lab"\naddress_range = "10.77.0.0/24"\n'
    assert api.ctx.store.history(limit=1)[0].message.strip() == "api: create networks/lab.toml"
    again = await api.post("/api/v1/networks", json=body)
    assert again.status_code == 409
    gone = await api.delete("/api/v1/networks/lab")
    assert gone.status_code == 200
    assert gone.json()["committed"] is True
    assert api.text("networks/lab.toml") is None
    assert (await api.get("/api/v1/networks/lab")).status_code == 404


async def test_delete_of_joined_network_needs_cascade(api: Api) -> None:
    refused = await api.delete("/api/v1/networks/site")
    assert refused.status_code == 422
    assert any(d["path"].startswith("nodes/") for d in refused.json()["error"]["details"])
    done = await api.delete("/api/v1/networks/site?cascade=true")
    assert done.status_code == 200, done.text
    paths = done.json()["paths"]
    assert "networks/site.toml" in paths and "nodes/ber-gw.toml" in paths
    ber = api.text("nodes/ber-gw.toml")
    assert ber is not None and "site" not in tomllib.loads(ber).get("interfaces", {})
    assert "# Berlin office LAN" in ber
    assert api.text("keys/laptop-anna.toml") is None
    ber_keys = tomllib.loads(api.text("keys/ber-gw.toml") or "")
    assert list(ber_keys["interfaces"]) == ["backbone"]
    assert len(api.ctx.store.history(limit=10)) == 2
