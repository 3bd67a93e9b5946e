"""Longer flows: a stale edit (409) reapplied, connections, tokens, a phone-sized screen."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from drago.server.api.plan_summary import PLAN_CHANGES
from tests.browser.conftest import Console, Server
from tests.browser.ui import open_page, shoot, sign_in
from tests.server.joining import joining_nodes

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(120)]


GIT = ["git", "-c", "user.name=Rita Review", "-c", "user.email=rita@example.net"]


def server_clone(server: Server, tmp_path: Path) -> Path:
    """A clone of the server's repository (the admin token as the password)."""
    work = tmp_path / "work"
    remote = server.url.replace("http://", f"http://ui:{server.admin}@") + "/repo.git"
    subprocess.run([*GIT, "clone", "-q", remote, str(work)], check=True, timeout=60)
    return work


def push_review(work: Path, branch: str, message: str) -> None:
    """Commit everything in ``work`` and push it as the review branch ``branch``."""
    subprocess.run([*GIT, "-C", str(work), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(work), "commit", "-qm", message], check=True)
    subprocess.run(
        [*GIT, "-C", str(work), "push", "-q", "origin", f"HEAD:{branch}"],
        check=True,
        timeout=60,
    )


def open_review(page: Page, server: Server, branch: str) -> Locator:
    """Sign in as admin and open ``branch`` on the Review page."""
    sign_in(page, server.admin)
    page.get_by_role("navigation").get_by_role("link", name="Review").click()
    page.get_by_test_id("branches").get_by_role("link", name=branch).click()
    return page.get_by_test_id("branch-review")


def test_a_stale_edit_shows_what_changed_and_reapplies(
    page: Page, server: Server, console: Console
) -> None:
    console.expect_status(409)
    sign_in(page, server.admin)
    open_page(page, "/nodes/muc-1", "muc-1")
    page.get_by_role("button", name="Edit node").click()
    page.locator('[name="description"]').fill("Munich office (edited in the UI)")

    with server.api() as api:  # someone else commits meanwhile
        node = api.get("/nodes/muc-1").json()
        spec = node["spec"]
        spec["endpoint"] = "muc-new.example.net"
        done = api.put(
            "/nodes/muc-1",
            json={"spec": spec, "message": "Munich moved"},
            headers={"If-Match": node["revision"]},
        )
        assert done.status_code == 200, done.text

    page.get_by_role("button", name="Commit", exact=True).click()
    conflict = page.locator(".conflict")
    expect(conflict).to_contain_text("Someone changed this")
    expect(conflict).to_contain_text("Munich moved")
    expect(conflict).to_contain_text("muc-new.example.net")
    conflict.get_by_role("button", name="Reapply my changes and commit").click()
    expect(page.get_by_role("status").filter(has_text="Committed")).to_be_visible()
    text = server.git("show", "main:nodes/muc-1.toml")
    assert "Munich office (edited in the UI)" in text
    assert "muc-new.example.net" in text


def test_adding_a_connection_and_a_bad_selector(
    page: Page, server: Server, console: Console
) -> None:
    console.expect_status(422)
    sign_in(page, server.admin)
    open_page(page, "/networks/backbone", "backbone")
    count = page.locator(".connections > li").count()
    page.get_by_role("button", name="Add connection").click()
    page.locator('[name="between[0]"]').fill("sgp-1")
    page.locator('[name="between[1]"]').fill("no-such-node")
    page.get_by_role("button", name="Add connection").click()
    expect(page.locator('[data-key="between[1]"] .field-error')).to_contain_text("no-such-node")
    page.locator('[name="between[1]"]').fill("ber-gw")
    page.get_by_role("button", name="Add connection").click()
    expect(page.get_by_role("status").filter(has_text="Committed")).to_be_visible()
    expect(page.locator(".connections > li")).to_have_count(count + 1)
    assert 'between = ["sgp-1", "ber-gw"]' in server.git("show", "main:networks/backbone.toml")


def test_tokens_are_created_with_the_secret_shown_once_and_revoked(
    page: Page, server: Server
) -> None:
    sign_in(page, server.admin)
    page.get_by_role("navigation").get_by_role("link", name="Tokens").click()
    page.get_by_label("Name").fill("Ci reader")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_label("new token secret").input_value()
    assert secret.startswith("drago_")
    with server.api(secret) as api:
        assert api.get("/whoami").json()["role"] == "reader"
    row = page.get_by_test_id("tokens").get_by_role("row").filter(has_text="Ci reader")
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_test_id("tokens")).not_to_contain_text("Ci reader")
    with server.api(secret) as api:
        assert api.get("/whoami").status_code == 401


def test_pages_fit_a_phone(browser: Browser, server: Server, shots: Path) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=server.url, is_mobile=True
    )
    errors: list[str] = []
    try:
        phone = context.new_page()
        phone.on("pageerror", lambda e: errors.append(str(e)))
        sign_in(phone, server.admin)
        for path in ["/", "/nodes/fra-1", "/history"]:
            phone.goto(path)
            expect(phone.get_by_role("heading", level=1)).to_be_visible()
            width = phone.evaluate("() => document.documentElement.scrollWidth")
            assert width <= 390, f"{path} scrolls sideways ({width} px)"
        phone.get_by_role("button", name="Menu").click()
        expect(phone.get_by_role("navigation").get_by_role("link", name="History")).to_be_visible()
        phone.goto("/")
        shoot(phone, shots, "overview-phone")
    finally:
        context.close()
    assert errors == []


def test_a_review_branch_shows_its_plan_and_an_admin_merges_it(
    page: Page, server: Server, tmp_path: Path
) -> None:
    node = server_clone(server, tmp_path) / "nodes" / "nyc-1.toml"
    node.write_text(node.read_text().replace("listen_port = 51820", "listen_port = 51821", 1))
    push_review(node.parents[1], "review/nyc-port", "nyc-1: move port")
    review = open_review(page, server, "review/nyc-port")
    expect(review).to_contain_text("Valid")
    expect(review).to_contain_text("nyc-1: move port")
    expect(review.locator(".plan")).to_contain_text("51821")
    review.get_by_role("button", name="Merge into the live branch").click()
    page.get_by_role("dialog").get_by_role("button", name="Merge", exact=True).click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Review")
    assert "listen_port = 51821" in server.git("show", "main:nodes/nyc-1.toml")


def test_the_keyboard_alone_signs_in_and_navigates(page: Page, server: Server) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "token"
    page.keyboard.type(server.admin)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    for _ in range(10):  # back from the page heading into the navigation
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.textContent") == "History":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("History")
    expect(page.get_by_role("heading", level=1)).to_be_focused()


def test_a_token_revoked_mid_session_returns_to_sign_in(
    page: Page, server: Server, console: Console
) -> None:
    console.expect_status(401)
    with server.api() as api:
        made = api.post("/tokens", json={"role": "reader", "name": "Short-lived"}).json()
    sign_in(page, made["secret"])
    expect(page.get_by_test_id("who")).to_contain_text("Short-lived")
    with server.api() as api:
        assert api.delete(f"/tokens/{made['token']['id']}").status_code == 200
    # The next request the page makes is refused: a click, or one of its own
    # background requests if that comes first (then the navigation is gone before
    # the click lands, which is the behaviour under test too).
    try:
        page.get_by_role("navigation").get_by_role("link", name="History").click(timeout=5000)
    except PlaywrightTimeoutError:
        expect(page.get_by_role("navigation")).to_have_count(0)
    expect(page.get_by_label("API token")).to_be_visible()
    expect(page.locator(".note.warning")).to_contain_text("sign in again")
    assert page.evaluate("() => window.sessionStorage.length") == 0


def test_a_large_review_plan_is_a_summary_and_expands_per_node(
    page: Page, server: Server, tmp_path: Path
) -> None:
    work = server_clone(server, tmp_path)
    for path, text in joining_nodes(40).items():
        (work / path).write_text(text)
    push_review(work, "review/many", "40 gateways join")
    review = open_review(page, server, "review/many")
    plan = review.locator(".plan")
    expect(plan).to_contain_text(f"… and {40 - PLAN_CHANGES} more changes")
    more = review.get_by_test_id("plan-more-nodes")
    expect(more).to_contain_text("more affected nodes not shown")
    expect(plan).not_to_contain_text("peer join-0039 added")
    first = plan.locator(".plan-nodes > li").first  # fra-1: 40 new peers
    expect(first).to_contain_text("fra-1")
    first.get_by_role("button", name="show all").click()
    expect(first).to_contain_text("peer join-0039 added")
    expect(first).not_to_contain_text("more changes")
    more.locator('li:has(> a:text-is("join-0039"))').get_by_role("button").click()
    joined = plan.locator('.plan-nodes > li:has(> a:text-is("join-0039"))')
    expect(joined).to_contain_text("peer fra-1 added")
    expect(more).not_to_contain_text("join-0039")
