"""No node file cuts the agents off: real server, two agents on wireguard-go.

Node b asks for a route to the drago server's address. The validator cannot know
that address, so the change is accepted; agent a leaves the route out, reports it
on peer b, and keeps reaching the server: the fix arrives. A route covering the
nodes' IP endpoints is refused by the validator already.
(World and layout: tests/e2e/test_bad_peer_e2e.py.)
"""

from __future__ import annotations

import pytest

from tests.e2e.convergence import wait_until
from tests.e2e.test_bad_peer_e2e import OVERLAY, World, world
from tests.support.netns import lab

__all__ = ["lab", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.netns, pytest.mark.slow, pytest.mark.timeout(300)]

SERVER = "172.31.250.1"


def peer_problem(w: World, n: str, peer: str) -> str | None:
    peers = {p["name"]: p for p in w.status(n)["peers"]}
    entry = peers.get(peer) or {}
    problem = entry.get("problem")
    assert problem is None or isinstance(problem, str)
    return problem


def test_a_route_to_the_server_is_left_out_and_the_fix_still_arrives(world: World) -> None:
    w = world
    for n in OVERLAY:
        w.start_agent(n)
    wait_until("a <-> b", lambda: w.ping("a", "b") and w.ping("b", "a"), 60)
    b_text = w.api.get("/api/v1/nodes/bp-b").json()["toml"]
    assert isinstance(b_text, str) and b_text.endswith(f'ifname = "{w.ifname("b")}"\n')

    covering = w.api.put(
        "/api/v1/nodes/bp-b", json={"toml": b_text + 'routes = ["172.31.250.0/24"]\n'}
    )
    assert covering.status_code == 422, covering.text
    assert "covers the endpoint of `bp-" in covering.text

    hijack = w.api.put("/api/v1/nodes/bp-b", json={"toml": b_text + f'routes = ["{SERVER}/32"]\n'})
    assert hijack.status_code < 300, hijack.text
    expected = f"route {SERVER}/32 left out: it covers the drago server {SERVER}"
    wait_until("a reports the route left out", lambda: peer_problem(w, "a", "bp-b") == expected, 30)
    assert w.status("a")["in_sync"] is True
    routes = w.nodes["a"].run("ip", "route", "show", "dev", w.ifname("a")).stdout
    assert SERVER not in routes
    assert w.ping("a", "b")

    fixed = w.api.put("/api/v1/nodes/bp-b", json={"toml": b_text})
    assert fixed.status_code < 300, fixed.text
    wait_until("a applies the fix", lambda: peer_problem(w, "a", "bp-b") is None, 30)
