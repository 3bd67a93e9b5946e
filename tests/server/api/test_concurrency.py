"""Concurrent writes: without If-Match every write lands (re-read and retried), with a
shared If-Match exactly one wins and the others get 409; history stays linear."""

from __future__ import annotations

import anyio
import pytest

from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

NODES = ["ber-gw", "fra-1", "laptop-anna", "muc-1", "nyc-1", "sgp-1", "laptop-ben"]


async def _set_description(
    api: Api, node: str, text: str, results: dict[str, int], base: str | None = None
) -> None:
    spec = (await api.get(f"/api/v1/nodes/{node}")).json()["spec"]
    spec["description"] = text
    headers = {"If-Match": base} if base else {}
    answer = await api.put(f"/api/v1/nodes/{node}", json={"spec": spec}, headers=headers)
    results[node] = answer.status_code


async def test_concurrent_writes_without_if_match_all_land(api: Api) -> None:
    before = api.head()
    results: dict[str, int] = {}
    async with anyio.create_task_group() as group:
        for node in NODES:
            group.start_soon(_set_description, api, node, f"edited {node}", results)
    assert results == {node: 200 for node in NODES}
    history = api.ctx.store.history(limit=len(NODES) + 1)
    assert [len(c.parents) for c in history[:-1]] == [1] * len(NODES)
    assert history[-1].id == before
    for node in NODES:
        assert f'description = "edited {node}"' in (api.text(f"nodes/{node}.toml") or "")


async def test_concurrent_writes_on_one_base_one_wins(api: Api) -> None:
    base = api.head()
    results: dict[str, int] = {}
    async with anyio.create_task_group() as group:
        for node in NODES:
            group.start_soon(_set_description, api, node, "same base", results, base)
    assert sorted(results.values()) == [200] + [409] * (len(NODES) - 1)
    assert api.ctx.store.history(limit=1)[0].parents == (base,)
