from __future__ import annotations

import pytest

from drago.server.endpoint import Role
from tests.server.conftest import Harness

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("path", ["config", "keys", "status"])
async def test_node_token_with_a_non_ascii_node_name_is_forbidden(
    harness: Harness, path: str
) -> None:
    h = harness
    own = h.token(Role.node, "fra-1")
    r = await h.client.get(f"/api/v1/nodes/%C3%A9/{path}", headers=h.auth(own))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"


async def test_public_endpoints_need_no_token(harness: Harness) -> None:
    assert (await harness.client.get("/healthz")).status_code == 200
