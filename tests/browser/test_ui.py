"""The web UI against a real server: sign-in, edits, errors, revert, topology, roles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import AGENT_SERVER, Console, Server, report_as_agents
from tests.browser.ui import open_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(120)]

ADDRESS = '[name="interfaces.backbone.address"]'


def live(server: Server) -> str:
    return server.git("rev-parse", "main").strip()


@pytest.fixture
def health(server: Server) -> dict[str, str]:
    """Fresh agent reports (earlier tests' commits change desired hashes)."""
    return report_as_agents(server)


def test_sign_in_shows_the_token_name_and_role_and_keeps_it_out_of_urls(
    page: Page, server: Server, shots: Path, health: dict[str, str]
) -> None:
    sign_in(page, server.admin)
    who = page.get_by_test_id("who")
    expect(who).to_contain_text("bootstrap admin")
    expect(who).to_contain_text("admin")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_test_id("nodes").get_by_role("link", name="fra-1")).to_be_visible()
    expect(page.get_by_test_id("live-revision")).to_contain_text(live(server)[:12])
    counts = page.get_by_test_id("counts")
    expect(counts).to_contain_text("2 in sync")
    expect(counts).to_contain_text("1 pending")
    expect(counts).to_contain_text("1 error")
    expect(counts).to_contain_text("3 offline")
    assert server.admin not in page.url
    stored = page.evaluate("() => window.sessionStorage.getItem('drago.token')")
    assert stored == server.admin
    shoot(page, shots, "overview")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API token")).to_be_visible()
    assert page.evaluate("() => window.sessionStorage.length") == 0


def test_a_wrong_token_is_refused(page: Page, server: Server, console: Console) -> None:
    console.expect_status(401)
    page.goto("/")
    page.get_by_label("API token").fill("drago_nope_nope")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("does not know this token")


def test_editing_a_node_address_commits_and_shows_in_history_and_git_log(
    page: Page, server: Server, shots: Path
) -> None:
    sign_in(page, server.admin)
    open_page(page, "/nodes/fra-1", "fra-1")
    shoot(page, shots, "node")
    page.get_by_role("button", name="Edit node").click()
    page.locator(ADDRESS).fill("10.20.0.77/16")
    page.get_by_label("Commit message").fill("Move fra-1 to .77")
    page.get_by_role("button", name="Commit", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Committed")).to_be_visible()
    expect(page.locator(".facts")).to_be_visible()

    head = live(server)
    assert "Move fra-1 to .77" in server.git("log", "-1", "--format=%s", "main")
    assert 'address = "10.20.0.77/16"' in server.git("show", "main:nodes/fra-1.toml")
    assert "# Hetzner private network" in server.git("show", "main:nodes/fra-1.toml")

    page.get_by_role("link", name="History").click()
    history = page.get_by_test_id("history")
    entry = history.locator("li").filter(has_text="Move fra-1 to .77")
    expect(entry).to_contain_text("bootstrap admin")
    expect(entry).to_contain_text("server")  # the server signs commits made through the API
    history.get_by_role("link", name="Move fra-1 to .77").click()
    expect(page.locator(".diff")).to_contain_text('+address = "10.20.0.77/16"')
    expect(page.locator(".plan")).to_contain_text("fra-1")
    expect(page.locator(".facts")).to_contain_text(head)
    shoot(page, shots, "history")


def test_an_invalid_edit_shows_the_error_next_to_the_field_and_commits_nothing(
    page: Page, server: Server, console: Console, shots: Path
) -> None:
    console.expect_status(422)
    before = live(server)
    sign_in(page, server.admin)
    open_page(page, "/nodes/fra-1", "fra-1")
    page.get_by_role("button", name="Edit node").click()
    page.locator(ADDRESS).fill("10.99.0.1/16")
    page.get_by_role("button", name="Commit", exact=True).click()
    field = page.locator('[data-key="interfaces.backbone.address"]')
    expect(field.locator(".field-error")).to_contain_text("outside 10.20.0.0/16")
    expect(page.locator(ADDRESS)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was committed")
    shoot(page, shots, "edit-error")
    assert live(server) == before


def test_revert_undoes_a_commit_after_one_confirmation(page: Page, server: Server) -> None:
    with server.api() as api:
        node = api.get("/nodes/sgp-1").json()
        spec = node["spec"]
        spec["description"] = "Singapore, temporarily"
        done = api.put(
            "/nodes/sgp-1",
            json={"spec": spec, "message": "Rename sgp-1 for a while"},
            headers={"If-Match": node["revision"]},
        )
        assert done.status_code == 200, done.text
        changed = done.json()["revision"]
    sign_in(page, server.admin)
    open_page(page, f"/history/{changed}", "Rename sgp-1 for a while")
    page.get_by_role("button", name="Revert", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(changed[:12])
    dialog.get_by_role("button", name="Revert and commit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revert")
    assert live(server) != changed
    assert "Revert" in server.git("log", "-1", "--format=%s", "main")
    with server.api() as api:
        assert "temporarily" not in api.get("/nodes/sgp-1").json()["toml"]


def test_topology_shows_every_node_of_the_network(
    page: Page, server: Server, shots: Path, health: dict[str, str]
) -> None:
    with server.api() as api:
        networks = {n["name"]: n["members"] for n in api.get("/networks").json()["networks"]}
    sign_in(page, server.admin)
    for network, members in networks.items():
        open_page(page, f"/networks/{network}/topology", network)
        graph = page.get_by_test_id("topology")
        expect(graph).to_have_attribute("data-nodes", str(len(members)))
        expect(graph.locator("canvas").first).to_be_attached()
        listed = page.get_by_test_id("topology-nodes").get_by_role("link")
        expect(listed).to_have_text(sorted(members))
        assert int(graph.get_attribute("data-edges") or 0) > 0
    open_page(page, "/networks/backbone/topology", "backbone")
    for node, expected in health.items():
        listed = page.get_by_test_id("topology-nodes").locator("li").filter(has_text=node)
        expect(listed).to_contain_text(expected)
    shoot(page, shots, "topology")
    page.get_by_test_id("topology-nodes").get_by_role("link", name="nyc-1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("nyc-1")
    expect(page.get_by_test_id("agent-server")).to_have_text(AGENT_SERVER)


def test_a_reader_sees_no_edit_controls(page: Page, server: Server) -> None:
    reader = server.token("reader")
    sign_in(page, reader)
    expect(page.get_by_test_id("who")).to_contain_text("reader")
    expect(page.get_by_role("navigation").get_by_role("link", name="Tokens")).to_have_count(0)
    open_page(page, "/nodes/fra-1", "fra-1")
    expect(page.get_by_test_id("interface-backbone")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Edit"))).to_have_count(0)
    open_page(page, "/networks/backbone", "backbone")
    expect(page.get_by_test_id("connection-0")).to_be_visible()
    for name in ("Edit network", "Add connection", "Edit", "Remove"):
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)
    first = server.git("rev-list", "--max-parents=0", "main").strip()
    open_page(page, f"/history/{first}", "import")
    expect(page.get_by_role("button", name="Revert")).to_have_count(0)


def test_the_wg_quick_download_has_no_private_key(page: Page, server: Server) -> None:
    sign_in(page, server.admin)
    open_page(page, "/nodes/ber-gw", "ber-gw")
    site = page.get_by_test_id("interface-site")
    with page.expect_download() as download:
        site.get_by_role("button", name="Download wg-quick").click()
    assert download.value.suggested_filename == "ber-gw-site.conf"
    text = Path(download.value.path()).read_text()
    assert "[Interface]" in text and "[Peer]" in text
    assert not re.search(r"^PrivateKey\s*=", text, re.MULTILINE)
