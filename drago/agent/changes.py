"""Typed changes between an interface's live state and its desired state.

Each change prints as one human-readable line, prefixed by the interface:
``wg-backbone: peer fra-1: endpoint 1.2.3.4:51820 => 5.6.7.8:51820``.
A change never carries a private key.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from drago.agent.desired import PeerSpec


def _list(values: tuple[str, ...]) -> str:
    return ", ".join(values) if values else "(none)"


def _keepalive(seconds: int) -> str:
    return f"{seconds}s" if seconds else "off"


@dataclass(frozen=True)
class DeviceChange(ABC):
    ifname: str

    @abstractmethod
    def describe(self) -> str:
        """The change without the interface prefix."""

    def __str__(self) -> str:
        return f"{self.ifname}: {self.describe()}"


@dataclass(frozen=True)
class CreateInterface(DeviceChange):
    network: str

    def describe(self) -> str:
        return f"create interface (network {self.network})"


@dataclass(frozen=True)
class RemoveInterface(DeviceChange):
    def describe(self) -> str:
        return "remove interface (network left)"


@dataclass(frozen=True)
class SetPrivateKey(DeviceChange):
    network: str
    old_public_key: str | None
    #: None when the key pair does not exist yet (a dry run before the first start).
    public_key: str | None

    def describe(self) -> str:
        new = self.public_key or "(new key pair)"
        return f"key {self.old_public_key or '(none)'} => {new}"


@dataclass(frozen=True)
class SetListenPort(DeviceChange):
    old: int | None
    new: int

    def describe(self) -> str:
        return f"listen port {self.old or '(none)'} => {self.new}"


@dataclass(frozen=True)
class SetMtu(DeviceChange):
    old: int | None
    new: int

    def describe(self) -> str:
        return f"mtu {self.old or '(none)'} => {self.new}"


@dataclass(frozen=True)
class AddAddress(DeviceChange):
    address: str

    def describe(self) -> str:
        return f"address + {self.address}"


@dataclass(frozen=True)
class RemoveAddress(DeviceChange):
    address: str

    def describe(self) -> str:
        return f"address - {self.address}"


@dataclass(frozen=True)
class SetLinkUp(DeviceChange):
    def describe(self) -> str:
        return "link down => up"


@dataclass(frozen=True)
class AddPeer(DeviceChange):
    peer: PeerSpec

    def describe(self) -> str:
        p = self.peer
        return (
            f"peer {p.name}: added ({p.public_key}, endpoint {p.endpoint or '(none)'}, "
            f"allowed ips {_list(p.allowed_ips)}, keepalive {_keepalive(p.persistent_keepalive)})"
        )


@dataclass(frozen=True)
class RemovePeer(DeviceChange):
    public_key: str
    #: The peer's name when the last applied config knew it.
    name: str | None = None

    def describe(self) -> str:
        label = self.name or self.public_key
        return (
            f"peer {label}: removed ({self.public_key})" if self.name else f"peer {label}: removed"
        )


@dataclass(frozen=True)
class PeerChange(DeviceChange, ABC):
    """Base of the per-field peer changes; applied together per peer."""

    name: str
    public_key: str


@dataclass(frozen=True)
class SetPeerEndpoint(PeerChange):
    old: str | None
    new: str

    def describe(self) -> str:
        return f"peer {self.name}: endpoint {self.old or '(none)'} => {self.new}"


@dataclass(frozen=True)
class SetPeerAllowedIps(PeerChange):
    old: tuple[str, ...]
    new: tuple[str, ...]

    def describe(self) -> str:
        return f"peer {self.name}: allowed ips {_list(self.old)} => {_list(self.new)}"


@dataclass(frozen=True)
class SetPeerKeepalive(PeerChange):
    old: int
    new: int

    def describe(self) -> str:
        return f"peer {self.name}: keepalive {_keepalive(self.old)} => {_keepalive(self.new)}"


@dataclass(frozen=True)
class AddRoute(DeviceChange):
    destination: str

    def describe(self) -> str:
        return f"route + {self.destination}"


@dataclass(frozen=True)
class RemoveRoute(DeviceChange):
    destination: str

    def describe(self) -> str:
        return f"route - {self.destination}"
