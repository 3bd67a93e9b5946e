from __future__ import annotations

import pytest

from drago.server.endpoint import Role
from tests.server.conftest import Harness

pytestmark = pytest.mark.anyio


async def test_create_use_list_and_revoke(harness: Harness) -> None:
    h = harness
    created = await h.client.post(
        "/api/v1/tokens",
        headers=h.auth(h.admin),
        json={"role": "node", "node": "fra-1", "name": "Fra agent", "email": "fra@example.org"},
    )
    assert created.status_code == 201
    body = created.json()
    secret, token_id = body["secret"], body["token"]["id"]
    me = await h.client.get("/api/v1/whoami", headers=h.auth(secret))
    assert me.json() == {
        "token_id": token_id,
        "name": "Fra agent",
        "email": "fra@example.org",
        "role": "node",
        "node": "fra-1",
    }
    listed = (await h.client.get("/api/v1/tokens", headers=h.auth(h.admin))).json()["tokens"]
    assert token_id in {t["id"] for t in listed}
    assert secret not in str(listed)
    revoked = await h.client.delete(f"/api/v1/tokens/{token_id}", headers=h.auth(h.admin))
    assert revoked.status_code == 200
    assert (await h.client.get("/api/v1/whoami", headers=h.auth(secret))).status_code == 401
    again = await h.client.delete(f"/api/v1/tokens/{token_id}", headers=h.auth(h.admin))
    assert again.status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"role": "node"}, 400),
        ({"role": "king"}, 422),
        ({"role": "admin", "node": "fra-1"}, 400),
        ({"role": "reader", "email": "not an email"}, 422),
        ({"role": "reader", "extra": 1}, 422),
        ({"role": "reader", "name": "Eve <eve@example.org>"}, 422),
        ({"role": "reader", "name": "   "}, 422),
    ],
)
async def test_invalid_requests(harness: Harness, body: dict[str, object], status: int) -> None:
    r = await harness.client.post("/api/v1/tokens", headers=harness.auth(harness.admin), json=body)
    assert r.status_code == status
    assert r.json()["error"]["code"] == "invalid_request"


@pytest.mark.parametrize("role", [Role.reader, Role.node])
async def test_only_admins_manage_tokens(harness: Harness, role: Role) -> None:
    h = harness
    secret = h.token(role, "fra-1" if role is Role.node else None)
    for method, url in [
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/abc"),
    ]:
        r = await h.client.request(method, url, headers=h.auth(secret), json={"role": "admin"})
        assert r.status_code == 403, (method, url)


async def test_node_tokens_only_for_nodes_that_exist(harness: Harness) -> None:
    """A token for a missing node would be a dormant credential: a typo that never works,
    and a key to whatever node someone later adds under that name."""
    h = harness
    before = [t.id for t in h.ctx.tokens.list()]
    r = await h.client.post(
        "/api/v1/tokens", headers=h.auth(h.admin), json={"role": "node", "node": "fra-9"}
    )
    assert r.status_code == 404, r.text
    error = r.json()["error"]
    assert "'fra-9'" in error["message"] and "nodes/fra-9.toml" in error["message"]
    assert error["details"] == {"node": "fra-9", "path": "nodes/fra-9.toml"}
    device = await h.client.post(
        "/api/v1/tokens", headers=h.auth(h.admin), json={"role": "node", "node": "con"}
    )
    assert device.status_code == 400
    assert "Windows device name" in device.json()["error"]["message"]
    assert [t.id for t in h.ctx.tokens.list()] == before
    ok = await h.client.post(
        "/api/v1/tokens", headers=h.auth(h.admin), json={"role": "node", "node": "muc-1"}
    )
    assert ok.status_code == 201, ok.text


NEW_NODE = {"name": "tmp-x", "spec": {"interfaces": {"backbone": {"address": "10.20.9.9/16"}}}}


async def test_deleting_a_node_revokes_its_tokens(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A deleted node's token must not work for a new node of the same name."""
    h = harness
    admin = h.auth(h.admin)
    assert (await h.client.post("/api/v1/nodes", headers=admin, json=NEW_NODE)).status_code == 201
    old = h.token(Role.node, "tmp-x")
    other = h.token(Role.node, "fra-1")
    assert (await h.client.get("/api/v1/whoami", headers=h.auth(old))).status_code == 200
    with caplog.at_level("WARNING", logger="drago.server"):
        deleted = await h.client.request("DELETE", "/api/v1/nodes/tmp-x", headers=admin, json={})
    assert deleted.status_code == 200
    assert (await h.client.get("/api/v1/whoami", headers=h.auth(old))).status_code == 401
    assert [t.node for t in h.ctx.tokens.list()].count("tmp-x") == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("revoked token" in m and "'tmp-x'" in m for m in warnings), warnings
    # The same name again (a new machine): the old token stays dead.
    assert (await h.client.post("/api/v1/nodes", headers=admin, json=NEW_NODE)).status_code == 201
    assert (await h.client.get("/api/v1/whoami", headers=h.auth(old))).status_code == 401
    key = "mJ5nX8h0yXh6Y0c1d3k3S0pZQ1V0b0x6bGQ5b3h3b2k="
    put = await h.client.put(
        "/api/v1/nodes/tmp-x/keys/backbone", headers=h.auth(old), json={"public_key": key}
    )
    assert put.status_code == 401
    # Tokens of nodes that stay are untouched.
    assert (await h.client.get("/api/v1/whoami", headers=h.auth(other))).status_code == 200


async def test_a_node_removed_outside_the_server_loses_its_tokens(harness: Harness) -> None:
    """The watcher's path (a push straight into the repository) revokes too."""
    h = harness
    ctx = h.ctx
    secret = h.token(Role.node, "sgp-1")
    head = ctx.live.revision
    assert head is not None
    ctx.store.commit(
        {"nodes/sgp-1.toml": None, "keys/sgp-1.toml": None},
        message="remove sgp-1",
        author=ctx.server_identity,
        committer=ctx.server_identity,
        base=head,
        branch=ctx.branch,
    )
    assert await ctx.live.refresh()
    assert ctx.live.problem is None
    assert (await h.client.get("/api/v1/whoami", headers=h.auth(secret))).status_code == 401
