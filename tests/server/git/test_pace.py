"""ClientPace: a grace period, then an average rate over the time spent waiting."""

from __future__ import annotations

from drago.server.git.pace import ClientPace


def test_a_client_is_never_too_slow_within_the_grace_period() -> None:
    pace = ClientPace(min_rate=1000, grace=30)
    assert pace.record(29.0, 1)
    assert not pace.record(2.0, 1)  # 31 s waited, 2 bytes
    assert "2 bytes in 31 s" in pace.describe()


def test_a_fast_enough_client_passes_after_the_grace_period() -> None:
    pace = ClientPace(min_rate=1000, grace=30)
    assert pace.record(20.0, 40_000)
    assert pace.record(20.0, 1)  # 40,001 bytes in 40 s: above 1,000 bytes/s
    assert not pace.record(20.0, 0)  # 60 s: now below


def test_a_zero_rate_turns_the_check_off() -> None:
    pace = ClientPace(min_rate=0, grace=1)
    assert pace.record(1_000.0, 0)
