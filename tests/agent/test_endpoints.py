"""Endpoint host names: resolved in the background, failures remembered per name with backoff."""

from __future__ import annotations

import threading
import time

import pytest

from drago.agent.endpoints import Endpoints, EndpointUnresolved
from tests.agent.factory import FakeResolver


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def endpoints(
    resolver: FakeResolver, clock: Clock, *, initial: float = 1.0, maximum: float = 60.0
) -> Endpoints:
    return Endpoints(resolver, clock=clock, rng=lambda: 0.0, initial=initial, maximum=maximum)


def test_a_good_name_resolves_and_literals_need_no_lookup() -> None:
    resolver = FakeResolver({"fra-1.example.net": "192.0.2.1"})
    ends = endpoints(resolver, Clock())
    ends.prepare(["fra-1.example.net:51820", "192.0.2.9:51820", "[2001:db8::1]:51820"])
    assert ends("fra-1.example.net", 51820) == "192.0.2.1"
    assert ends("2001:db8:0::1", 51820) == "2001:db8::1"
    assert resolver.lookups == ["fra-1.example.net"]
    assert ends.failure("fra-1.example.net") is None
    assert ends.next_retry() is None


def test_a_failure_is_remembered_until_its_own_backoff_is_due() -> None:
    resolver = FakeResolver()
    clock = Clock()
    ends = endpoints(resolver, clock, initial=1.0, maximum=8.0)
    delays = []
    for _ in range(5):
        ends.prepare(["typo.invalid:51820"])
        with pytest.raises(EndpointUnresolved, match="Name or service not known"):
            ends("typo.invalid", 51820)
        # asked again before it is due: the remembered reason, no new DNS query
        with pytest.raises(EndpointUnresolved):
            ends("typo.invalid", 51820)
        delay = ends.next_retry()
        assert delay is not None
        delays.append(delay)
        clock.now += delay
    assert len(resolver.lookups) == 5
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0]  # doubling, capped, jitter at its low end
    assert "Name or service not known" in (ends.failure("typo.invalid") or "")


def test_a_name_that_resolves_again_resets_its_backoff() -> None:
    resolver = FakeResolver()
    clock = Clock()
    ends = endpoints(resolver, clock)
    ends.prepare(["late.example.net:1"])
    with pytest.raises(EndpointUnresolved):
        ends("late.example.net", 1)
    resolver.names["late.example.net"] = "192.0.2.7"
    clock.now += 10
    assert ends("late.example.net", 1) == "192.0.2.7"
    assert ends.failure("late.example.net") is None and ends.next_retry() is None


def test_names_no_longer_wanted_are_forgotten() -> None:
    resolver = FakeResolver()
    ends = endpoints(resolver, Clock())
    ends.prepare(["gone.invalid:1"])
    with pytest.raises(EndpointUnresolved):
        ends("gone.invalid", 1)
    assert ends.next_retry() is not None
    ends.prepare([])
    assert ends.next_retry() is None and ends.failure("gone.invalid") is None


def test_a_slow_lookup_never_holds_a_reconcile_longer_than_the_wait() -> None:
    release = threading.Event()
    answers = {"slow.example.net": "192.0.2.5"}

    def slow(host: str, port: int) -> str:
        release.wait(10)
        return answers[host]

    ends = Endpoints(slow, wait=0.2)
    ends.prepare(["slow.example.net:1", "slow2.example.net:1"])
    start = time.monotonic()
    with pytest.raises(EndpointUnresolved, match="still resolving"):
        ends("slow.example.net", 1)
    with pytest.raises(EndpointUnresolved, match="still resolving"):
        ends("slow2.example.net", 1)
    assert time.monotonic() - start < 0.5  # both lookups ran at once, within one wait
    assert ends.next_retry() == 0.2
    release.set()
    deadline = time.monotonic() + 5
    while True:
        try:
            assert ends("slow.example.net", 1) == "192.0.2.5"
            break
        except EndpointUnresolved:
            assert time.monotonic() < deadline
            time.sleep(0.01)
    # the next lookup runs in the background again; while it is slow the last address serves
    release.clear()
    ends.prepare(["slow.example.net:1"])
    start = time.monotonic()
    assert ends("slow.example.net", 1) == "192.0.2.5"
    assert time.monotonic() - start < 0.5
    release.set()
