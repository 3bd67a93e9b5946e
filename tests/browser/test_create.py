"""Creating nodes and networks from the UI: the form, server errors by field, 409, roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Console, Server
from tests.browser.ui import open_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(120)]


def live(server: Server) -> str:
    return server.git("rev-parse", "main").strip()


def files(server: Server) -> list[str]:
    return server.git("ls-tree", "-r", "--name-only", "main").split()


def field(key: str) -> str:
    return f'[data-key="{key}"]'


def test_a_new_node_joins_backbone_and_shows_in_the_overview_and_history(
    page: Page, server: Server, shots: Path
) -> None:
    sign_in(page, server.admin)
    page.get_by_role("link", name="New node").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New node")
    page.get_by_label("Name", exact=True).fill("par-1")
    page.get_by_label("Description").fill("Paris office")
    page.get_by_label("Endpoint").fill("par-1.example.net")
    page.get_by_label("Labels").fill("role=office, city=paris")
    page.get_by_label("Network").select_option("backbone")
    page.get_by_label("Address").fill("10.20.5.7/16")
    page.get_by_label("Listen port").fill("51830")
    page.get_by_label("Commit message").fill("Add the Paris office")
    shoot(page, shots, "create-node")
    page.get_by_role("button", name="Create node").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("par-1")
    assert page.url.endswith("/nodes/par-1")
    text = server.git("show", "main:nodes/par-1.toml")
    assert 'endpoint = "par-1.example.net"' in text
    assert 'address = "10.20.5.7/16"' in text
    assert "listen_port = 51830" in text
    assert 'city = "paris"' in text
    assert server.git("log", "-1", "--format=%s", "main").strip() == "Add the Paris office"

    page.get_by_role("navigation").get_by_role("link", name="Overview").click()
    nodes = page.get_by_test_id("nodes")
    row = nodes.get_by_role("row").filter(has=page.get_by_role("link", name="par-1"))
    expect(row).to_contain_text("Paris office")
    expect(row).to_contain_text("backbone")
    page.get_by_role("navigation").get_by_role("link", name="History").click()
    entry = page.get_by_test_id("history").locator("li").filter(has_text="Add the Paris office")
    expect(entry).to_contain_text("bootstrap admin")
    expect(entry).to_contain_text("nodes/par-1.toml")


def test_an_address_outside_the_range_is_shown_at_the_field_and_commits_nothing(
    page: Page, server: Server, console: Console, shots: Path
) -> None:
    console.expect_status(422)
    before = live(server)
    sign_in(page, server.admin)
    open_page(page, "/new/node", "New node")
    page.get_by_label("Name", exact=True).fill("lyo-1")
    page.get_by_label("Network").select_option("backbone")
    page.get_by_label("Address").fill("10.99.0.1/16")
    page.get_by_role("button", name="Create node").click()
    address = page.locator(field("interface.address"))
    expect(address.locator(".field-error")).to_contain_text("outside 10.20.0.0/16")
    expect(page.get_by_label("Address")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was committed")
    shoot(page, shots, "create-error")
    assert live(server) == before
    assert "nodes/lyo-1.toml" not in files(server)

    # A malformed port and name come back as a 400 that names the request fields.
    console.expect_status(400)
    page.get_by_label("Name", exact=True).fill("Lyon 1")
    page.get_by_label("Address").fill("10.20.9.1/16")
    page.get_by_label("Listen port").fill("abc")
    page.get_by_role("button", name="Create node").click()
    expect(page.locator(field("name")).locator(".field-error")).to_contain_text("not a valid name")
    port = page.locator(field("interface.listen_port")).locator(".field-error")
    expect(port).to_contain_text("integer")
    expect(address.locator(".field-error")).to_have_count(0)
    assert live(server) == before


def test_a_taken_name_is_refused_clearly(page: Page, server: Server, console: Console) -> None:
    console.expect_status(409)
    before = live(server)
    sign_in(page, server.admin)
    open_page(page, "/new/network", "New network")
    page.get_by_label("Name", exact=True).fill("backbone")
    page.get_by_label("Address range").fill("10.40.0.0/16")
    page.get_by_role("button", name="Create network").click()
    name = page.locator(field("name")).locator(".field-error")
    expect(name).to_contain_text("network 'backbone' exists: choose another name")
    expect(page.get_by_label("Name", exact=True)).to_have_attribute("aria-invalid", "true")
    assert live(server) == before


def test_a_new_network_is_created_with_the_keyboard_alone(page: Page, server: Server) -> None:
    sign_in(page, server.admin)
    open_page(page, "/new/network", "New network")
    # The page heading takes focus once the page has rendered; Tab goes on from there.
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    expect(page.get_by_label("Name", exact=True)).to_be_editable()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    page.keyboard.type("lab")
    for value in ("Test lab", "10.40.0.0/16", "51900", "20"):
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Commit message")).to_be_focused()
    page.keyboard.type("Add the lab network")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("lab")
    assert page.url.endswith("/networks/lab")
    expect(page.locator(".facts")).to_contain_text("10.40.0.0/16")
    text = server.git("show", "main:networks/lab.toml")
    assert 'description = "Test lab"' in text
    assert "listen_port = 51900" in text
    assert "persistent_keepalive = 20" in text


def test_a_reader_cannot_create(page: Page, server: Server) -> None:
    sign_in(page, server.token("reader"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    for name in ("New node", "New network"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    open_page(page, "/new/node", "New node")
    expect(page.locator(".note")).to_contain_text("Only admins create nodes")
    expect(page.locator("form")).to_have_count(0)
