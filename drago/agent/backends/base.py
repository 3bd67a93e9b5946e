"""The two backend protocols every reconcile goes through.

:class:`WireGuardBackend` configures WireGuard devices (UAPI for userspace
implementations, generic netlink for the kernel module); :class:`LinkBackend`
handles what the kernel's link layer holds (MTU, addresses, routes, link state),
through pyroute2 ``IPRoute`` for every real backend. Both have in-memory fakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from drago.agent.device import DeviceState, LinkState


@dataclass(frozen=True)
class PeerUpdate:
    """One peer's part of a device update; keys are base64.

    Only the fields that are set are sent: ``endpoint`` None leaves the endpoint
    as it is; ``persistent_keepalive`` None leaves keepalive as it is;
    ``allowed_ips`` are added unless ``replace_allowed_ips`` is set.
    """

    public_key: str
    remove: bool = False
    update_only: bool = False
    endpoint: str | None = None
    persistent_keepalive: int | None = None
    replace_allowed_ips: bool = False
    allowed_ips: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeviceUpdate:
    """One transaction on a device. Never replaces all peers.

    ``private_key`` is base64 and must never be logged: its repr is hidden.
    """

    private_key: str | None = field(default=None, repr=False)
    listen_port: int | None = None
    peers: tuple[PeerUpdate, ...] = ()

    def is_empty(self) -> bool:
        return self.private_key is None and self.listen_port is None and not self.peers


class WireGuardBackend(Protocol):
    """Creates, reads and configures WireGuard devices."""

    #: ``userspace``, ``kernel`` or ``fake``.
    name: str

    def exists(self, ifname: str) -> bool:
        """Whether a WireGuard device of this name is present and reachable."""
        ...

    def create(self, ifname: str) -> None:
        """Create the device (down, unconfigured). Raises BackendError."""
        ...

    def delete(self, ifname: str) -> None:
        """Remove the device and everything it owns (e.g. its wireguard-go process)."""
        ...

    def read(self, ifname: str) -> DeviceState:
        """The device's current state. Raises BackendError when it is absent."""
        ...

    def apply(self, ifname: str, update: DeviceUpdate) -> None:
        """Apply one update. On failure raises BackendError; part of it may be applied."""
        ...


class LinkBackend(Protocol):
    """The link-layer side of an interface (pyroute2 ``IPRoute`` in production)."""

    def exists(self, ifname: str) -> bool:
        """Whether a link of that name exists (cheaper than :meth:`read`)."""
        ...

    def read(self, ifname: str) -> LinkState | None:
        """The link's state, or None when no link of that name exists."""
        ...

    def set_mtu(self, ifname: str, mtu: int) -> None: ...

    def add_address(self, ifname: str, address: str) -> None: ...

    def remove_address(self, ifname: str, address: str) -> None: ...

    def set_up(self, ifname: str) -> None: ...

    def add_route(self, ifname: str, destination: str) -> None: ...

    def remove_route(self, ifname: str, destination: str) -> None: ...

    def delete(self, ifname: str) -> None:
        """Delete the link (no error when it is already gone)."""
        ...
