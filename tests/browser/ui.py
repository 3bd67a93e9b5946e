"""Steps the browser tests share: signing in, waiting for pages, reading the repository."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect


def sign_in(page: Page, token: str) -> None:
    page.goto("/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("who")).to_be_visible()


def open_page(page: Page, path: str, heading: str) -> None:
    """Go to an app path through the address bar and wait for its heading."""
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)


def shoot(page: Page, folder: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=False)
