"""The link layer through pyroute2 ``IPRoute``: MTU, addresses, link state, routes.

Works for every WireGuard implementation (a wireguard-go device reads as kind
``tun``, so links are looked up by name, never detected by kind). ``netns``
selects a named network namespace; the agent normally runs inside the node's
namespace and leaves it None.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from drago.agent.device import LinkState
from drago.errors import BackendError

IFF_UP = 0x1
RTPROT_KERNEL = 2
RT_TABLE_MAIN = 254
RTN_UNICAST = 1


class IPRouteLinks:
    """:class:`~drago.agent.backends.base.LinkBackend` over pyroute2."""

    def __init__(self, netns: str | None = None) -> None:
        self.netns = netns

    def _ipr(self) -> Any:
        return IPRoute(netns=self.netns) if self.netns else IPRoute()

    def _index(self, ipr: Any, ifname: str) -> int | None:
        found = ipr.link_lookup(ifname=ifname)
        return int(found[0]) if found else None

    def _call(self, ifname: str, what: str, action: Any) -> None:
        with self._ipr() as ipr:
            index = self._index(ipr, ifname)
            if index is None:
                raise BackendError(f"{ifname}: {what}: no such link")
            try:
                action(ipr, index)
            except NetlinkError as exc:
                raise BackendError(f"{ifname}: {what}: {exc}") from None

    def exists(self, ifname: str) -> bool:
        with self._ipr() as ipr:
            return self._index(ipr, ifname) is not None

    def read(self, ifname: str) -> LinkState | None:
        with self._ipr() as ipr:
            index = self._index(ipr, ifname)
            if index is None:
                return None
            link = ipr.get_links(index)[0]
            addresses = frozenset(
                str(ipaddress.ip_interface(f"{a.get('address')}/{a['prefixlen']}"))
                for a in ipr.get_addr(index=index)
            )
            routes = frozenset(
                str(ipaddress.ip_network(f"{r.get('dst')}/{r['dst_len']}"))
                for r in ipr.get_routes(oif=index, table=RT_TABLE_MAIN)
                if r["proto"] != RTPROT_KERNEL
                and r["type"] == RTN_UNICAST
                and r.get("dst") is not None
                and not ipaddress.ip_network(f"{r.get('dst')}/{r['dst_len']}").is_link_local
            )
            return LinkState(
                up=bool(link["flags"] & IFF_UP),
                mtu=link.get("mtu"),
                addresses=addresses,
                routes=routes,
            )

    def set_mtu(self, ifname: str, mtu: int) -> None:
        self._call(ifname, f"mtu {mtu}", lambda ipr, i: ipr.link("set", index=i, mtu=mtu))

    def add_address(self, ifname: str, address: str) -> None:
        iface = ipaddress.ip_interface(address)
        self._call(
            ifname,
            f"address + {address}",
            lambda ipr, i: ipr.addr(
                "add", index=i, address=str(iface.ip), prefixlen=iface.network.prefixlen
            ),
        )

    def remove_address(self, ifname: str, address: str) -> None:
        iface = ipaddress.ip_interface(address)
        self._call(
            ifname,
            f"address - {address}",
            lambda ipr, i: ipr.addr(
                "del", index=i, address=str(iface.ip), prefixlen=iface.network.prefixlen
            ),
        )

    def set_up(self, ifname: str) -> None:
        self._call(ifname, "link up", lambda ipr, i: ipr.link("set", index=i, state="up"))

    def add_route(self, ifname: str, destination: str) -> None:
        self._call(
            ifname,
            f"route + {destination}",
            lambda ipr, i: ipr.route("replace", dst=destination, oif=i),
        )

    def remove_route(self, ifname: str, destination: str) -> None:
        self._call(
            ifname,
            f"route - {destination}",
            lambda ipr, i: ipr.route("del", dst=destination, oif=i),
        )

    def delete(self, ifname: str) -> None:
        with self._ipr() as ipr:
            index = self._index(ipr, ifname)
            if index is None:
                return
            try:
                ipr.link("del", index=index)
            except NetlinkError as exc:
                raise BackendError(f"{ifname}: delete link: {exc}") from None
