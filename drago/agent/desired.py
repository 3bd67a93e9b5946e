"""The desired state of one interface, derived from the rendered config.

The rendered config names peers and gives endpoints as host names; the device
knows public keys and IP addresses. :func:`desired_interface` bridges the two
(resolving endpoints through an injected resolver) so that :mod:`devicediff` stays pure.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from drago import grammar
from drago.agent.device import (
    format_endpoint,
    normalize_cidr,
    normalize_interface_address,
    split_endpoint,
)
from drago.agent.problems import ROUTE_LEFT_OUT
from drago.render.config import InterfaceConfig, address_sort_key

#: MTU used when the config leaves it open (WireGuard's usual default).
DEFAULT_MTU = 1420

#: host, port -> IP address string; raises OSError when the name does not resolve.
Resolver = Callable[[str, int], str]


@lru_cache(maxsize=1 << 16)
def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def system_resolver(host: str, port: int) -> str:
    """Resolve ``host`` with the system resolver (IP literals are returned as they are)."""
    literal = _literal(host)
    if literal is not None:
        return literal
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    return str(infos[0][4][0])


@dataclass(frozen=True)
class PeerSpec:
    """A peer as the device should have it."""

    name: str
    public_key: str
    endpoint: str | None
    allowed_ips: tuple[str, ...]
    persistent_keepalive: int


@dataclass(frozen=True)
class DesiredInterface:
    """One interface as it should be. ``public_key`` is derived from the private key.

    ``public_key`` None means the node has no key yet for this network (a dry
    run before the first start): planning shows a new key pair.
    """

    network: str
    ifname: str
    public_key: str | None
    listen_port: int
    mtu: int
    addresses: tuple[str, ...]
    peers: tuple[PeerSpec, ...]
    routes: tuple[str, ...]


@lru_cache(maxsize=1 << 16)
def _covered(cidr: str, addresses: tuple[str, ...]) -> bool:
    net = ipaddress.ip_network(cidr)
    for address in addresses:
        connected = ipaddress.ip_interface(address).network
        if net.version == connected.version and net.subnet_of(connected):  # type: ignore[arg-type]
            return True
    return False


@dataclass(frozen=True)
class Protected:
    """An address that no route through a WireGuard interface may cover.

    The drago server and the peers' endpoints: a route that covers one of them
    sends the tunnel's own (or the agent's) traffic into the tunnel, a loop
    that cuts the node off, also from the server that could send the fix.
    """

    address: str
    #: What the address is, for the problem: "the drago server 198.51.100.7".
    what: str


@dataclass(frozen=True)
class LeftOut:
    """A route of ``peer``'s allowed IPs that is not installed, and why."""

    peer: PeerSpec
    route: str
    covers: Protected

    @property
    def message(self) -> str:
        return f"route {self.route} {ROUTE_LEFT_OUT} {self.covers.what}"


@lru_cache(maxsize=1 << 16)
def _span(cidr: str) -> tuple[int, int, int]:
    """IP version, first and last address (as integers) of ``cidr``."""
    net = ipaddress.ip_network(cidr)
    return net.version, int(net.network_address), int(net.broadcast_address)


@lru_cache(maxsize=1 << 16)
def _address(text: str) -> tuple[int, int]:
    """IP version and integer value of an address."""
    address = ipaddress.ip_address(text)
    return address.version, int(address)


class ProtectedSet:
    """Groups of protected addresses, each sorted per IP version (a route is checked in
    log time); a route that covers addresses of several groups is told by the first."""

    def __init__(self, *groups: Iterable[Protected]) -> None:
        self._groups: list[dict[int, tuple[list[int], list[Protected]]]] = []
        for group in groups:
            found: dict[int, list[tuple[int, Protected]]] = {4: [], 6: []}
            for p in group:
                version, value = _address(p.address)
                found[version].append((value, p))
            index: dict[int, tuple[list[int], list[Protected]]] = {}
            for version, entries in found.items():
                entries.sort(key=lambda e: e[0])
                index[version] = ([e[0] for e in entries], [e[1] for e in entries])
            self._groups.append(index)

    def covered_by(self, cidr: str) -> Protected | None:
        """The lowest protected address of the first group with one inside ``cidr``."""
        version, low, high = _span(cidr)
        for group in self._groups:
            keys, protected = group[version]
            i = bisect.bisect_left(keys, low)
            if i < len(keys) and keys[i] <= high:
                return protected[i]
        return None


def routes_for(
    addresses: tuple[str, ...],
    peers: tuple[PeerSpec, ...],
    protected: ProtectedSet | None = None,
) -> tuple[tuple[str, ...], tuple[LeftOut, ...]]:
    """Allowed IPs of the peers that the interface's own prefix does not already cover,
    except those that cover a ``protected`` address (returned as left out, per peer)."""
    found: set[str] = set()
    left: list[LeftOut] = []
    for peer in peers:
        for cidr in peer.allowed_ips:
            if _covered(cidr, addresses):
                continue
            covers = protected.covered_by(cidr) if protected is not None else None
            if covers is None:
                found.add(cidr)
            else:
                left.append(LeftOut(peer, cidr, covers))
    return tuple(sorted(found, key=address_sort_key)), tuple(left)


def guard_routes(
    want: DesiredInterface, protected: ProtectedSet
) -> tuple[DesiredInterface, tuple[LeftOut, ...]]:
    """``want`` without the routes that cover a protected address, and those left out.

    WireGuard's allowed IPs stay as configured: they only steer traffic that a
    route sends into the interface; the tunnel's own UDP packets follow the
    host's routing table, so leaving out the route is what breaks the loop.
    """
    routes, left = routes_for(want.addresses, want.peers, protected)
    return replace(want, routes=routes), left


def endpoint_protection(wants: Iterable[DesiredInterface]) -> list[Protected]:
    """The resolved endpoints of all peers of ``wants`` as protected addresses."""
    found: list[Protected] = []
    for want in wants:
        for p in want.peers:
            if p.endpoint is not None:
                host = split_endpoint(p.endpoint)[0]
                found.append(Protected(host, f"the endpoint {host} of peer {p.name}"))
    return found


def desired_interface(
    config: InterfaceConfig,
    public_key: str | None,
    resolve: Resolver = system_resolver,
) -> tuple[DesiredInterface, list[str]]:
    """The desired interface and the problems met (endpoints that did not resolve)."""
    problems: list[str] = []
    peers: list[PeerSpec] = []
    for peer in config.peers:
        endpoint: str | None = None
        if peer.endpoint:
            try:
                host, port = split_endpoint(peer.endpoint)
                resolved = format_endpoint(_literal(host) or resolve(host, port), port)
                if not grammar.matches(grammar.IP_ENDPOINT, resolved):
                    raise ValueError(f"resolved to {resolved!r}, not a plain IP address")
                endpoint = resolved
            except (OSError, ValueError) as exc:
                problems.append(
                    f"{config.ifname}: peer {peer.name}: endpoint {peer.endpoint}: {exc}"
                )
        peers.append(
            PeerSpec(
                name=peer.name,
                public_key=peer.public_key,
                endpoint=endpoint,
                allowed_ips=tuple(normalize_cidr(c) for c in peer.allowed_ips),
                persistent_keepalive=peer.persistent_keepalive or 0,
            )
        )
    addresses = (normalize_interface_address(config.address),)
    spec = tuple(peers)
    return (
        DesiredInterface(
            network=config.network,
            ifname=config.ifname,
            public_key=public_key,
            listen_port=config.listen_port,
            mtu=config.mtu or DEFAULT_MTU,
            addresses=addresses,
            peers=spec,
            routes=routes_for(addresses, spec)[0],
        ),
        problems,
    )
