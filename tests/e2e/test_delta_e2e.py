"""Deltas end to end: a real server and three agents on wireguard-go in namespaces.

Once the agents hold their configs, every change reaches them as a delta (``226``)
against the config they hold, never as a whole config: the server's
``drago_config_answers`` counter by kind tells which was sent, and no agent logs
a refused delta. The changes land on the devices (only the changed peers) and
the tunnels follow. (World and layout: tests/e2e/test_agent_e2e.py.)
"""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.convergence import TRAFFIC_MARGIN, hashes, wait_applied, wait_until
from tests.e2e.test_agent_e2e import NETWORK, OVERLAY, World, world
from tests.support.netns import lab

__all__ = ["lab", "world"]

pytestmark = [pytest.mark.e2e, pytest.mark.netns, pytest.mark.slow, pytest.mark.timeout(240)]

ANSWER = re.compile(r"^drago_config_answers_total\{(?P<labels>[^}]*)\} (?P<count>\S+)$", re.M)


def answers(w: World) -> dict[str, int]:
    """Node configs the server answered so far, by kind (``full``, ``delta``)."""
    found: dict[str, int] = {}
    for match in ANSWER.finditer(w.api.get("/metrics").text):
        kind = re.search(r'kind="(\w+)"', match["labels"])
        assert kind is not None
        found[kind[1]] = found.get(kind[1], 0) + int(float(match["count"]))
    return found


def delta_bytes(w: World) -> float:
    text = w.api.get("/metrics").text
    found = re.search(r'^drago_config_answer_bytes_total\{kind="delta"\} (\S+)$', text, re.M)
    return float(found[1]) if found else 0.0


def change(w: World, pair: list[str], edit: str) -> dict[str, float]:
    """Apply ``edit`` (a connection removed or added) and wait until both nodes of
    ``pair`` applied it; seconds each took."""
    before = {n: hashes(w.api, n)[0] for n in pair}
    start = time.monotonic()
    if edit == "remove":
        response = w.api.delete(f"/api/v1/networks/{NETWORK}/connections/1")
    else:
        response = w.api.post(
            f"/api/v1/networks/{NETWORK}/connections",
            json={"connection": {"between": pair}},
        )
    assert response.status_code < 300, response.text
    return wait_applied(w.api, pair, before, start)


def test_changes_reach_the_agents_as_deltas(world: World) -> None:
    w = world
    for n in OVERLAY:
        w.start_agent(n)
    wait_until("a <-> b", lambda: w.ping("a", "b") and w.ping("b", "a"), 45)
    wait_until("b <-> c", lambda: w.ping("b", "c") and w.ping("c", "b"), 30)
    wait_until(
        "status in sync",
        lambda: all(w.status(n)["in_sync"] for n in OVERLAY),
        15,
    )
    logs = {n: w.state / f"agent-{n}.log" for n in OVERLAY}
    offsets = {n: len(logs[n].read_text()) for n in OVERLAY}
    a_on_b = w.dump("b")
    start = answers(w)
    sent = delta_bytes(w)

    # b <-> c removed, then added again: two changes for each of b and c
    pair = ["e2e-b", "e2e-c"]
    took = change(w, pair, "remove")
    assert max(took.values()) < 5, took
    assert len(w.dump("b")) == 1 and len(w.dump("c")) == 0
    took = change(w, pair, "add")
    assert max(took.values()) < 5, took
    assert len(w.dump("b")) == 2 and len(w.dump("c")) == 1
    wait_until("b <-> c again", lambda: w.ping("b", "c") and w.ping("c", "b"), TRAFFIC_MARGIN)

    end = answers(w)
    deltas = end.get("delta", 0) - start.get("delta", 0)
    fulls = end.get("full", 0) - start.get("full", 0)
    each = (delta_bytes(w) - sent) / max(deltas, 1)
    print(f"answers: {deltas} deltas ({each:.0f} bytes each), {fulls} full")
    assert deltas >= 4 and fulls == 0, (start, end)
    # a delta carries the change, not the config: a few hundred bytes each
    assert each < 1000
    for n in OVERLAY:
        tail = logs[n].read_text()[offsets[n] :]
        assert "fetching the whole config" not in tail, tail
    # a, untouched by both changes, kept its session with b
    (key,) = [k for k, v in w.dump("b").items() if v[2] == f"{OVERLAY['a']}/32"]
    assert w.dump("b")[key][3] == a_on_b[key][3]
