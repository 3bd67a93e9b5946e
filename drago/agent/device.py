"""The live state of a WireGuard interface, as read back from the machine.

Two halves: :class:`DeviceState` is what the WireGuard implementation holds
(listen port, key, peers), :class:`LinkState` what the kernel's link layer holds
(MTU, addresses, routes, up/down). Values are normalized so that they compare
equal to the desired values computed by :mod:`drago.agent.desired`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache


@lru_cache(maxsize=1 << 16)
def normalize_cidr(value: str) -> str:
    """``10.0.0.1/24`` -> ``10.0.0.0/24``; a bare address gets its full prefix."""
    return str(ipaddress.ip_network(value, strict=False))


def normalize_interface_address(value: str) -> str:
    """An interface address keeps its host part: ``10.0.0.1/24`` stays as it is."""
    return str(ipaddress.ip_interface(value))


@lru_cache(maxsize=1 << 16)
def format_endpoint(host: str, port: int) -> str:
    """``host:port`` with IPv6 hosts in brackets, as WireGuard prints it."""
    address = ipaddress.ip_address(host.strip("[]"))
    if address.version == 6:
        return f"[{address}]:{port}"
    return f"{address}:{port}"


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` -> (host without brackets, port)."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"endpoint {endpoint!r} is not host:port")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class PeerState:
    """One peer on a device. ``public_key`` is base64."""

    public_key: str
    endpoint: str | None = None
    allowed_ips: tuple[str, ...] = ()
    #: Seconds; 0 means off.
    persistent_keepalive: int = 0
    #: Unix time of the latest handshake, None when there was none.
    latest_handshake: float | None = None
    rx_bytes: int = 0
    tx_bytes: int = 0


@dataclass(frozen=True)
class DeviceState:
    """A WireGuard device: its public key (never the private one), port and peers."""

    public_key: str | None = None
    listen_port: int | None = None
    peers: Mapping[str, PeerState] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkState:
    """The network link of an interface."""

    up: bool = False
    mtu: int | None = None
    addresses: frozenset[str] = frozenset()
    routes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class InterfaceState:
    """Everything the agent reads about one interface."""

    device: DeviceState = field(default_factory=DeviceState)
    link: LinkState = field(default_factory=LinkState)


#: The state planned against when an interface does not exist yet.
MISSING = InterfaceState()
