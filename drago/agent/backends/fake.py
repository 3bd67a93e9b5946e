"""An in-memory host: WireGuard devices and links, for unit tests and dry runs.

Implements both :class:`~drago.agent.backends.base.WireGuardBackend` and
:class:`~drago.agent.backends.base.LinkBackend` with WireGuard's semantics
(an allowed IP belongs to one peer; ``update_only`` skips unknown peers), and
counts the peers each update touched so tests can prove a change was minimal.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field, replace

from nacl.public import PrivateKey

from drago.agent.backends.base import DeviceUpdate
from drago.agent.device import DeviceState, LinkState, PeerState, normalize_cidr
from drago.errors import BackendError, DeviceRefused


@dataclass
class FakeInterface:
    device: DeviceState = field(default_factory=DeviceState)
    link: LinkState = field(default_factory=LinkState)


class FakeHost:
    """Devices and links in memory; ``touched`` lists the peer keys of every update."""

    name = "fake"

    def __init__(self) -> None:
        self.interfaces: dict[str, FakeInterface] = {}
        self.touched: list[str] = []
        self.updates: list[DeviceUpdate] = []
        #: ifname -> message: the next apply on that interface fails after its first peer.
        self.fail_next: dict[str, str] = {}
        #: ifname -> message: every apply on that interface fails, changing nothing.
        self.failing: dict[str, str] = {}
        #: public key -> message: an update that adds or changes this peer is refused at
        #: that peer (DeviceRefused), after the earlier lines took effect, as a UAPI
        #: device refuses a value it does not accept.
        self.refuse: dict[str, str] = {}

    def _get(self, ifname: str) -> FakeInterface:
        try:
            return self.interfaces[ifname]
        except KeyError:
            raise BackendError(f"{ifname}: no such device") from None

    # WireGuardBackend

    def exists(self, ifname: str) -> bool:
        return ifname in self.interfaces

    def create(self, ifname: str) -> None:
        if ifname in self.interfaces:
            raise BackendError(f"{ifname}: exists already")
        self.interfaces[ifname] = FakeInterface(link=LinkState(mtu=1420))

    def delete(self, ifname: str) -> None:
        self.interfaces.pop(ifname, None)

    def read(self, ifname: str) -> DeviceState:
        return self._get(ifname).device

    def apply(self, ifname: str, update: DeviceUpdate) -> None:
        iface = self._get(ifname)
        self.updates.append(update)
        if ifname in self.failing:
            raise BackendError(f"{ifname}: {self.failing[ifname]}")
        failure = self.fail_next.pop(ifname, None)
        device = iface.device
        if update.private_key is not None:
            raw = base64.b64decode(update.private_key)
            public = base64.b64encode(bytes(PrivateKey(raw).public_key)).decode()
            device = replace(device, public_key=public)
        if update.listen_port is not None:
            device = replace(device, listen_port=update.listen_port)
        peers = dict(device.peers)
        for count, change in enumerate(update.peers):
            if failure is not None and count == 1:
                iface.device = replace(device, peers=peers)
                raise BackendError(f"{ifname}: {failure}")
            self.touched.append(change.public_key)
            refused = self.refuse.get(change.public_key)
            if refused is not None and not change.remove:
                iface.device = replace(device, peers=peers)
                raise DeviceRefused(f"{ifname}: {refused}")
            old = peers.get(change.public_key)
            if change.remove:
                peers.pop(change.public_key, None)
                continue
            if old is None and change.update_only:
                continue
            peer = old or PeerState(public_key=change.public_key)
            allowed = [] if change.replace_allowed_ips else list(peer.allowed_ips)
            new_ips = [normalize_cidr(c) for c in change.allowed_ips]
            for key, other in list(peers.items()):
                if key != change.public_key and set(other.allowed_ips) & set(new_ips):
                    kept = tuple(c for c in other.allowed_ips if c not in new_ips)
                    peers[key] = replace(other, allowed_ips=kept)
            allowed.extend(c for c in new_ips if c not in allowed)
            peers[change.public_key] = replace(
                peer,
                endpoint=change.endpoint if change.endpoint is not None else peer.endpoint,
                persistent_keepalive=(
                    change.persistent_keepalive
                    if change.persistent_keepalive is not None
                    else peer.persistent_keepalive
                ),
                allowed_ips=tuple(allowed),
            )
        iface.device = replace(device, peers=peers)
        if failure is not None:
            raise BackendError(f"{ifname}: {failure}")

    # LinkBackend (``read`` of a link is ``read_link``; see LinkView)

    def read_link(self, ifname: str) -> LinkState | None:
        iface = self.interfaces.get(ifname)
        return None if iface is None else iface.link

    def _link(self, ifname: str, **changes: object) -> None:
        iface = self._get(ifname)
        iface.link = replace(iface.link, **changes)  # type: ignore[arg-type]

    def links(self) -> FakeLinks:
        return FakeLinks(self)


class FakeLinks:
    """The link-layer view of a :class:`FakeHost`."""

    def __init__(self, host: FakeHost) -> None:
        self.host = host

    def exists(self, ifname: str) -> bool:
        return ifname in self.host.interfaces

    def read(self, ifname: str) -> LinkState | None:
        return self.host.read_link(ifname)

    def set_mtu(self, ifname: str, mtu: int) -> None:
        self.host._link(ifname, mtu=mtu)

    def add_address(self, ifname: str, address: str) -> None:
        link = self.host._get(ifname).link
        self.host._link(ifname, addresses=link.addresses | {address})

    def remove_address(self, ifname: str, address: str) -> None:
        link = self.host._get(ifname).link
        self.host._link(ifname, addresses=link.addresses - {address})

    def set_up(self, ifname: str) -> None:
        self.host._link(ifname, up=True)

    def add_route(self, ifname: str, destination: str) -> None:
        link = self.host._get(ifname).link
        if not link.up:
            raise BackendError(f"{ifname}: route + {destination}: link is down")
        self.host._link(ifname, routes=link.routes | {destination})

    def remove_route(self, ifname: str, destination: str) -> None:
        link = self.host._get(ifname).link
        self.host._link(ifname, routes=link.routes - {destination})

    def delete(self, ifname: str) -> None:
        self.host.delete(ifname)
