"""The kernel backend: the WireGuard module through pyroute2's generic netlink.

Needs the ``wireguard`` kernel module (:func:`kernel_available`). Devices are
created and deleted as links of kind ``wireguard`` through ``IPRoute``.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pyroute2 import IPRoute, WireGuard
from pyroute2.netlink.exceptions import NetlinkError

from drago.agent.backends.base import DeviceUpdate, LinkBackend
from drago.agent.backends.setdevice import send_peers
from drago.agent.device import (
    DeviceState,
    PeerState,
    format_endpoint,
    normalize_cidr,
)
from drago.errors import BackendError

MODULE_PATHS = (Path("/sys/module/wireguard"),)
#: The link kind of a kernel WireGuard device.
KIND = "wireguard"


def kernel_available() -> bool:
    """Whether the WireGuard kernel module is loaded."""
    return any(p.exists() for p in MODULE_PATHS)


def _attr(message: Any, name: str) -> Any:
    return message.get_attr(name)


def _key(value: Any) -> str:
    """A key attribute as base64 text (pyroute2 decodes keys to base64 ``bytes``)."""
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def _peer(peer: Any) -> PeerState:
    """One peer entry of a device dump.

    ``WGPEER_A_ENDPOINT`` and ``WGPEER_A_LAST_HANDSHAKE_TIME`` decode to small
    mappings (``addr``/``port``, ``tv_sec``); each allowed IP carries ``addr``.
    """
    endpoint = _attr(peer, "WGPEER_A_ENDPOINT")
    handshake = _attr(peer, "WGPEER_A_LAST_HANDSHAKE_TIME")
    seconds = int(handshake["tv_sec"]) if handshake else 0
    return PeerState(
        public_key=_key(_attr(peer, "WGPEER_A_PUBLIC_KEY")),
        endpoint=(
            format_endpoint(str(endpoint["addr"]), int(endpoint["port"]))
            if endpoint and endpoint.get("addr")
            else None
        ),
        allowed_ips=_allowed_ips(peer),
        persistent_keepalive=int(_attr(peer, "WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL") or 0),
        latest_handshake=float(seconds) if seconds else None,
        rx_bytes=int(_attr(peer, "WGPEER_A_RX_BYTES") or 0),
        tx_bytes=int(_attr(peer, "WGPEER_A_TX_BYTES") or 0),
    )


def _allowed_ips(peer: Any) -> tuple[str, ...]:
    return tuple(normalize_cidr(ip["addr"]) for ip in _attr(peer, "WGPEER_A_ALLOWEDIPS") or [])


def parse_device(messages: Iterable[Any]) -> DeviceState:
    """A device from the messages of one ``WG_CMD_GET_DEVICE`` dump.

    The kernel splits a large device over several messages, and a peer whose
    allowed IPs do not fit continues in the next message with only its public
    key and the rest of its allowed IPs: those are appended, never a new peer.
    """
    public_key: str | None = None
    listen_port: int | None = None
    peers: dict[str, PeerState] = {}
    for message in messages:
        public = _attr(message, "WGDEVICE_A_PUBLIC_KEY")
        if public is not None and any(base64.b64decode(public)):
            public_key = _key(public)
        port = _attr(message, "WGDEVICE_A_LISTEN_PORT")
        if port:
            listen_port = int(port)
        for entry in _attr(message, "WGDEVICE_A_PEERS") or []:
            key = _key(_attr(entry, "WGPEER_A_PUBLIC_KEY"))
            known = peers.get(key)
            if known is None:
                peers[key] = _peer(entry)
            else:
                extra = _allowed_ips(entry)
                peers[key] = replace(known, allowed_ips=known.allowed_ips + extra)
    return DeviceState(public_key=public_key, listen_port=listen_port, peers=peers)


class KernelBackend:
    """:class:`~drago.agent.backends.base.WireGuardBackend` over generic netlink."""

    name = "kernel"

    def __init__(self, links: LinkBackend) -> None:
        self.links = links

    def exists(self, ifname: str) -> bool:
        """Whether a link of kind ``wireguard`` has that name: one rtnetlink query, where
        :meth:`read` would dump (and decode) every peer of the device."""
        try:
            with IPRoute() as ipr:
                found = ipr.link_lookup(ifname=ifname)
                links = ipr.get_links(found[0]) if found else []
        except (NetlinkError, OSError):
            return False
        for link in links:
            info = link.get_attr("IFLA_LINKINFO")
            if info is not None and info.get_attr("IFLA_INFO_KIND") == KIND:
                return True
        return False

    def create(self, ifname: str) -> None:
        try:
            with IPRoute() as ipr:
                ipr.link("add", ifname=ifname, kind=KIND)
        except NetlinkError as exc:
            raise BackendError(f"{ifname}: cannot create a kernel WireGuard link: {exc}") from None

    def delete(self, ifname: str) -> None:
        self.links.delete(ifname)

    def read(self, ifname: str) -> DeviceState:
        try:
            with WireGuard() as wg:
                messages = list(wg.info(ifname))
        except (NetlinkError, OSError) as exc:
            raise BackendError(f"{ifname}: cannot read the WireGuard device: {exc}") from None
        return parse_device(messages)

    def apply(self, ifname: str, update: DeviceUpdate) -> None:
        """The device's key and port, then the peers packed into few netlink requests
        (:mod:`~drago.agent.backends.setdevice`); a failure leaves the earlier requests."""
        try:
            if update.private_key is not None or update.listen_port is not None:
                with WireGuard() as wg:
                    wg.set(ifname, private_key=update.private_key, listen_port=update.listen_port)
            if update.peers:
                asyncio.run(send_peers(ifname, update.peers))
        except (NetlinkError, OSError, ValueError) as exc:
            raise BackendError(f"{ifname}: the kernel rejected the update: {exc}") from None
