"""Apply a plan: each change through the backend that owns it, in a safe order.

Per interface: create the device, send one device update (key, port, then peer
removals, changes and additions: never ``replace_peers``), then the link (MTU,
addresses, up, routes). When the device refuses that update
(:class:`~drago.errors.DeviceRefused`), it is sent again in parts (key, port
and removals first, then one peer at a time) so that one peer the device
refuses never holds back the others: such a peer is reported on its own and
the interface's remaining steps go on. Any other failure stops
that interface's remaining steps and is reported; the other interfaces go on.
Private keys come from a lookup by network, so no change object ever holds one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drago.agent.backends.base import DeviceUpdate, LinkBackend, PeerUpdate, WireGuardBackend
from drago.agent.changes import (
    AddAddress,
    AddPeer,
    AddRoute,
    CreateInterface,
    DeviceChange,
    PeerChange,
    RemoveAddress,
    RemoveInterface,
    RemovePeer,
    RemoveRoute,
    SetLinkUp,
    SetListenPort,
    SetMtu,
    SetPeerAllowedIps,
    SetPeerEndpoint,
    SetPeerKeepalive,
    SetPrivateKey,
)
from drago.errors import BackendError, DeviceRefused

#: network -> base64 private key of the node's interface in that network.
PrivateKeyLookup = Callable[[str], str | None]


@dataclass
class Applied:
    """What went wrong while applying a plan (both empty when all went well)."""

    #: One line per interface whose steps stopped.
    errors: list[str] = field(default_factory=list)
    #: (ifname, public key) -> why the device refused that peer's update.
    refused: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass
class _PeerEdit:
    name: str
    endpoint: str | None = None
    keepalive: int | None = None
    allowed_ips: tuple[str, ...] | None = None

    def update(self, public_key: str) -> PeerUpdate:
        return PeerUpdate(
            public_key=public_key,
            update_only=True,
            endpoint=self.endpoint,
            persistent_keepalive=self.keepalive,
            replace_allowed_ips=self.allowed_ips is not None,
            allowed_ips=self.allowed_ips or (),
        )


@dataclass
class _InterfaceBatch:
    ifname: str
    create: bool = False
    remove: bool = False
    private_key_network: str | None = None
    listen_port: int | None = None
    removed: list[str] = field(default_factory=list)
    edits: dict[str, _PeerEdit] = field(default_factory=dict)
    added: list[AddPeer] = field(default_factory=list)
    link: list[DeviceChange] = field(default_factory=list)

    def device_update(self, private_keys: PrivateKeyLookup) -> DeviceUpdate:
        private_key: str | None = None
        if self.private_key_network is not None:
            private_key = private_keys(self.private_key_network)
            if private_key is None:
                raise BackendError(
                    f"{self.ifname}: no private key for network {self.private_key_network}"
                )
        peers = [PeerUpdate(public_key=k, remove=True) for k in self.removed]
        peers.extend(edit.update(key) for key, edit in self.edits.items())
        peers.extend(
            PeerUpdate(
                public_key=a.peer.public_key,
                endpoint=a.peer.endpoint,
                persistent_keepalive=a.peer.persistent_keepalive or None,
                allowed_ips=a.peer.allowed_ips,
            )
            for a in self.added
        )
        return DeviceUpdate(
            private_key=private_key, listen_port=self.listen_port, peers=tuple(peers)
        )


_LINK_ORDER: dict[type[DeviceChange], int] = {
    SetMtu: 0,
    RemoveAddress: 1,
    AddAddress: 2,
    SetLinkUp: 3,
    RemoveRoute: 4,
    AddRoute: 5,
}


def _batches(changes: Sequence[DeviceChange]) -> list[_InterfaceBatch]:
    batches: dict[str, _InterfaceBatch] = {}
    for change in changes:
        batch = batches.setdefault(change.ifname, _InterfaceBatch(change.ifname))
        if isinstance(change, CreateInterface):
            batch.create = True
        elif isinstance(change, RemoveInterface):
            batch.remove = True
        elif isinstance(change, SetPrivateKey):
            batch.private_key_network = change.network
        elif isinstance(change, SetListenPort):
            batch.listen_port = change.new
        elif isinstance(change, RemovePeer):
            batch.removed.append(change.public_key)
        elif isinstance(change, AddPeer):
            batch.added.append(change)
        elif isinstance(change, PeerChange):
            edit = batch.edits.setdefault(change.public_key, _PeerEdit(change.name))
            if isinstance(change, SetPeerEndpoint):
                edit.endpoint = change.new
            elif isinstance(change, SetPeerKeepalive):
                edit.keepalive = change.new
            elif isinstance(change, SetPeerAllowedIps):
                edit.allowed_ips = change.new
        elif type(change) in _LINK_ORDER:
            batch.link.append(change)
        else:
            raise TypeError(f"no way to apply {type(change).__name__}")
    for batch in batches.values():
        batch.link.sort(key=lambda c: _LINK_ORDER[type(c)])
    return list(batches.values())


def _apply_link(links: LinkBackend, change: DeviceChange) -> None:
    ifname = change.ifname
    if isinstance(change, SetMtu):
        links.set_mtu(ifname, change.new)
    elif isinstance(change, RemoveAddress):
        links.remove_address(ifname, change.address)
    elif isinstance(change, AddAddress):
        links.add_address(ifname, change.address)
    elif isinstance(change, SetLinkUp):
        links.set_up(ifname)
    elif isinstance(change, RemoveRoute):
        links.remove_route(ifname, change.destination)
    elif isinstance(change, AddRoute):
        links.add_route(ifname, change.destination)


def _apply_in_parts(
    wireguard: WireGuardBackend, ifname: str, update: DeviceUpdate
) -> dict[tuple[str, str], str]:
    """Send ``update`` again in parts after the device refused it as a whole.

    Every part is idempotent, so resending what the failed update applied is
    harmless. A failure of the first part (key, port, removals) raises, and so
    does any failure but a refusal; the peers the device refuses one by one are
    returned with the reason.
    """
    head = DeviceUpdate(
        private_key=update.private_key,
        listen_port=update.listen_port,
        peers=tuple(p for p in update.peers if p.remove),
    )
    if not head.is_empty():
        wireguard.apply(ifname, head)
    refused: dict[tuple[str, str], str] = {}
    for peer in update.peers:
        if peer.remove:
            continue
        try:
            wireguard.apply(ifname, DeviceUpdate(peers=(peer,)))
        except DeviceRefused as exc:
            refused[(ifname, peer.public_key)] = exc.message
    return refused


def apply_changes(
    changes: Sequence[DeviceChange],
    wireguard: WireGuardBackend,
    links: LinkBackend,
    private_keys: PrivateKeyLookup,
) -> Applied:
    """Apply ``changes``; the interfaces and the peers that failed, with the reasons."""
    applied = Applied()
    for batch in _batches(changes):
        try:
            if batch.remove:
                wireguard.delete(batch.ifname)
                continue
            if batch.create:
                wireguard.create(batch.ifname)
            update = batch.device_update(private_keys)
            if not update.is_empty():
                try:
                    wireguard.apply(batch.ifname, update)
                except DeviceRefused:
                    if not any(not p.remove for p in update.peers):
                        raise
                    applied.refused.update(_apply_in_parts(wireguard, batch.ifname, update))
            for change in batch.link:
                _apply_link(links, change)
        except BackendError as exc:
            applied.errors.append(exc.message)
    return applied
