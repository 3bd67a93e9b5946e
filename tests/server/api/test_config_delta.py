"""Delta answers of the config endpoint (A-IM: drago-delta), gzip, shared bodies,
and clients that negotiate nothing getting exactly what they got before."""

from __future__ import annotations

import anyio
import pytest

from drago.render.config import NodeConfig
from drago.render.delta import MEDIA_TYPE, ConfigDelta, apply_delta
from drago.server.api.config import accepts_gzip, wants_delta
from tests.server.conftest import Harness
from tests.server.helpers import edit

pytestmark = pytest.mark.anyio
URL = "/api/v1/nodes/{}/config"
IDENTITY = {"Accept-Encoding": "identity"}


def sample(h: Harness, name: str, labels: dict[str, str]) -> float:
    return h.ctx.metrics.registry.get_sample_value(name, labels) or 0.0


async def held_config(h: Harness, node: str) -> NodeConfig:
    r = await h.client.get(URL.format(node), headers={**h.auth(h.admin), **IDENTITY})
    assert r.status_code == 200
    return NodeConfig.model_validate_json(r.content)


async def move_sgp(h: Harness, host: str = "sgp-2.example.net") -> None:
    """A change of fra-1's config (sgp-1 is its peer), rendered."""
    await edit(h.ctx, "nodes/sgp-1.toml", "sgp-1.example.net", host)
    await h.ctx.live.settled()


def delta_headers(h: Harness, held: str) -> dict[str, str]:
    return {**h.auth(h.admin), **IDENTITY, "If-None-Match": f'"{held}"', "A-IM": "drago-delta"}


async def test_a_known_base_is_answered_with_a_delta(harness: Harness) -> None:
    h = harness
    held = await held_config(h, "fra-1")
    await move_sgp(h)
    r = await h.client.get(URL.format("fra-1"), headers=delta_headers(h, held.hash))
    assert r.status_code == 226
    new = h.ctx.live.config("fra-1")
    assert r.headers["im"] == "drago-delta"
    assert r.headers["delta-base"] == f'"{held.hash}"'
    assert r.headers["etag"] == f'"{new.hash}"'
    assert r.headers["content-type"] == MEDIA_TYPE
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["vary"] == "A-IM, Accept-Encoding"
    assert "content-encoding" not in r.headers
    delta = ConfigDelta.model_validate_json(r.content)
    assert [p.name for p in delta.interfaces[0].peers] == ["sgp-1"]
    applied = apply_delta(held, delta)
    assert applied == await held_config(h, "fra-1")
    assert applied.revision == h.ctx.live.revision
    assert sample(h, "drago_config_answers_total", {"kind": "delta", "encoding": "identity"}) == 1


async def test_a_long_poll_with_a_delta(harness: Harness) -> None:
    h = harness
    held = await held_config(h, "fra-1")
    answers: list[tuple[int, bytes]] = []

    async def poll() -> None:
        r = await h.client.get(
            URL.format("fra-1"), params={"wait": "3"}, headers=delta_headers(h, held.hash)
        )
        answers.append((r.status_code, r.content))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(poll)
            while h.ctx.live.waiters < 1:
                await anyio.sleep(0.01)
            await move_sgp(h)
    [(status, content)] = answers
    assert status == 226
    assert apply_delta(held, ConfigDelta.model_validate_json(content)) == h.ctx.live.config("fra-1")


async def test_the_current_hash_with_a_im_is_still_304(harness: Harness) -> None:
    h = harness
    held = await held_config(h, "fra-1")
    r = await h.client.get(URL.format("fra-1"), headers=delta_headers(h, held.hash))
    assert r.status_code == 304
    assert r.headers["etag"] == f'"{held.hash}"'


async def test_an_unknown_base_or_several_tags_get_the_full_config(harness: Harness) -> None:
    h = harness
    held = await held_config(h, "fra-1")
    await move_sgp(h)
    unknown = await h.client.get(URL.format("fra-1"), headers=delta_headers(h, "0" * 64))
    assert unknown.status_code == 200
    assert "im" not in unknown.headers and "delta-base" not in unknown.headers
    assert NodeConfig.model_validate_json(unknown.content) == h.ctx.live.config("fra-1")
    several = delta_headers(h, held.hash)
    several["If-None-Match"] += ', "' + "1" * 64 + '"'
    r = await h.client.get(URL.format("fra-1"), headers=several)
    assert r.status_code == 200
    assert r.content == unknown.content
    assert sample(h, "drago_config_delta_fallbacks_total", {"reason": "unknown_base"}) == 1
    assert sample(h, "drago_config_delta_fallbacks_total", {"reason": "tags"}) == 1


async def test_clients_without_a_im_get_the_full_config_as_before(harness: Harness) -> None:
    h = harness
    held = await held_config(h, "fra-1")
    await move_sgp(h)
    headers = {**h.auth(h.admin), **IDENTITY, "If-None-Match": f'"{held.hash}"'}
    r = await h.client.get(URL.format("fra-1"), headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert "im" not in r.headers and "content-encoding" not in r.headers
    digest, document = h.ctx.live.document("fra-1")
    assert r.content == document
    assert r.headers["etag"] == f'"{digest}"'
    for other in ("gzip", "drago-delta;q=0", "vcdiff"):  # not what we offer
        refused = await h.client.get(URL.format("fra-1"), headers={**headers, "A-IM": other})
        assert refused.status_code == 200 and refused.content == document


async def test_gzip_when_accepted(harness: Harness) -> None:
    h = harness
    headers = {**h.auth(h.admin), "Accept-Encoding": "gzip"}
    r = await h.client.get(URL.format("fra-1"), headers=headers)
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "A-IM, Accept-Encoding"
    _, document = h.ctx.live.document("fra-1")
    assert r.content == document  # decoded by the client
    assert r.num_bytes_downloaded < len(document)
    assert int(r.headers["content-length"]) == r.num_bytes_downloaded
    refused = await h.client.get(
        URL.format("fra-1"), headers={**headers, "Accept-Encoding": "gzip;q=0, br"}
    )
    assert "content-encoding" not in refused.headers and refused.content == document


async def test_waiters_of_one_node_share_one_body(harness: Harness) -> None:
    h = harness
    held = await held_config(h, "fra-1")
    statuses: list[int] = []
    bodies: set[bytes] = set()

    async def poll(negotiate: bool) -> None:
        headers = delta_headers(h, held.hash)
        if not negotiate:
            del headers["A-IM"]
        r = await h.client.get(URL.format("fra-1"), params={"wait": "3"}, headers=headers)
        statuses.append(r.status_code)
        bodies.add(r.content)

    built = {
        k: sample(h, "drago_config_bodies_built_total", {"kind": k}) for k in ("delta", "full")
    }
    with anyio.fail_after(8):
        async with anyio.create_task_group() as tg:
            for number in range(30):
                tg.start_soon(poll, number % 3 != 0)
            while h.ctx.live.waiters < 30:
                await anyio.sleep(0.01)
            await move_sgp(h)
    assert sorted(statuses) == [200] * 10 + [226] * 20
    assert len(bodies) == 2  # one delta, one full config
    assert sample(h, "drago_config_bodies_built_total", {"kind": "delta"}) == built["delta"] + 1
    assert sample(h, "drago_config_bodies_built_total", {"kind": "full"}) == built["full"] + 1
    sent = sample(h, "drago_config_answer_bytes_total", {"kind": "delta"})
    assert sent == 20 * min(len(b) for b in bodies)


@pytest.mark.parametrize(
    ("header", "wanted"),
    [
        (None, False),
        ("", False),
        ("drago-delta", True),
        ("Drago-Delta", True),
        ("vcdiff, drago-delta;q=0.5", True),
        ("drago-delta;q=0", False),
        ("drago-delta;q=nope", False),
        ("vcdiff", False),
    ],
)
def test_a_im_negotiation(header: str | None, wanted: bool) -> None:
    assert wants_delta(header) is wanted


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (None, False),
        ("identity", False),
        ("gzip, deflate", True),
        ("GZIP", True),
        ("x-gzip", True),
        ("br;q=1, gzip;q=0", False),
        ("*", True),
        ("*;q=0", False),
        ("gzip;q=inf", False),
        ("deflate, br", False),
        ("br , GZip ", True),
        ("identity, *", True),
        ("gzipped", False),
    ],
)
def test_accept_encoding(header: str | None, accepted: bool) -> None:
    assert accepts_gzip(header) is accepted
