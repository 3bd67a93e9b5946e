"""Who peers with whom: the one place that turns a network's connections into
per-node peer lists. The validator checks the result, the renderer renders it.

Rules (also in ``docs/schema.md``):

* A connection ``between = [A, B]`` peers every member matched by ``A`` with every
  member matched by ``B`` in both directions; a node never peers with itself, so
  ``["*", "*"]`` is a full mesh and ``["role=hub", "role=hub"]`` a mesh of the hubs.
* The allowed IPs a node gets for a peer are, by default, the peer's own address
  (as a /32 or /128) plus the peer's ``routes`` in this network. A connection's
  ``allowed_ips = { "<end>" = [...] }`` replaces that list for the peers matched
  by that end, as seen from the nodes at the other end.
* The keepalive a node sends to a peer: the connection's ``persistent_keepalive``,
  else the node's own interface ``persistent_keepalive``, else the network's.
  0 means off and is returned as None.
* When several connections match the same pair, the last one in the file decides
  that pair's allowed IPs and keepalive.

The work is shared: one :class:`PeerLink` object per distinct (peer, allowed IPs,
keepalive), so a 1,000-node full mesh costs about a million dictionary stores.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from drago.model.schema import IPNetwork, NetworkFile, NodeFile, Selector
from drago.model.state import State


@dataclass(frozen=True, slots=True)
class PeerLink:
    """How one node sees one of its peers in one network.

    ``allowed_ips`` are in address order (IPv4 first); ``persistent_keepalive``
    is None when off.
    """

    peer: str
    allowed_ips: tuple[IPNetwork, ...]
    persistent_keepalive: int | None


#: node -> peer name -> link. Every member of the network is a key (possibly
#: with no peers); rows are not sorted.
PeerMap = dict[str, dict[str, PeerLink]]


@dataclass(frozen=True, slots=True)
class Topology:
    """A network's peer map and the distinct links it shares between rows."""

    rows: PeerMap
    links: list[PeerLink]


def network_sort_key(net: IPNetwork) -> tuple[int, int, int]:
    """Address order for networks of both IP versions (IPv4 first)."""
    return (net.version, int(net.network_address), net.prefixlen)


def sorted_networks(nets: Iterable[IPNetwork]) -> tuple[IPNetwork, ...]:
    return tuple(sorted(set(nets), key=network_sort_key))


def match_selector(selector: str, members: Iterable[tuple[str, NodeFile]]) -> list[str]:
    """Names of the ``members`` (name, node) that ``selector`` matches, in order."""
    sel = Selector(selector)
    if sel == "*":
        return [name for name, _ in members]
    if sel.is_node:
        return [name for name, _ in members if name == sel]
    terms = sel.terms().items()
    return [name for name, node in members if all(node.labels.get(k) == v for k, v in terms)]


#: ``(node, network) -> allowed IPs``: :func:`default_allowed_ips` or a memo of it.
AllowedIPs = Callable[[NodeFile, str], tuple[IPNetwork, ...]]


def default_allowed_ips(node: NodeFile, network: str) -> tuple[IPNetwork, ...]:
    """A member's own address as a host network plus the routes it serves."""
    spec = node.interfaces[network]
    host = ipaddress.ip_network(spec.address.ip)
    return sorted_networks([host, *spec.routes])


def _keepalive(*choices: int | None) -> int | None:
    for value in choices:
        if value is not None:
            return value or None
    return None


def compute_topology(
    state: State, network: str, allowed_ips: AllowedIPs = default_allowed_ips
) -> Topology:
    """Resolve ``network``'s connections into peer links (no checks: selectors
    that match nothing simply add no peers). The validator remembers the result
    (:meth:`drago.model.validate.Validator.topology`)."""
    net: NetworkFile = state.networks[network]
    members = [
        (name, node) for name, node in sorted(state.nodes.items()) if network in node.interfaces
    ]
    rows: PeerMap = {name: {} for name, _ in members}
    nodes = dict(members)
    defaults: dict[str, tuple[IPNetwork, ...]] = {}
    cache: dict[tuple[str, tuple[IPNetwork, ...], int | None], PeerLink] = {}

    def link(peer: str, allowed: tuple[IPNetwork, ...] | None, keepalive: int | None) -> PeerLink:
        if allowed is None:
            allowed = defaults.get(peer)
            if allowed is None:
                allowed = defaults[peer] = allowed_ips(nodes[peer], network)
        key = (peer, allowed, keepalive)
        found = cache.get(key)
        if found is None:
            found = cache[key] = PeerLink(peer, allowed, keepalive)
        return found

    for conn in net.connections:
        ends = [match_selector(sel, members) for sel in conn.between]
        sides = (0,) if conn.between[0] == conn.between[1] else (0, 1)
        for side in sides:
            sources, targets = ends[side], ends[1 - side]
            if not sources or not targets:
                continue
            override = conn.allowed_ips.get(conn.between[1 - side])
            allowed = None if override is None else sorted_networks(override)
            groups: dict[int | None, list[str]] = {}
            for name in sources:
                keepalive = _keepalive(
                    conn.persistent_keepalive,
                    nodes[name].interfaces[network].persistent_keepalive,
                    net.persistent_keepalive,
                )
                groups.setdefault(keepalive, []).append(name)
            for keepalive, group in groups.items():
                links = {peer: link(peer, allowed, keepalive) for peer in targets}
                for name in group:
                    row = rows[name]
                    row.update(links)
                    row.pop(name, None)
    return Topology(rows, list(cache.values()))


def topology_inputs(state: State, network: str) -> Hashable:
    """What :func:`compute_topology` reads besides the network file: per member
    its name, labels, address, routes and keepalive (not endpoints or keys)."""
    members = []
    for name, node in sorted(state.nodes.items()):
        spec = node.interfaces.get(network)
        if spec is not None:
            labels = tuple(sorted(node.labels.items()))
            members.append(
                (name, labels, spec.address, tuple(spec.routes), spec.persistent_keepalive)
            )
    return tuple(members)
