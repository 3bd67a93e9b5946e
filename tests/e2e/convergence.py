"""Waiting for agents in end-to-end tests: bounded by what drago controls.

The time an agent takes to apply a change is read from its status report
(the applied hash equals the new desired hash); tunnel traffic is checked
afterwards with a separate margin that covers WireGuard's own handshake retry
(5 s), which no agent controls.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import httpx
import pytest

#: Margin for tunnel traffic after a change applied: WireGuard retries a
#: handshake after 5 s (REKEY_TIMEOUT), plus room for a loaded machine.
TRAFFIC_MARGIN = 15.0


def wait_until(what: str, check: Callable[[], bool], timeout: float = 20.0) -> float:
    """Seconds it took for ``check`` to hold; fails the test after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def healthy(api: httpx.Client) -> bool:
    try:
        return api.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def hashes(api: httpx.Client, node: str) -> tuple[str | None, str | None]:
    """(desired hash, applied hash) of ``node`` as the server's status has them."""
    body = api.get(f"/api/v1/nodes/{node}/status").json()
    return body["desired_hash"], body["applied_hash"]


def wait_applied(
    api: httpx.Client,
    nodes: Iterable[str],
    before: dict[str, str | None],
    start: float,
    timeout: float = 30.0,
) -> dict[str, float]:
    """Seconds from ``start`` (``time.monotonic``) until each node reported as
    applied a desired hash other than its hash in ``before``."""
    waiting = set(nodes)
    took: dict[str, float] = {}
    while waiting:
        for node in sorted(waiting):
            desired, applied = hashes(api, node)
            if desired != before[node] and applied == desired:
                took[node] = time.monotonic() - start
                waiting.discard(node)
        if waiting and time.monotonic() - start > timeout:
            pytest.fail(f"{sorted(waiting)} did not apply the change within {timeout}s")
        time.sleep(0.05)
    return took
