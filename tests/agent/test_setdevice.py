"""The kernel backend's set requests, encoded and decoded by pyroute2 without a kernel.

The requests use the same attributes as the kernel's dump, so decoding them with
the backend's own dump parser shows what the kernel would hold afterwards. That
they really apply is the contract suite's job, in the kernel VM.
"""

from __future__ import annotations

import pytest
from pyroute2.netlink.generic.wireguard import (
    WGPEER_F_REMOVE_ME,
    WGPEER_F_REPLACE_ALLOWEDIPS,
    WGPEER_F_UPDATE_ONLY,
    wgmsg,
)

from drago.agent.backends.base import PeerUpdate
from drago.agent.backends.netlink import parse_device
from drago.agent.backends.setdevice import IPS_PER_PART, MESSAGE_BUDGET, set_messages
from drago.agent.device import DeviceState
from drago.agent.keys import KeyPair

KEYS = [KeyPair.generate().public_key for _ in range(1001)]


def round_trip(peers: tuple[PeerUpdate, ...]) -> tuple[list[wgmsg], DeviceState]:
    decoded = []
    for request in set_messages("dgk0", 0x1F, peers):
        request.encode()
        assert len(request.data) <= MESSAGE_BUDGET + 64  # header and ifname
        back = wgmsg(request.data)
        back.decode()
        decoded.append(back)
    return decoded, parse_device(decoded)


def flags(message: wgmsg) -> list[int]:
    return [peer.get_attr("WGPEER_A_FLAGS") for peer in message.get_attr("WGDEVICE_A_PEERS")]


def test_thousand_peers_in_few_requests() -> None:
    peers = tuple(
        PeerUpdate(
            KEYS[i],
            endpoint=f"198.18.{i // 250}.{i % 250 + 1}:51820",
            persistent_keepalive=25,
            allowed_ips=(f"10.100.{i // 250}.{i % 250}/32", f"fd00::{i:x}/128"),
        )
        for i in range(1000)
    )
    messages, device = round_trip(peers)
    assert len(messages) <= 8
    assert set(device.peers) == set(KEYS[:1000])
    last = device.peers[KEYS[999]]
    assert last.endpoint == "198.18.3.250:51820"
    assert last.allowed_ips == ("10.100.3.249/32", "fd00::3e7/128")
    assert last.persistent_keepalive == 25
    assert all(f == 0 for m in messages for f in flags(m))


def test_a_large_peer_is_split_and_only_its_first_part_replaces() -> None:
    many = tuple(f"10.{64 + i // 250}.{i % 250}.0/24" for i in range(2 * IPS_PER_PART + 7))
    big = PeerUpdate(KEYS[0], endpoint="[fd00::1]:7", replace_allowed_ips=True, allowed_ips=many)
    messages, device = round_trip((big, PeerUpdate(KEYS[1], remove=True)))
    parts = [f for m in messages for f in flags(m)]
    assert parts == [
        WGPEER_F_REPLACE_ALLOWEDIPS,
        WGPEER_F_UPDATE_ONLY,
        WGPEER_F_UPDATE_ONLY,
        WGPEER_F_REMOVE_ME,
    ]
    assert device.peers[KEYS[0]].allowed_ips == many
    assert device.peers[KEYS[0]].endpoint == "[fd00::1]:7"


def test_update_only_keepalive_off_and_clearing_allowed_ips() -> None:
    update = PeerUpdate(
        KEYS[2],
        update_only=True,
        endpoint="[2001:db8::1]:51820",
        persistent_keepalive=0,
        replace_allowed_ips=True,
    )
    messages, device = round_trip((update,))
    (peer,) = messages[0].get_attr("WGDEVICE_A_PEERS")
    assert peer.get_attr("WGPEER_A_FLAGS") == WGPEER_F_UPDATE_ONLY | WGPEER_F_REPLACE_ALLOWEDIPS
    assert peer.get_attr("WGPEER_A_ALLOWEDIPS") == []
    assert peer.get_attr("WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL") == 0
    assert device.peers[KEYS[2]].endpoint == "[2001:db8::1]:51820"


def test_a_removal_sends_only_the_key_and_the_flag() -> None:
    messages, _ = round_trip((PeerUpdate(KEYS[3], remove=True, endpoint="1.2.3.4:5"),))
    (peer,) = messages[0].get_attr("WGDEVICE_A_PEERS")
    assert [name for name, _ in peer["attrs"]] == ["WGPEER_A_PUBLIC_KEY", "WGPEER_A_FLAGS"]
    assert peer.get_attr("WGPEER_A_FLAGS") == WGPEER_F_REMOVE_ME


def test_a_malformed_key_is_refused_before_encoding() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        set_messages("dgk0", 0x1F, (PeerUpdate("c2hvcnQ=", allowed_ips=("10.0.0.1/32",)),))
