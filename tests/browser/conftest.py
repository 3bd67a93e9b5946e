"""Browser tests: Debian's Chromium driven by Playwright against a real ``drago server``.

Each test module gets its own server process on a fresh data directory imported
from the example repository; each test a fresh browser context whose console is watched:
any console error or uncaught exception fails the test. Screenshots go to
``$DRAGO_UI_SCREENSHOTS`` when set (``docs/images`` to refresh the docs), else
to a temporary directory.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

from tests.conftest import EXAMPLE_REPO, ROOT
from tests.server.process import ServerProcess, drago_command

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


UI_SOURCES = ROOT / "ui"
UI_BUILD = ROOT / "drago" / "server" / "ui_dist" / "index.html"


@pytest.fixture(scope="session", autouse=True)
def ui_built() -> None:
    """The tests drive the built UI: say so plainly when it is missing or older than ui/."""
    if not UI_BUILD.is_file():
        pytest.fail(
            f"{UI_BUILD} is missing: reinstall (pip install -e .) or `npm run build` in ui/"
        )
    sources = [UI_SOURCES / "index.html", *(UI_SOURCES / "src").rglob("*")]
    newest = max(p.stat().st_mtime for p in sources if p.is_file())
    if newest > UI_BUILD.stat().st_mtime:
        pytest.fail(f"the UI build is older than {UI_SOURCES}: run `npm run build` in ui/")


@dataclass
class Server:
    """A running ``drago server`` with its data directory and API helpers."""

    process: ServerProcess
    data: Path

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def admin(self) -> str:
        return self.process.bootstrap

    @property
    def bare_repo(self) -> Path:
        return self.data / "repo.git"

    def api(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url + "/api/v1",
            headers={"Authorization": f"Bearer {token or self.admin}"},
            timeout=10,
        )

    def token(self, role: str) -> str:
        """A new token made by the CLI, as an operator would."""
        done = subprocess.run(
            drago_command("token", "create", "--data", str(self.data), "--role", role),
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return done.stdout.strip()

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "--git-dir", str(self.bare_repo), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per test module (starting one takes seconds); tests leave
    what others read alone and look things up instead of assuming the history."""
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    data = tmp_path_factory.mktemp("server") / "data"
    process = ServerProcess(data, "--init-from", str(EXAMPLE_REPO))
    process.start()
    try:
        yield Server(process, data)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. Playwright's sync API keeps an asyncio loop
    running in this thread while it is open, which anyio tests elsewhere cannot
    share, so it never outlives the browser tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Console:
    """What the page logged; HTTP statuses a test expects are not errors."""

    errors: list[str] = field(default_factory=list)
    expected_statuses: set[int] = field(default_factory=set)

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        failed = FAILED_LOAD.search(message.text)
        if failed and int(failed.group(1)) in self.expected_statuses:
            return
        self.errors.append(message.text)

    def on_error(self, error: Error) -> None:
        self.errors.append(f"uncaught: {error}")

    def expect_status(self, *statuses: int) -> None:
        """The test provokes these HTTP statuses on purpose (a 422, a 409)."""
        self.expected_statuses.update(statuses)


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, server: Server, console: Console) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=server.url)
    context.set_default_timeout(15_000)
    opened = context.new_page()
    opened.on("console", console.on_message)
    opened.on("pageerror", console.on_error)
    try:
        yield opened
    finally:
        context.close()
    assert console.errors == [], "the page logged errors"


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("DRAGO_UI_SCREENSHOTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


#: The server nyc-1's agent reports it uses.
AGENT_SERVER = "https://drago-b.example.net"


def report_as_agents(server: Server) -> dict[str, str]:
    """Report status for some nodes the way their agents would; returns the expected health.

    fra-1 and nyc-1 applied their config and see fresh handshakes, ber-gw still runs an
    older config, muc-1 failed to apply, the others never reported (offline).
    """
    now = time.time()
    with server.api() as api:
        status = {s["node"]: s for s in api.get("/status").json()["nodes"]}
        configs = {n: api.get(f"/nodes/{n}/config").json() for n in ("fra-1", "nyc-1")}

        def report(node: str, body: dict[str, object]) -> None:
            made = api.post("/tokens", json={"role": "node", "node": node})
            assert made.status_code == 201, made.text
            with server.api(made.json()["secret"]) as agent:
                done = agent.put(f"/nodes/{node}/status", json=body)
                assert done.status_code == 200, done.text

        for node, config in configs.items():
            peers = [
                {
                    "network": iface["network"],
                    "name": peer["name"],
                    "public_key": peer["public_key"],
                    "latest_handshake": now - 40,
                }
                for iface in config["interfaces"]
                for peer in iface["peers"]
            ]
            body: dict[str, object] = {"applied_hash": status[node]["desired_hash"], "peers": peers}
            if node == "nyc-1":  # an agent given several servers says which it uses
                body["server"] = AGENT_SERVER
            report(node, body)
        report("ber-gw", {"applied_hash": "0" * 64})
        report("muc-1", {"applied_hash": "0" * 64, "errors": ["wg-site: address in use"]})
    return {"fra-1": "in sync", "nyc-1": "in sync", "ber-gw": "pending", "muc-1": "error"}
