"""RecentTips: bounded in number and age, newest kept."""

from __future__ import annotations

from drago.server.git.tips import RecentTips


def test_tips_are_bounded_in_number_keeping_the_newest() -> None:
    tips = RecentTips(limit=3)
    tips.remember([b"a", b"b"])
    tips.remember([b"c", b"d"])
    assert tips.recent() == [b"b", b"c", b"d"]
    tips.remember([b"b"])  # seen again: newest
    assert tips.recent() == [b"c", b"d", b"b"]


def test_tips_expire() -> None:
    now = [100.0]
    tips = RecentTips(max_age=10.0, clock=lambda: now[0])
    tips.remember([b"a"])
    now[0] = 105.0
    tips.remember([b"b"])
    now[0] = 111.0
    assert tips.recent() == [b"b"]
    now[0] = 116.0
    assert tips.recent() == []
