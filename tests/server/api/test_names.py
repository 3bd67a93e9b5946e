"""Every way a name reaches the server goes through the one name check, and the
answer says why a name is refused (Windows device names, a trailing '-', ...)."""

from __future__ import annotations

from typing import Any

import pytest

from drago.model.names import name_problem
from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

NODE_TOML = '[interfaces.backbone]\naddress = "10.20.0.77/16"\n'
NETWORK_TOML = 'address_range = "10.77.0.0/16"\n'


@pytest.mark.parametrize("name", ["con", "nul", "com1", "lpt9", "edge-"])
async def test_names_in_paths_are_refused_with_the_reason(api: Api, name: str) -> None:
    reason = name_problem(name)
    assert reason is not None
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/api/v1/nodes/{name}", {}),
        ("PUT", f"/api/v1/nodes/{name}", {"json": {"toml": NODE_TOML}}),
        ("GET", f"/api/v1/networks/{name}", {}),
        ("GET", f"/api/v1/nodes/{name}/config", {}),
        ("GET", f"/api/v1/nodes/{name}/status", {}),
        ("PUT", f"/api/v1/nodes/{name}/status", {"json": {}}),
        ("GET", f"/api/v1/nodes/{name}/keys", {}),
        ("PUT", f"/api/v1/nodes/fra-1/keys/{name}", {"json": {"public_key": "x"}}),
        ("GET", f"/api/v1/networks/{name}/connections", {}),
    ]
    head = api.head()
    for method, url, kwargs in calls:
        answer = await api.call(method, url, **kwargs)
        assert answer.status_code == 400, (method, url, answer.text)
        assert reason in answer.json()["error"]["message"], (method, url)
    assert api.head() == head


@pytest.mark.parametrize("name", ["aux", "prn", "core-"])
async def test_names_in_bodies_and_files_are_refused_with_the_reason(api: Api, name: str) -> None:
    reason = name_problem(name)
    assert reason is not None
    head = api.head()
    node = await api.post("/api/v1/nodes", json={"name": name, "toml": NODE_TOML})
    assert node.status_code == 422, node.text
    assert reason in node.json()["error"]["message"]
    network = await api.post("/api/v1/networks", json={"name": name, "toml": NETWORK_TOML})
    assert network.status_code == 422, network.text
    assert reason in network.json()["error"]["message"]
    token = await api.post("/api/v1/tokens", json={"role": "node", "node": name})
    assert token.status_code == 400, token.text
    assert reason in token.json()["error"]["message"]
    checked = await api.post(
        "/api/v1/validate", json={"changes": {f"nodes/{name}.toml": NODE_TOML}}
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is False
    assert checked.json()["problems"] == [
        {"path": f"nodes/{name}.toml", "key": "", "message": f"invalid file name: {reason}"}
    ]
    assert api.head() == head
