"""WireGuard routes by allowed IPs: the allowed IPs of one node's peers must not
overlap. This module finds where they do without comparing every pair of peers
of every node: sort the ranges of the distinct links once, sweep for overlapping
links, then look only at the nodes that have both."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from drago.errors import Problem
from drago.model.names import file_path
from drago.model.schema import IPNetwork
from drago.model.topology import PeerLink, PeerMap

#: Stop listing overlaps after this many (the first ones are enough to fix).
MAX_REPORTED = 200


@dataclass(frozen=True, slots=True)
class _Range:
    start: int
    end: int
    net: IPNetwork
    link: int


Bounds = list[tuple[int, int, IPNetwork]]


def bounds(nets: tuple[IPNetwork, ...]) -> Bounds:
    """(first, last, net) as integers comparable across IP versions."""
    out = []
    for net in nets:
        start = (net.version << 128) | int(net.network_address)
        out.append((start, start + net.num_addresses - 1, net))
    return out


def _ranges(
    links: list[PeerLink], bounds_of: Callable[[tuple[IPNetwork, ...]], Bounds]
) -> list[_Range]:
    out = [
        _Range(start, end, net, index)
        for index, link in enumerate(links)
        for start, end, net in bounds_of(link.allowed_ips)
    ]
    out.sort(key=lambda r: (r.start, -r.end))
    return out


def overlapping_links(
    links: list[PeerLink], bounds_of: Callable[[tuple[IPNetwork, ...]], Bounds] = bounds
) -> Iterator[tuple[int, int, IPNetwork, IPNetwork]]:
    """(link index, link index, range, range) for every two links of different
    peers whose allowed IPs overlap (``bounds_of`` may remember :func:`bounds`)."""
    active: list[tuple[int, int, _Range]] = []
    for counter, current in enumerate(_ranges(links, bounds_of)):
        while active and active[0][0] < current.start:
            heapq.heappop(active)
        for _, _, other in active:
            if links[other.link].peer != links[current.link].peer:
                yield other.link, current.link, other.net, current.net
        heapq.heappush(active, (current.end, counter, current))


def overlap_problems(
    network: str,
    rows: PeerMap,
    links: list[PeerLink],
    bounds_of: Callable[[tuple[IPNetwork, ...]], Bounds] = bounds,
) -> list[Problem]:
    """One problem per node (and pair of its peers) whose peers' allowed IPs overlap."""
    partners: dict[int, dict[int, tuple[IPNetwork, IPNetwork]]] = {}
    for first, second, net1, net2 in overlapping_links(links, bounds_of):
        partners.setdefault(first, {}).setdefault(second, (net1, net2))
    problems: list[Problem] = []
    if not partners:
        return problems
    for node, row in sorted(rows.items()):
        if len(problems) >= MAX_REPORTED:
            break
        present: set[int] | None = None
        for first, seconds in partners.items():
            link1 = links[first]
            if row.get(link1.peer) is not link1:
                continue
            if present is None:
                present = {id(link) for link in row.values()}
            for second, (net1, net2) in seconds.items():
                if id(links[second]) in present:
                    problems.append(_problem(node, network, link1, links[second], net1, net2))
    return problems


def _problem(
    node: str, network: str, a: PeerLink, b: PeerLink, net_a: IPNetwork, net_b: IPNetwork
) -> Problem:
    if b.peer < a.peer:
        a, b, net_a, net_b = b, a, net_b, net_a
    return Problem(
        file_path("nodes", node),
        f"interfaces.{network}",
        f"allowed IPs of peers `{a.peer}` ({net_a}) and `{b.peer}` ({net_b}) overlap",
    )
