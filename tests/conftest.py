from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# A throwaway PostgreSQL cluster per session and a fresh database per test;
# psycopg is imported only when they are used.
from tests.support.postgres import postgres_cluster, postgres_url  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_REPO = ROOT / "example-repo"


@pytest.fixture
def example_repo() -> Path:
    """The bundled example repository (read it, never write to it)."""
    return EXAMPLE_REPO


def _host_snapshot() -> dict[str, set[str]]:
    """What tests must leave as they found it: root-namespace links, namespaces,
    wireguard-go processes and /etc/wireguard."""

    def lines(*cmd: str) -> set[str]:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return set()
        return {line.split()[0] for line in out.splitlines() if line.strip()}

    etc = Path("/etc/wireguard")
    return {
        "links": {name.rstrip(":").split("@")[0] for name in lines("ip", "-o", "-br", "link")},
        "namespaces": lines("ip", "netns", "list"),
        "wireguard-go": lines("pgrep", "-x", "wireguard-go"),
        "/etc/wireguard": {p.name for p in etc.iterdir()} if etc.is_dir() else set(),
    }


@pytest.fixture(scope="session", autouse=True)
def _guard_host() -> Iterator[None]:
    """Fail the run when a test leaks an interface, namespace or wireguard-go process
    into the host, or writes WireGuard configs to /etc.

    On when ``DRAGO_GUARD_HOST=1`` (``scripts/test`` sets it): the check sees the
    whole host, so it would blame a run for another run's namespaces."""
    if os.environ.get("DRAGO_GUARD_HOST") != "1":
        yield
        return
    before = _host_snapshot()
    yield
    after = _host_snapshot()
    leaked = {kind: sorted(after[kind] - before[kind]) for kind in after}
    leaked = {kind: items for kind, items in leaked.items() if items}
    assert not leaked, f"tests left these behind on the host: {leaked}"
