"""``diff_device(desired, actual) -> list[DeviceChange]``: the pure diff at the heart of reconcile.

Given the desired interfaces and what was read from the machine, list the
smallest set of changes that makes the machine match. Unchanged peers produce
no change at all, so applying a plan never disturbs their sessions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Mapping, Sequence

from drago.agent.changes import (
    AddAddress,
    AddPeer,
    AddRoute,
    CreateInterface,
    DeviceChange,
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
from drago.agent.desired import DesiredInterface
from drago.agent.device import MISSING, InterfaceState, PeerState
from drago.render.config import address_sort_key


def _is_link_local(address: str) -> bool:
    return ipaddress.ip_interface(address).ip.is_link_local


def _sorted(values: Collection[str]) -> list[str]:
    return sorted(values, key=address_sort_key)


def diff_interface(
    want: DesiredInterface,
    have: InterfaceState | None,
    names: Mapping[str, str] | None = None,
) -> list[DeviceChange]:
    """Changes for one interface; ``have`` None means it does not exist yet.

    ``names`` maps public keys of peers to remove to the names the last applied
    config gave them (for readable output only).
    """
    ifname = want.ifname
    changes: list[DeviceChange] = []
    if have is None:
        changes.append(CreateInterface(ifname, want.network))
        have = MISSING
    device, link = have.device, have.link
    if want.public_key is None or device.public_key != want.public_key:
        changes.append(SetPrivateKey(ifname, want.network, device.public_key, want.public_key))
    if device.listen_port != want.listen_port:
        changes.append(SetListenPort(ifname, device.listen_port, want.listen_port))

    wanted = {p.public_key: p for p in want.peers}
    for key in device.peers:
        if key not in wanted:
            changes.append(RemovePeer(ifname, key, (names or {}).get(key)))
    for spec in want.peers:
        current: PeerState | None = device.peers.get(spec.public_key)
        if current is None:
            changes.append(AddPeer(ifname, spec))
            continue
        if spec.endpoint is not None and spec.endpoint != current.endpoint:
            changes.append(
                SetPeerEndpoint(ifname, spec.name, spec.public_key, current.endpoint, spec.endpoint)
            )
        if set(spec.allowed_ips) != set(current.allowed_ips):
            old = tuple(_sorted(current.allowed_ips))
            changes.append(
                SetPeerAllowedIps(ifname, spec.name, spec.public_key, old, spec.allowed_ips)
            )
        if spec.persistent_keepalive != current.persistent_keepalive:
            changes.append(
                SetPeerKeepalive(
                    ifname,
                    spec.name,
                    spec.public_key,
                    current.persistent_keepalive,
                    spec.persistent_keepalive,
                )
            )

    if link.mtu != want.mtu:
        changes.append(SetMtu(ifname, link.mtu, want.mtu))
    present = {a for a in link.addresses if not _is_link_local(a)}
    for address in _sorted(present - set(want.addresses)):
        changes.append(RemoveAddress(ifname, address))
    for address in _sorted(set(want.addresses) - present):
        changes.append(AddAddress(ifname, address))
    if not link.up:
        changes.append(SetLinkUp(ifname))
    for route in _sorted(link.routes - set(want.routes)):
        changes.append(RemoveRoute(ifname, route))
    for route in _sorted(set(want.routes) - link.routes):
        changes.append(AddRoute(ifname, route))
    return changes


def diff_device(
    desired: Sequence[DesiredInterface],
    actual: Mapping[str, InterfaceState],
    remove: Collection[str] = (),
    names: Mapping[str, str] | None = None,
) -> list[DeviceChange]:
    """Every change that turns ``actual`` into ``desired``.

    ``actual`` holds the interfaces that exist (missing ones are created);
    ``remove`` names owned interfaces that are no longer desired.
    """
    changes: list[DeviceChange] = []
    for want in desired:
        changes.extend(diff_interface(want, actual.get(want.ifname), names))
    for ifname in sorted(remove):
        if ifname in actual:
            changes.append(RemoveInterface(ifname))
    return changes
