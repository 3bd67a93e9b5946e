"""The topology of a 120-node network lays out, stays clickable and logs no error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Server
from tests.browser.ui import shoot, sign_in
from tests.server.process import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]

HUBS = 6
EDGES = 114


def write_repository(root: Path) -> None:
    """Six hubs in a full mesh, every edge node connected to every hub."""
    (root / "networks").mkdir(parents=True)
    (root / "nodes").mkdir()
    (root / "networks" / "big.toml").write_text(
        'address_range = "10.50.0.0/16"\nlisten_port = 51820\n\n'
        '[[connections]]\nbetween = ["role=hub", "role=hub"]\n\n'
        '[[connections]]\nbetween = ["role=hub", "role=edge"]\n'
    )
    for i in range(HUBS + EDGES):
        role = "hub" if i < HUBS else "edge"
        endpoint = f'endpoint = "hub-{i}.example.net"\n' if role == "hub" else ""
        (root / "nodes" / f"{role}-{i:03d}.toml").write_text(
            f'{endpoint}labels = {{ role = "{role}" }}\n\n'
            f'[interfaces.big]\naddress = "10.50.{i // 200}.{i % 200 + 1}/16"\n'
        )


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("big")
    write_repository(root / "repo")
    process = ServerProcess(root / "data", "--init-from", str(root / "repo"))
    process.start()
    try:
        yield Server(process, root / "data")
    finally:
        process.stop()


def test_a_120_node_topology(browser: Browser, big_server: Server, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=big_server.url)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, big_server.admin)
        page.goto("/networks/big/topology")
        graph = page.get_by_test_id("topology")
        expect(graph).to_have_attribute("data-nodes", str(HUBS + EDGES), timeout=30_000)
        expected_edges = HUBS * (HUBS - 1) // 2 + HUBS * EDGES
        expect(graph).to_have_attribute("data-edges", str(expected_edges))
        expect(page.get_by_test_id("topology-nodes").get_by_role("link")).to_have_count(
            HUBS + EDGES
        )
        shoot(page, shots, "topology-120")
    finally:
        context.close()
    assert errors == []
