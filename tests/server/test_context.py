from __future__ import annotations

import anyio
import pytest
from starlette.requests import Request

from drago.errors import ConfigError, Conflict, InvalidRequest
from drago.server.context import base_revision
from drago.server.endpoint import Principal, Role
from tests.server.conftest import Harness
from tests.server.helpers import edit, read

pytestmark = pytest.mark.anyio

ANA = Principal("t1", "Ana Admin", "ana@example.org", Role.admin)


def request_with(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "PUT", "path": "/", "headers": raw})


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"If-Match": "*"}, None),
        ({"If-Match": "abc1234"}, "abc1234"),
        ({"If-Match": '"abc1234"'}, "abc1234"),
        ({"If-Match": 'W/"ABC1234"'}, "abc1234"),
        ({"If-Match": "  "}, None),
    ],
)
def test_base_revision(headers: dict[str, str], expected: str | None) -> None:
    assert base_revision(request_with(headers)) == expected


@pytest.mark.parametrize("value", ["main", "HEAD", "HEAD~0", "abc12", "refs/heads/main"])
def test_if_match_must_be_a_revision_id(value: str) -> None:
    """A branch name always equals the head: it would silently turn CAS off."""
    with pytest.raises(InvalidRequest, match="is not a revision id"):
        base_revision(request_with({"If-Match": value}))


async def test_commit_is_authored_by_the_principal_and_made_live(harness: Harness) -> None:
    ctx = harness.ctx
    base = ctx.live.revision
    revision = await edit(
        ctx, "nodes/sgp-1.toml", "sgp-1.example", "sgp-2.example", base=base, principal=ANA
    )
    assert ctx.live.revision == revision
    info = ctx.store.history(revision, limit=1)[0]
    assert (info.author.name, info.author.email) == ("Ana Admin", "ana@example.org")
    assert info.committer == ctx.server_identity
    assert info.parents == (base,)
    assert info.signature is not None  # the server signs its commits


async def test_stale_base_is_a_conflict_and_commits_nothing(harness: Harness) -> None:
    ctx = harness.ctx
    old = ctx.live.revision
    assert old is not None
    new = await edit(ctx, "nodes/sgp-1.toml", "sgp-1.example", "sgp-2.example", base=old)
    with pytest.raises(Conflict) as caught:
        await edit(ctx, "nodes/nyc-1.toml", "nyc-1.example", "nyc-2.example", base=old)
    assert caught.value.details == {"base": old, "head": new}
    with pytest.raises(Conflict):
        await edit(ctx, "nodes/nyc-1.toml", "nyc-1.example", "nyc-2.example", base="f" * 40)
    assert ctx.store.head("main") == new
    text = ctx.metrics.render().decode()
    assert 'drago_commits_total{outcome="conflict"} 2.0' in text


async def test_short_base_names_resolve(harness: Harness) -> None:
    ctx = harness.ctx
    head = ctx.live.revision
    assert head is not None
    await edit(ctx, "nodes/sgp-1.toml", "sgp-1.example", "sgp-2.example", base=head[:12])


async def test_invalid_change_commits_nothing(harness: Harness) -> None:
    ctx = harness.ctx
    head = ctx.live.revision
    with pytest.raises(ConfigError) as caught:
        await edit(ctx, "nodes/fra-1.toml", "10.20.0.1/16", "10.99.0.1/16")
    assert any(p.path == "nodes/fra-1.toml" for p in caught.value.problems)
    assert ctx.store.head("main") == head == ctx.live.revision
    assert b"10.20.0.1/16" in read(ctx, "nodes/fra-1.toml")
    assert 'drago_validation_failures_total{source="api"} 1.0' in ctx.metrics.render().decode()


async def test_concurrent_writers_on_one_base_exactly_one_wins(harness: Harness) -> None:
    ctx = harness.ctx
    base = ctx.live.revision
    outcomes: list[str] = []

    async def writer(i: int) -> None:
        try:
            text = (
                read(ctx, "nodes/sgp-1.toml")
                .decode()
                .replace('description = "', f'description = "w{i} ')
            )
            await ctx.commit(
                {"nodes/sgp-1.toml": text.encode()}, message=f"w{i}", principal=ANA, base=base
            )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(writer, i)
    assert sorted(outcomes) == ["conflict"] * 9 + ["ok"]
    history = ctx.store.history("main", limit=5)
    assert history[0].parents == (base,)


async def test_writes_without_base_apply_on_top_of_head(harness: Harness) -> None:
    ctx = harness.ctx
    first = await edit(ctx, "nodes/sgp-1.toml", "sgp-1.example", "sgp-2.example")
    second = await edit(ctx, "nodes/nyc-1.toml", "nyc-1.example", "nyc-2.example")
    assert ctx.store.history(second, limit=1)[0].parents == (first,)
