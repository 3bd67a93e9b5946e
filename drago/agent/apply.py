"""Apply a plan: each change through the backend that owns it, in a safe order.

Per interface: create the device, send one device update (key, port, then peer
removals, changes and additions: never ``replace_peers``), then the link (MTU,
addresses, up, routes). A failure stops that interface's remaining steps and is
reported; the other interfaces go on. Private keys come from a lookup by
network, so no change object ever holds one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from drago.agent.backends.base import DeviceUpdate, LinkBackend, PeerUpdate, WireGuardBackend
from drago.agent.changes import (
    AddAddress,
    AddPeer,
    AddRoute,
    Change,
    CreateInterface,
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
from drago.errors import BackendError

#: network -> base64 private key of the node's interface in that network.
PrivateKeyLookup = Callable[[str], str | None]


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
    link: list[Change] = field(default_factory=list)

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


_LINK_ORDER: dict[type[Change], int] = {
    SetMtu: 0,
    RemoveAddress: 1,
    AddAddress: 2,
    SetLinkUp: 3,
    RemoveRoute: 4,
    AddRoute: 5,
}


def _batches(changes: Sequence[Change]) -> list[_InterfaceBatch]:
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


def _apply_link(links: LinkBackend, change: Change) -> None:
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


def apply_changes(
    changes: Sequence[Change],
    wireguard: WireGuardBackend,
    links: LinkBackend,
    private_keys: PrivateKeyLookup,
) -> list[str]:
    """Apply ``changes``; the errors met, one line each (empty when all went well)."""
    errors: list[str] = []
    for batch in _batches(changes):
        try:
            if batch.remove:
                wireguard.delete(batch.ifname)
                continue
            if batch.create:
                wireguard.create(batch.ifname)
            update = batch.device_update(private_keys)
            if not update.is_empty():
                wireguard.apply(batch.ifname, update)
            for change in batch.link:
                _apply_link(links, change)
        except BackendError as exc:
            errors.append(exc.message)
    return errors
