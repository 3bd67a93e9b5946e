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
    """One problem per node (and pair of its peers) whose peers' allowed IPs
    overlap, at most :data:`MAX_REPORTED`.

    The overlapping pairs of links are taken one at a time from the sweep and
    never stored (a full mesh whose members share one route has k^2/2 of them);
    each is reported for the nodes that have both links, and the search stops
    as soon as enough problems are found."""
    holders: dict[int, set[str]] | None = None
    reported: set[tuple[int, int]] = set()  # at most MAX_REPORTED pairs
    problems: list[Problem] = []
    for first, second, net1, net2 in overlapping_links(links, bounds_of):
        if (first, second) in reported:
            continue  # the first overlap found of two links is the one reported
        if holders is None:
            holders = _holders(rows, links)
        one, other = holders.get(first, set()), holders.get(second, set())
        if len(other) < len(one):
            one, other = other, one
        both = sorted(node for node in one if node in other)
        if not both:
            continue
        reported.add((first, second))
        for node in both:
            problems.append(_problem(node, network, links[first], links[second], net1, net2))
            if len(problems) >= MAX_REPORTED:
                return problems
    return problems


def _holders(rows: PeerMap, links: list[PeerLink]) -> dict[int, set[str]]:
    """Link index -> the nodes whose row holds that very link."""
    index = {id(link): number for number, link in enumerate(links)}
    found: dict[int, set[str]] = {}
    for node, row in rows.items():
        for link in row.values():
            number = index.get(id(link))
            if number is not None:
                found.setdefault(number, set()).add(node)
    return found


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
