from __future__ import annotations

import json
import time

import anyio
import pytest

from drago.render.config import NodeConfig
from drago.server.endpoint import Role
from tests.server.conftest import Harness
from tests.server.helpers import edit

pytestmark = pytest.mark.anyio
URL = "/api/v1/nodes/{}/config"


async def test_config_document_with_hash_revision_and_etag(harness: Harness) -> None:
    r = await harness.client.get(URL.format("fra-1"), headers=harness.auth(harness.admin))
    assert r.status_code == 200
    body = r.json()
    config = NodeConfig.model_validate(body)  # the hash is checked against the content
    assert body["node"] == "fra-1"
    assert body["revision"] == harness.ctx.live.revision
    assert r.headers["etag"] == f'"{config.hash}"'
    assert [i["network"] for i in body["interfaces"]] == ["backbone"]


async def test_matching_etag_without_wait_is_304_at_once(harness: Harness) -> None:
    h = harness
    first = await h.client.get(URL.format("fra-1"), headers=h.auth(h.admin))
    etag = first.headers["etag"]
    r = await h.client.get(URL.format("fra-1"), headers={**h.auth(h.admin), "If-None-Match": etag})
    assert r.status_code == 304
    assert r.headers["etag"] == etag
    other = await h.client.get(
        URL.format("fra-1"), headers={**h.auth(h.admin), "If-None-Match": '"0000"'}
    )
    assert other.status_code == 200


async def test_long_poll_times_out_with_304(harness: Harness) -> None:
    h = harness
    etag = (await h.client.get(URL.format("muc-1"), headers=h.auth(h.admin))).headers["etag"]
    started = time.monotonic()
    r = await h.client.get(
        URL.format("muc-1"),
        params={"wait": "0.3"},
        headers={**h.auth(h.admin), "If-None-Match": etag},
    )
    assert r.status_code == 304
    assert 0.25 <= time.monotonic() - started < 2


async def test_long_poll_wakes_only_nodes_whose_config_changed(harness: Harness) -> None:
    h = harness
    headers = {
        n: (await h.client.get(URL.format(n), headers=h.auth(h.admin))).headers["etag"]
        for n in ("fra-1", "muc-1")
    }
    answers: dict[str, tuple[int, float]] = {}
    started = time.monotonic()

    async def poll(node: str) -> None:
        r = await h.client.get(
            URL.format(node),
            params={"wait": "1.5"},
            headers={**h.auth(h.admin), "If-None-Match": headers[node]},
        )
        answers[node] = (r.status_code, time.monotonic() - started)

    async with anyio.create_task_group() as tg:
        tg.start_soon(poll, "fra-1")
        tg.start_soon(poll, "muc-1")
        while h.ctx.live.waiters < 2:
            await anyio.sleep(0.01)
        # sgp-1 is a peer of fra-1 (core mesh) but not of muc-1 (office -> fra-1 only)
        await edit(h.ctx, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net")
    assert answers["fra-1"][0] == 200
    assert answers["fra-1"][1] < 1.0
    assert answers["muc-1"][0] == 304
    assert answers["muc-1"][1] >= 1.4
    assert h.ctx.live.waiters == 0


async def test_wait_is_capped_by_max_wait(harness: Harness) -> None:
    h = harness
    h.ctx.settings = h.ctx.settings.model_copy(update={"max_wait": 0.2})
    etag = (await h.client.get(URL.format("muc-1"), headers=h.auth(h.admin))).headers["etag"]
    started = time.monotonic()
    r = await h.client.get(
        URL.format("muc-1"),
        params={"wait": "30"},
        headers={**h.auth(h.admin), "If-None-Match": etag},
    )
    assert r.status_code == 304
    assert time.monotonic() - started < 2


async def test_close_releases_waiters_with_304(harness: Harness) -> None:
    h = harness
    etag = (await h.client.get(URL.format("muc-1"), headers=h.auth(h.admin))).headers["etag"]
    result: list[int] = []

    async def poll() -> None:
        r = await h.client.get(
            URL.format("muc-1"),
            params={"wait": "5"},
            headers={**h.auth(h.admin), "If-None-Match": etag},
        )
        result.append(r.status_code)

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poll)
            while h.ctx.live.waiters < 1:
                await anyio.sleep(0.01)
            h.ctx.live.close()
    assert result == [304]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"wait": "soon"}, 400),
        ({"wait": "-1"}, 400),
        ({"wait": "nan"}, 400),
        ({"format": "yaml"}, 400),
        ({"format": "wg-quick"}, 400),
        ({"format": "wg-quick", "network": "site"}, 404),
    ],
)
async def test_bad_queries(harness: Harness, params: dict[str, str], status: int) -> None:
    r = await harness.client.get(
        URL.format("fra-1"), params=params, headers=harness.auth(harness.admin)
    )
    assert r.status_code == status
    assert set(r.json()["error"]) == {"code", "message", "details"}


async def test_unknown_node_is_404(harness: Harness) -> None:
    r = await harness.client.get(URL.format("nope"), headers=harness.auth(harness.admin))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_wg_quick_export_has_no_private_key(harness: Harness) -> None:
    h = harness
    r = await h.client.get(
        URL.format("ber-gw"),
        params={"format": "wg-quick", "network": "site"},
        headers=h.auth(h.admin),
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "[Interface]" in text and "[Peer]" in text
    assert not any(line.startswith("PrivateKey") for line in text.splitlines())
    assert "Address = 10.30.0.1/16" in text


async def test_node_tokens_read_only_their_own_config(harness: Harness) -> None:
    h = harness
    own = h.token(Role.node, "fra-1")
    assert (await h.client.get(URL.format("fra-1"), headers=h.auth(own))).status_code == 200
    other = await h.client.get(URL.format("nyc-1"), headers=h.auth(own))
    assert other.status_code == 403
    assert other.json()["error"]["code"] == "forbidden"
    reader = h.token(Role.reader)
    assert (await h.client.get(URL.format("nyc-1"), headers=h.auth(reader))).status_code == 200
    anonymous = await h.client.get(URL.format("nyc-1"))
    assert anonymous.status_code == 401
    assert json.loads(anonymous.content)["error"]["code"] == "unauthorized"


async def test_if_none_match_with_several_tags_matches_any(harness: Harness) -> None:
    h = harness
    etag = (await h.client.get(URL.format("fra-1"), headers=h.auth(h.admin))).headers["etag"]
    r = await h.client.get(
        URL.format("fra-1"), headers={**h.auth(h.admin), "If-None-Match": f'"other", {etag}'}
    )
    assert r.status_code == 304
    weak = await h.client.get(
        URL.format("fra-1"), headers={**h.auth(h.admin), "If-None-Match": f"W/{etag}"}
    )
    assert weak.status_code == 304


async def test_wg_quick_has_its_own_entity_tag(harness: Harness) -> None:
    h = harness
    url, params = URL.format("ber-gw"), {"format": "wg-quick", "network": "site"}
    as_json = await h.client.get(url, headers=h.auth(h.admin))
    as_file = await h.client.get(url, params=params, headers=h.auth(h.admin))
    assert as_file.headers["etag"] != as_json.headers["etag"]
    # The JSON hash does not answer 304 for the file, the file's own tag does.
    stale = {**h.auth(h.admin), "If-None-Match": as_json.headers["etag"]}
    assert (await h.client.get(url, params=params, headers=stale)).status_code == 200
    fresh = {**h.auth(h.admin), "If-None-Match": as_file.headers["etag"]}
    assert (await h.client.get(url, params=params, headers=fresh)).status_code == 304


async def test_long_poll_of_a_token_revoked_during_the_wait_is_401(harness: Harness) -> None:
    h = harness
    info, secret = h.ctx.tokens.create(Role.node, node="fra-1")
    etag = (await h.client.get(URL.format("fra-1"), headers=h.auth(secret))).headers["etag"]
    answers: list[tuple[int, bytes]] = []

    async def poll() -> None:
        r = await h.client.get(
            URL.format("fra-1"),
            params={"wait": "3"},
            headers={**h.auth(secret), "If-None-Match": etag},
        )
        answers.append((r.status_code, r.content))

    with anyio.fail_after(4):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poll)
            while h.ctx.live.waiters < 1:
                await anyio.sleep(0.01)
            h.ctx.tokens.revoke(info.id)
            # sgp-1 is a peer of fra-1: the held request wakes with a new config
            await edit(h.ctx, "nodes/sgp-1.toml", "sgp-1.example.net", "sgp-2.example.net")
    [(status, body)] = answers
    assert status == 401
    assert json.loads(body)["error"]["code"] == "unauthorized"
    assert b"sgp-2.example.net" not in body


@pytest.mark.parametrize("fmt", [{}, {"format": "wg-quick", "network": "backbone"}])
async def test_long_poll_that_times_out_after_a_revocation_is_401(
    harness: Harness, fmt: dict[str, str]
) -> None:
    h = harness
    info, secret = h.ctx.tokens.create(Role.node, node="muc-1")
    url = URL.format("muc-1")
    etag = (await h.client.get(url, params=fmt, headers=h.auth(secret))).headers["etag"]
    answers: list[int] = []

    async def poll() -> None:
        r = await h.client.get(
            url,
            params={**fmt, "wait": "0.5"},
            headers={**h.auth(secret), "If-None-Match": etag},
        )
        answers.append(r.status_code)

    async with anyio.create_task_group() as tg:
        tg.start_soon(poll)
        while h.ctx.live.waiters < 1:
            await anyio.sleep(0.01)
        h.ctx.tokens.revoke(info.id)
    assert answers == [401]
