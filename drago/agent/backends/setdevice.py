"""``WG_CMD_SET_DEVICE`` requests with many peers each, sized to fit netlink.

pyroute2's ``WireGuard.set`` sends one peer per request and waits for its
answer: 1,000 peers cost 1,000 round trips (about 36x ``wg setconf`` on the same
kernel device, see docs/benchmarks.md). The kernel takes any number of peers
in one request's ``WGDEVICE_A_PEERS``, within two limits: an attribute's length
is 16 bits, and one ``sendmsg`` carries at most the socket's send buffer. So the
peers are packed into messages of at most :data:`MESSAGE_BUDGET` bytes, and a
peer with more allowed IPs than fit is split: its first part carries its flags,
endpoint and keepalive, the other parts only more allowed IPs (``update_only``,
never ``replace_allowed_ips``), as ``wg`` itself does.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
from pyroute2.netlink.generic.wireguard import (
    WG_CMD_SET_DEVICE,
    WG_GENL_VERSION,
    WGPEER_F_REMOVE_ME,
    WGPEER_F_REPLACE_ALLOWEDIPS,
    WGPEER_F_UPDATE_ONLY,
    AsyncWireGuard,
    wgmsg,
)

from drago.agent.backends.base import PeerUpdate
from drago.agent.device import split_endpoint

KEY_BYTES = 32
#: Bytes of peer attributes per message: well under the 64 KiB an attribute can hold.
MESSAGE_BUDGET = 32 * 1024
#: Allowed IPs in one part of a peer (at most 40 bytes each: 20 KiB).
IPS_PER_PART = 500
#: Upper bounds of the encoded sizes: a peer without allowed IPs, one allowed IP.
PEER_BYTES = 96
ALLOWED_IP_BYTES = 40
#: Messages per ``sendmsg`` (the default send buffer is about 208 KiB).
MESSAGES_PER_SEND = 4


@dataclass(frozen=True)
class PeerPart:
    """One peer's attributes in one message."""

    update: PeerUpdate
    allowed_ips: tuple[str, ...]
    first: bool

    def size(self) -> int:
        return PEER_BYTES + ALLOWED_IP_BYTES * len(self.allowed_ips)

    def attrs(self) -> list[list[Any]]:
        peer = self.update
        if len(base64.b64decode(peer.public_key, validate=True)) != KEY_BYTES:
            raise ValueError(f"{peer.public_key!r} is not a 32-byte base64 key")
        attrs: list[list[Any]] = [["WGPEER_A_PUBLIC_KEY", peer.public_key]]
        if peer.remove:
            attrs.append(["WGPEER_A_FLAGS", WGPEER_F_REMOVE_ME])
            return attrs
        flags = WGPEER_F_UPDATE_ONLY if peer.update_only or not self.first else 0
        if self.first and peer.replace_allowed_ips:
            flags |= WGPEER_F_REPLACE_ALLOWEDIPS
        attrs.append(["WGPEER_A_FLAGS", flags])
        if self.first and peer.endpoint is not None:
            host, port = split_endpoint(peer.endpoint)
            attrs.append(["WGPEER_A_ENDPOINT", {"addr": host, "port": port}])
        if self.first and peer.persistent_keepalive is not None:
            attrs.append(["WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL", peer.persistent_keepalive])
        if self.allowed_ips or (self.first and peer.replace_allowed_ips):
            attrs.append(["WGPEER_A_ALLOWEDIPS", [_allowed_ip(ip) for ip in self.allowed_ips]])
        return attrs


def _allowed_ip(cidr: str) -> dict[str, Any]:
    network = ipaddress.ip_network(cidr, strict=False)
    family = 2 if network.version == 4 else 10  # AF_INET, AF_INET6
    return {
        "attrs": [
            ["WGALLOWEDIP_A_FAMILY", family],
            ["WGALLOWEDIP_A_IPADDR", network.network_address.packed],
            ["WGALLOWEDIP_A_CIDR_MASK", network.prefixlen],
        ]
    }


def peer_parts(peer: PeerUpdate) -> Iterator[PeerPart]:
    """The parts of one peer: one, unless its allowed IPs exceed :data:`IPS_PER_PART`."""
    if peer.remove:
        yield PeerPart(peer, (), first=True)
        return
    ips = peer.allowed_ips
    yield PeerPart(peer, ips[:IPS_PER_PART], first=True)
    for start in range(IPS_PER_PART, len(ips), IPS_PER_PART):
        yield PeerPart(peer, ips[start : start + IPS_PER_PART], first=False)


def pack(peers: tuple[PeerUpdate, ...]) -> list[list[PeerPart]]:
    """The peers' parts in order, grouped into messages within :data:`MESSAGE_BUDGET`."""
    messages: list[list[PeerPart]] = []
    current: list[PeerPart] = []
    used = 0
    for peer in peers:
        for part in peer_parts(peer):
            if current and used + part.size() > MESSAGE_BUDGET:
                messages.append(current)
                current, used = [], 0
            current.append(part)
            used += part.size()
    if current:
        messages.append(current)
    return messages


def set_messages(ifname: str, family_id: int, peers: tuple[PeerUpdate, ...]) -> list[wgmsg]:
    """The ``WG_CMD_SET_DEVICE`` requests (with ACK) that apply ``peers`` in order."""
    requests = []
    for parts in pack(peers):
        msg = wgmsg()
        msg["cmd"] = WG_CMD_SET_DEVICE
        msg["version"] = WG_GENL_VERSION
        msg["header"]["type"] = family_id
        msg["header"]["flags"] = NLM_F_REQUEST | NLM_F_ACK
        msg["attrs"] = [
            ["WGDEVICE_A_IFNAME", ifname],
            ["WGDEVICE_A_PEERS", [{"attrs": part.attrs()} for part in parts]],
        ]
        requests.append(msg)
    return requests


async def send_peers(ifname: str, peers: tuple[PeerUpdate, ...]) -> None:
    """Apply ``peers`` on one socket: :data:`MESSAGES_PER_SEND` requests per ``sendmsg``.

    Raises ``NetlinkError`` at the first request the kernel refuses (the
    requests before it stay applied).
    """
    async with AsyncWireGuard() as wg:
        await wg.setup_endpoint()
        requests = set_messages(ifname, wg.prid, peers)
        for start in range(0, len(requests), MESSAGES_PER_SEND):
            async for _ in wg.nlm_request_batch(requests[start : start + MESSAGES_PER_SEND]):
                pass
