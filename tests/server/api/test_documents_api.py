"""Through the API: deleting or reordering connections of a hand-written network file
keeps each connection's comments above it and changes nothing else."""

from __future__ import annotations

import pytest

from tests.model.test_documents_arrays import split_backbone
from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

PATH = "networks/backbone.toml"


@pytest.mark.parametrize("index", [0, 1, 2])
async def test_delete_a_connection_removes_its_comments_with_it(api: Api, index: int) -> None:
    before, segments, after = split_backbone(api.text(PATH) or "")
    answer = await api.delete(f"/api/v1/networks/backbone/connections/{index}")
    assert answer.status_code == 200, answer.text
    kept = segments[:index] + segments[index + 1 :]
    assert api.text(PATH) == before + "".join(kept) + after


async def test_a_spec_put_that_reorders_connections_moves_their_comments(api: Api) -> None:
    before, segments, after = split_backbone(api.text(PATH) or "")
    spec = (await api.get("/api/v1/networks/backbone")).json()["spec"]
    spec["connections"] = [spec["connections"][i] for i in (2, 0)]
    answer = await api.put("/api/v1/networks/backbone", json={"spec": spec})
    assert answer.status_code == 200, answer.text
    assert api.text(PATH) == before + segments[2] + segments[0] + after
