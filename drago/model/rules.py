"""Cross-file rules of a repository state (see ``docs/schema.md``, "Rules").

Each rule yields :class:`~drago.errors.Problem`\\ s naming the file and key to fix.
Files that exist but did not parse are listed in :class:`Context` so that rules
do not pile follow-up errors on top of the parse errors (a node naming a network
whose file is broken is not also told that the network does not exist).
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from drago.errors import Problem
from drago.grammar import key_bytes
from drago.model.messages import key_path
from drago.model.names import default_ifname, file_path
from drago.model.schema import Connection, IPNetwork, NodeFile
from drago.model.state import State
from drago.model.suggest import hint
from drago.model.topology import match_selector, sorted_networks


@dataclass
class Context:
    state: State
    #: folder -> names whose file exists but did not parse.
    broken: dict[str, set[str]] = field(default_factory=dict)

    def exists(self, folder: str, name: str) -> bool:
        items: dict[str, object] = getattr(self.state, folder)
        return name in items or name in self.broken.get(folder, set())

    def is_broken(self, folder: str, name: str) -> bool:
        return name in self.broken.get(folder, set())


def _overlaps(nets: list[IPNetwork]) -> Iterator[tuple[int, int]]:
    """(i, j) with i < j, once per entry j that overlaps an earlier entry i.

    Comparing every pair would cost a request with one long list quadratic time
    (a reader's dry run can send 40,000 routes in one file). Two CIDR ranges
    overlap only when one holds the other, so a sweep in address order with the
    stack of ranges holding the current one finds them in O(n log n + n * depth),
    depth being at most the number of prefix lengths.
    """
    spans = []
    for index, net in enumerate(nets):
        start = (net.version << 128) | int(net.network_address)
        spans.append((start, -(start + net.num_addresses - 1), index))
    spans.sort()
    earlier: dict[int, int] = {}  # j -> an earlier entry it overlaps
    stack: list[tuple[int, int]] = []  # (end, index) of distinct ranges holding the current
    previous: tuple[int, int] | None = None
    for start, negative_end, index in spans:
        end = -negative_end
        while stack and stack[-1][0] < start:
            stack.pop()
        for _, other in stack:  # each holds this one (or equals it)
            first, later = min(other, index), max(other, index)
            if earlier.get(later, later) > first:
                earlier[later] = first
        if (start, end) != previous:  # an equal range is already on the stack
            stack.append((end, index))
            previous = (start, end)
    for j in sorted(earlier):
        yield earlier[j], j


def node_rules(ctx: Context, name: str, node: NodeFile) -> Iterator[Problem]:
    """Interfaces of one node: networks exist, addresses, ports, names, routes."""
    path = file_path("nodes", name)
    ports: dict[int, str] = {}
    ifnames: dict[str, str] = {}
    ranges: dict[str, IPNetwork] = {}
    for network, spec in sorted(node.interfaces.items()):
        key = f"interfaces.{network}"
        net = ctx.state.networks.get(network)
        if net is None:
            if not ctx.is_broken("networks", network):
                yield Problem(
                    path,
                    key,
                    f"network `{network}` does not exist (no {file_path('networks', network)})"
                    + hint(network, ctx.state.networks),
                )
            continue
        rng = net.address_range
        address = spec.address
        if address.version != rng.version or address.ip not in rng:
            yield Problem(path, f"{key}.address", f"{address} is outside {rng}")
        elif not address.network.subnet_of(rng):  # type: ignore[arg-type]
            yield Problem(
                path,
                f"{key}.address",
                f"{address} covers more than the network's {rng} (use /{rng.prefixlen} or longer)",
            )
        elif (
            rng.version == 4
            and rng.prefixlen < 31
            and address.ip
            in {
                rng.network_address,
                rng.broadcast_address,
            }
        ):
            which = "network" if address.ip == rng.network_address else "broadcast"
            yield Problem(path, f"{key}.address", f"{address.ip} is the {which} address of {rng}")
        for i, route in enumerate(spec.routes):
            if route.version == rng.version and route.overlaps(rng):
                yield Problem(
                    path,
                    f"{key}.routes[{i}]",
                    f"{route} overlaps the network's address range {rng}",
                )
        for i, j in _overlaps(list(spec.routes)):
            yield Problem(
                path,
                f"{key}.routes[{j}]",
                f"{spec.routes[j]} overlaps routes[{i}] ({spec.routes[i]})",
            )
        for other, other_range in ranges.items():
            if other_range.version == rng.version and other_range.overlaps(rng):
                yield Problem(
                    path,
                    key,
                    f"the address ranges of networks `{other}` ({other_range}) and"
                    f" `{network}` ({rng}) overlap",
                )
        ranges[network] = rng
        port = spec.listen_port or net.listen_port
        if port in ports:
            inherited = "" if spec.listen_port else " (the network's default; set listen_port)"
            yield Problem(
                path,
                f"{key}.listen_port",
                f"port {port} is also used by interfaces.{ports[port]}{inherited}",
            )
        ports.setdefault(port, network)
        ifname = spec.ifname or default_ifname(network)
        if ifname in ifnames:
            yield Problem(
                path,
                f"{key}.ifname",
                f"interface name {ifname} is also used by interfaces.{ifnames[ifname]}",
            )
        ifnames.setdefault(ifname, network)
        if spec.endpoint_port is not None and node.endpoint is None:
            yield Problem(path, f"{key}.endpoint_port", "is set but the node has no endpoint")


def address_rules(state: State, network: str, members: list[str]) -> Iterator[Problem]:
    """Addresses are unique within a network."""
    seen: dict[ipaddress.IPv4Address | ipaddress.IPv6Address, str] = {}
    for name in members:
        address = state.nodes[name].interfaces[network].address.ip
        first = seen.setdefault(address, name)
        if first != name:
            yield Problem(
                file_path("nodes", name),
                f"interfaces.{network}.address",
                f"{address} is also used by `{first}`",
            )


def connection_rules(
    ctx: Context, network: str, members: list[tuple[str, NodeFile]]
) -> Iterator[Problem]:
    """Connections resolve to members, are not self-connections, and their
    allowed IPs overrides name one of their ends."""
    path = file_path("networks", network)
    any_broken_node = bool(ctx.broken.get("nodes"))
    for index, conn in enumerate(ctx.state.networks[network].connections):
        key = f"connections[{index}]"
        for side, selector in enumerate(conn.between):
            if match_selector(selector, members):
                continue
            problem = _unmatched(ctx, network, selector, any_broken_node)
            if problem:
                yield Problem(path, f"{key}.between[{side}]", problem)
        a, b = conn.between
        if a == b and a != "*" and "=" not in a:
            yield Problem(path, f"{key}.between", f"connects `{a}` with itself")
        yield from _override_rules(path, key, conn)


def _unmatched(ctx: Context, network: str, selector: str, any_broken: bool) -> str | None:
    if selector != "*" and "=" not in selector:
        if ctx.state.nodes.get(selector) is not None:
            return f"`{selector}` has no interface in network `{network}`"
        if ctx.is_broken("nodes", selector):
            return None
        return f"no node named `{selector}`" + hint(selector, ctx.state.nodes)
    if any_broken:
        return None
    return f"`{selector}` matches no member of network `{network}`"


def _override_rules(path: str, key: str, conn: Connection) -> Iterator[Problem]:
    for selector, nets in conn.allowed_ips.items():
        sub = f"{key}.allowed_ips.{key_path([selector])}"
        if selector not in conn.between:
            yield Problem(
                path,
                sub,
                f"`{selector}` is not an end of this connection"
                f" (ends: `{conn.between[0]}`, `{conn.between[1]}`)",
            )
        for i, j in _overlaps(list(nets)):
            yield Problem(path, f"{sub}[{j}]", f"{nets[j]} overlaps [{i}] ({nets[i]})")
        if len(sorted_networks(nets)) != len(nets):
            yield Problem(path, sub, "lists the same range twice")


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def endpoint_ip(node: NodeFile) -> IPAddress | None:
    """The node's endpoint when it is an IP address (None for a host name or none)."""
    if node.endpoint is None:
        return None
    try:
        return ipaddress.ip_address(node.endpoint.strip("[]"))
    except ValueError:
        return None


class _Endpoints:
    """The IP-literal endpoints of a network's members, sorted per IP version."""

    def __init__(self, members: Iterable[tuple[str, NodeFile]]) -> None:
        found: dict[int, list[tuple[int, str, IPAddress]]] = {4: [], 6: []}
        for name, node in members:
            address = endpoint_ip(node)
            if address is not None:
                found[address.version].append((int(address), name, address))
        self._sorted = {version: sorted(entries) for version, entries in found.items()}
        self._keys = {version: [e[0] for e in entries] for version, entries in self._sorted.items()}

    def __bool__(self) -> bool:
        return any(self._keys.values())

    def covered_by(self, net: IPNetwork) -> str | None:
        """The problem of ``net`` when it holds a member's endpoint (the lowest one)."""
        keys = self._keys[net.version]
        i = bisect.bisect_left(keys, int(net.network_address))
        if i == len(keys) or keys[i] > int(net.broadcast_address):
            return None
        _, name, ip = self._sorted[net.version][i]
        return (
            f"{net} covers the endpoint of `{name}` ({ip}): its peers would route"
            " the tunnel's own packets into the tunnel"
        )


def endpoint_rules(
    state: State, network: str, members: list[tuple[str, NodeFile]]
) -> Iterator[Problem]:
    """Routes and connection ``allowed_ips`` of a network never cover the IP-literal
    endpoint of one of its members (a routing loop at every peer: the agents would
    lose their peers and the server). Host-name endpoints are checked by the agent."""
    endpoints = _Endpoints(members)
    if not endpoints:
        return
    for name, node in members:
        for i, route in enumerate(node.interfaces[network].routes):
            problem = endpoints.covered_by(route)
            if problem is not None:
                yield Problem(
                    file_path("nodes", name), f"interfaces.{network}.routes[{i}]", problem
                )
    path = file_path("networks", network)
    for index, conn in enumerate(state.networks[network].connections):
        for selector, nets in conn.allowed_ips.items():
            sub = f"connections[{index}].allowed_ips.{key_path([selector])}"
            for j, net in enumerate(nets):
                problem = endpoints.covered_by(net)
                if problem is not None:
                    yield Problem(path, f"{sub}[{j}]", problem)


def key_rules(ctx: Context, name: str) -> Iterator[Problem]:
    """A keys file belongs to an existing node and only to networks it is in."""
    path = file_path("keys", name)
    keys = ctx.state.keys[name]
    node = ctx.state.nodes.get(name)
    if node is None:
        if not ctx.is_broken("nodes", name):
            yield Problem(
                path, "", f"no node named `{name}` ({file_path('nodes', name)} does not exist)"
            )
        return
    for network in sorted(keys.interfaces):
        if network not in node.interfaces:
            yield Problem(
                path, f"interfaces.{network}", f"`{name}` has no interface in network `{network}`"
            )


def duplicate_key_rules(state: State, network: str, members: list[str]) -> Iterator[Problem]:
    """Two peers of one network cannot share a public key (compared as bytes, so no
    other spelling of a key can pass for a new one)."""
    seen: dict[bytes, str] = {}
    for name in members:
        key = state.public_key(name, network)
        if key is None:
            continue
        first = seen.setdefault(key_bytes(key), name)
        if first != name:
            yield Problem(
                file_path("keys", name),
                f"interfaces.{network}.public_key",
                f"the same public key is registered for `{first}`",
            )
