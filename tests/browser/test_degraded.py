"""The degraded-state banner: an invalid branch head is not served, every page says so.

This module breaks its server's branch head behind its back (a commit written
straight into the repository, as a push the server did not validate would), so it
has a server of its own.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from drago.store import GitStore, Identity
from tests.browser.conftest import Server
from tests.browser.ui import open_page, shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(120)]

BACKBONE = "networks/backbone.toml"
#: The banner polls every 10 s; allow one period and some slack.
POLL_MS = 15_000


def commit_behind_the_servers_back(server: Server, text: bytes | None, message: str) -> str:
    with GitStore.open(server.bare_repo) as store:
        return store.commit(
            {BACKBONE: text},
            message=message,
            author=Identity("Out Of Band", "oob@example.net"),
            base=store.head(),
        )


def wait_for_live(server: Server, status: str) -> dict[str, object]:
    """The server's watcher notices a new head within a second or two."""
    deadline = time.monotonic() + 10
    with server.api() as api:
        while True:
            live: dict[str, object] = api.get("/live").json()
            if live["status"] == status or time.monotonic() > deadline:
                return live
            time.sleep(0.1)


def test_an_invalid_head_shows_a_banner_on_every_page_until_fixed(
    page: Page, server: Server, shots: Path
) -> None:
    served = server.git("rev-parse", "main").strip()
    original = server.git("show", f"main:{BACKBONE}").encode()
    sign_in(page, server.token("reader"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    expect(page.get_by_test_id("degraded")).to_have_count(0)

    bad = commit_behind_the_servers_back(server, b'address_range = "nope"\n', "Break backbone")
    assert wait_for_live(server, "degraded")["status"] == "degraded"

    banner = page.get_by_test_id("degraded")
    expect(banner).to_be_visible(timeout=POLL_MS)  # the overview's refresh finds it
    expect(banner).to_contain_text(f"The branch head {bad[:12]} is not served")
    expect(banner).to_contain_text(f"Still serving {served[:12]}")
    expect(banner).to_contain_text("address_range: 'nope' is not a valid CIDR")
    card = page.get_by_test_id("live-revision")
    expect(card).to_contain_text(served[:12])
    expect(card).not_to_contain_text("Break backbone")  # the head's commit is not the live one
    shoot(page, shots, "degraded")

    for path, heading in [("/history", "History"), ("/nodes/fra-1", "fra-1")]:
        open_page(page, path, heading)
        expect(page.get_by_test_id("degraded")).to_contain_text("is not served")
    banner.get_by_role("link", name=bad[:12]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Break backbone")

    commit_behind_the_servers_back(server, original, "Fix backbone")
    assert wait_for_live(server, "ok")["status"] == "ok"
    expect(page.get_by_test_id("degraded")).to_have_count(0, timeout=POLL_MS)
