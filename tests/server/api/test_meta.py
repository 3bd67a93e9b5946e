from __future__ import annotations

import anyio
import httpx
import pytest

from drago.server.endpoint import Role
from drago.store import Identity
from tests.server.conftest import Harness
from tests.server.helpers import edit

pytestmark = pytest.mark.anyio


async def test_healthz_is_public(harness: Harness) -> None:
    r = await harness.client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "revision": harness.ctx.live.revision,
        "role": "primary",
        "reasons": [],
    }


async def test_an_invalid_head_is_degraded_and_only_readers_see_why(harness: Harness) -> None:
    h = harness
    live = h.ctx.live.revision
    assert live is not None
    # A commit that bypassed every check (as a hand-moved ref would).
    h.ctx.store.commit(
        {"nodes/fra-1.toml": b'[interfaces.backbone]\naddress = "10.99.0.1/16"\n'},
        message="bypass",
        author=Identity("Mallory", "mallory@example.org"),
        base=live,
    )
    await h.ctx.live.refresh()
    health = (await h.client.get("/healthz")).json()
    head = h.ctx.store.head()
    assert head is not None
    assert health == {
        "status": "degraded",
        "revision": live,
        "role": "primary",
        "reasons": [f"the branch head {head[:12]} is not valid and not served"],
    }
    assert "10.99" not in str(health)
    assert (await h.client.get("/api/v1/live")).status_code == 401
    body = (await h.client.get("/api/v1/live", headers=h.auth(h.token(Role.reader)))).json()
    assert body["status"] == "degraded"
    assert body["revision"] == live
    assert body["nodes"] == 7
    assert "nodes/fra-1.toml: interfaces.backbone.address" in body["problem"]["message"]
    # Writes are refused with the reason, not based on the unserved head.
    put = await h.client.put(
        "/api/v1/nodes/sgp-1", headers=h.auth(h.admin), json={"spec": {"description": "x"}}
    )
    assert put.status_code == 409
    assert "not valid and not served" in put.json()["error"]["message"]
    # Moving the branch back by hand clears the problem.
    h.ctx.store.set_branch("main", live, old=h.ctx.store.head())
    await h.ctx.live.refresh()
    assert (await h.client.get("/healthz")).json()["status"] == "ok"


async def test_whoami_for_every_role(harness: Harness) -> None:
    h = harness
    admin = (await h.client.get("/api/v1/whoami", headers=h.auth(h.admin))).json()
    assert (admin["role"], admin["name"]) == ("admin", "bootstrap admin")
    reader = h.token(Role.reader, name="Rita", email="rita@example.org")
    body = (await h.client.get("/api/v1/whoami", headers=h.auth(reader))).json()
    assert (body["role"], body["name"], body["email"]) == ("reader", "Rita", "rita@example.org")


async def test_metrics_count_commits_waiters_and_sync(harness: Harness) -> None:
    h = harness
    await edit(h.ctx, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net")
    await h.ctx.live.settled()
    desired = h.ctx.live.require_hash("fra-1")
    await h.client.put(
        "/api/v1/nodes/fra-1/status", headers=h.auth(h.admin), json={"applied_hash": desired}
    )
    r = await h.client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'drago_commits_total{outcome="committed"} 1.0' in text
    assert "drago_longpoll_waiters 0.0" in text
    assert "drago_nodes_in_sync 1.0" in text
    assert "drago_nodes 7.0" in text
    assert "drago_render_seconds_count 2.0" in text
    assert "drago_nodes_woken_total" in text


async def test_the_api_root_is_a_public_index_whose_links_answer(harness: Harness) -> None:
    h = harness
    r = await h.client.get("/api/v1")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "drago"
    assert (await h.client.get(body["openapi"])).json()["openapi"] == "3.1.0"
    assert "docs/api.md" in body["docs"]
    for name, path in body["links"].items():
        if name in ("git", "ui"):
            continue  # git answers only its own protocol's paths; the UI is its own page
        linked = await h.client.get(path, headers=h.auth(h.admin))
        assert linked.status_code == 200, (name, path, linked.status_code)


async def test_live_long_poll_answers_when_the_revision_changes(harness: Harness) -> None:
    h = harness
    reader = h.auth(h.token(Role.reader))
    first = await h.client.get("/api/v1/live", headers=reader)
    live = h.ctx.live.revision
    assert first.headers["etag"] == f'"{live}"'
    held = {**reader, "If-None-Match": first.headers["etag"]}
    quiet = await h.client.get("/api/v1/live?wait=0.2", headers=held)
    assert quiet.status_code == 304
    assert quiet.headers["etag"] == f'"{live}"'
    async with anyio.create_task_group() as group:
        answers: list[httpx.Response] = []

        async def poll() -> None:
            answers.append(await h.client.get("/api/v1/live?wait=5", headers=held))

        group.start_soon(poll)
        await anyio.sleep(0.2)
        assert not answers  # held
        started = anyio.current_time()
        revision = await edit(h.ctx, "nodes/sgp-1.toml", "Singapore", "Singapur")
    assert anyio.current_time() - started < 1.0
    assert answers[0].status_code == 200
    assert answers[0].json()["revision"] == revision
    assert answers[0].headers["etag"] == f'"{revision}"'
