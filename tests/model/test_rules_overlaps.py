"""The overlap check of one list (routes, a connection's allowed IPs) agrees with
comparing every pair, and a long list costs far less than every pair."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from drago.model.rules import _overlaps
from drago.model.schema import IPNetwork


def _net(version: int, bits: int, prefix: int) -> IPNetwork:
    if version == 4:
        return ipaddress.ip_network((bits << 24, min(prefix, 32)), strict=False)
    return ipaddress.ip_network((bits << 120, prefix), strict=False)


nets = st.lists(
    st.builds(_net, st.sampled_from([4, 6]), st.integers(0, 7), st.integers(0, 10)),
    max_size=30,
)


@given(nets)
def test_every_entry_overlapping_an_earlier_one_is_reported_once(items: list[IPNetwork]) -> None:
    found = list(_overlaps(items))
    expected = {
        j
        for j, net in enumerate(items)
        for i in range(j)
        if items[i].version == net.version and items[i].overlaps(net)
    }
    assert [j for _, j in found] == sorted(expected)
    for i, j in found:
        assert i < j and items[i].overlaps(items[j])


def test_a_long_list_is_checked_without_comparing_every_pair() -> None:
    routes: list[IPNetwork] = [ipaddress.ip_network(f"10.{i}.0.0/16") for i in range(200)]
    routes += [ipaddress.ip_network(f"10.{i % 200}.{i // 200 % 256}.1/32") for i in range(40_000)]
    routes += routes[:1000]  # duplicates too
    found = list(_overlaps(routes))
    # Every /32 lies in one of the /16s before it (40,000 x 200 pairs would be 8 million
    # comparisons; all pairs of 41,200 entries 850 million).
    assert len(found) == 41_000  # each /32 and each duplicate, once
