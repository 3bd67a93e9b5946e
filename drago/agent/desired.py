"""The desired state of one interface, derived from the rendered config.

The rendered config names peers and gives endpoints as host names; the device
knows public keys and IP addresses. :func:`desired_interface` bridges the two
(resolving endpoints through an injected resolver) so that :mod:`devicediff` stays pure.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from drago import grammar
from drago.agent.device import (
    format_endpoint,
    normalize_cidr,
    normalize_interface_address,
    split_endpoint,
)
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


def routes_for(addresses: tuple[str, ...], peers: tuple[PeerSpec, ...]) -> tuple[str, ...]:
    """Allowed IPs of the peers that the interface's own prefix does not already cover."""
    found = {c for p in peers for c in p.allowed_ips if not _covered(c, addresses)}
    return tuple(sorted(found, key=address_sort_key))


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
            routes=routes_for(addresses, spec),
        ),
        problems,
    )
