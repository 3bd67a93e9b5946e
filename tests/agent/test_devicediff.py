from __future__ import annotations

from drago.agent.changes import (
    AddAddress,
    AddPeer,
    AddRoute,
    CreateInterface,
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
from drago.agent.desired import DesiredInterface, desired_interface
from drago.agent.device import DeviceState, InterfaceState, LinkState, PeerState
from drago.agent.devicediff import diff_device, diff_interface
from drago.agent.keys import KeyPair
from drago.render.config import PeerConfig
from tests.agent.factory import PEER_KEYS, interface, peer

OWN = KeyPair.generate()


def no_dns(host: str, port: int) -> str:
    if host.endswith(".example.net"):
        return "198.51.100.7"
    raise OSError("does not resolve")


def want(
    *peers: PeerConfig,
    address: str = "10.20.0.1/16",
    listen_port: int = 51820,
    mtu: int | None = 1420,
) -> DesiredInterface:
    config = interface(*peers, address=address, listen_port=listen_port, mtu=mtu)
    desired, problems = desired_interface(config, OWN.public_key, no_dns)
    assert problems == []
    return desired


def in_sync(desired: DesiredInterface) -> InterfaceState:
    """The live state that exactly matches ``desired``."""
    peers = {
        p.public_key: PeerState(
            public_key=p.public_key,
            endpoint=p.endpoint,
            allowed_ips=tuple(reversed(p.allowed_ips)),  # order does not matter
            persistent_keepalive=p.persistent_keepalive,
            latest_handshake=1_700_000_000.0,
            rx_bytes=10,
            tx_bytes=20,
        )
        for p in desired.peers
    }
    return InterfaceState(
        DeviceState(OWN.public_key, desired.listen_port, peers),
        LinkState(
            up=True,
            mtu=desired.mtu,
            addresses=frozenset({*desired.addresses, "fe80::1/64"}),
            routes=frozenset(desired.routes),
        ),
    )


def test_missing_interface_is_created_with_everything() -> None:
    desired = want(peer("fra-1", "192.0.2.1:51820", ("10.20.0.2/32", "192.168.10.0/24")))
    changes = diff_interface(desired, None)
    kinds = [type(c) for c in changes]
    assert kinds == [
        CreateInterface,
        SetPrivateKey,
        SetListenPort,
        AddPeer,
        SetMtu,
        AddAddress,
        SetLinkUp,
        AddRoute,
    ]
    # the interface's own /16 covers the peer's address: only the served subnet is routed
    assert [str(c) for c in changes if isinstance(c, AddRoute)] == [
        "wg-backbone: route + 192.168.10.0/24"
    ]


def test_matching_state_plans_nothing() -> None:
    desired = want(peer("fra-1"), peer("nyc-1", allowed=("10.20.0.3/32", "172.16.0.0/12")))
    assert diff_device([desired], {desired.ifname: in_sync(desired)}) == []


def test_endpoint_change_is_one_printable_change() -> None:
    before = want(peer("fra-1", "1.2.3.4:51820"))
    after = want(peer("fra-1", "5.6.7.8:51820"))
    changes = diff_interface(after, in_sync(before))
    assert [str(c) for c in changes] == [
        "wg-backbone: peer fra-1: endpoint 1.2.3.4:51820 => 5.6.7.8:51820"
    ]
    assert isinstance(changes[0], SetPeerEndpoint)


def test_hostname_endpoint_is_compared_after_resolution() -> None:
    desired = want(peer("fra-1", "fra-1.example.net:51820"))
    assert desired.peers[0].endpoint == "198.51.100.7:51820"
    assert diff_interface(desired, in_sync(desired)) == []


def test_unresolvable_endpoint_is_a_problem_not_a_change() -> None:
    config = interface(peer("fra-1", "nowhere.invalid:51820"))
    desired, problems = desired_interface(config, OWN.public_key, no_dns)
    assert desired.peers[0].endpoint is None
    assert problems == ["wg-backbone: peer fra-1: endpoint nowhere.invalid:51820: does not resolve"]
    # a peer without a desired endpoint keeps whatever endpoint it roamed to
    live = in_sync(want(peer("fra-1", "1.2.3.4:51820")))
    assert diff_interface(desired, live) == []


def test_peer_changes_touch_only_that_peer() -> None:
    before = want(peer("fra-1"), peer("nyc-1", allowed=("10.20.0.3/32",)))
    after = want(
        peer("fra-1"), peer("nyc-1", allowed=("10.20.0.3/32", "10.9.0.0/24"), keepalive=None)
    )
    changes = diff_interface(after, in_sync(before))
    assert [type(c) for c in changes] == [SetPeerAllowedIps, SetPeerKeepalive, AddRoute]
    assert {c.public_key for c in changes if isinstance(c, SetPeerAllowedIps)} == {
        PEER_KEYS["nyc-1"].public_key
    }
    assert str(changes[1]) == "wg-backbone: peer nyc-1: keepalive 25s => off"
    assert str(changes[0]) == (
        "wg-backbone: peer nyc-1: allowed ips 10.20.0.3/32 => 10.9.0.0/24, 10.20.0.3/32"
    )


def test_removed_and_added_peers() -> None:
    before = want(peer("fra-1"), peer("nyc-1", allowed=("10.20.0.3/32",)))
    after = want(peer("fra-1"), peer("lon-1", allowed=("10.20.0.4/32",)))
    names = {PEER_KEYS["nyc-1"].public_key: "nyc-1"}
    changes = diff_device([after], {after.ifname: in_sync(before)}, names=names)
    assert [type(c) for c in changes] == [RemovePeer, AddPeer]
    assert str(changes[0]).startswith("wg-backbone: peer nyc-1: removed (")


def test_interface_settings_and_link() -> None:
    desired = want(peer("fra-1"), listen_port=51821, mtu=1380, address="10.20.0.9/16")
    live = in_sync(want(peer("fra-1")))
    live = InterfaceState(
        live.device,
        LinkState(
            up=False,
            mtu=1420,
            addresses=frozenset({"10.20.0.1/16"}),
            routes=frozenset({"10.77.0.0/16"}),
        ),
    )
    changes = diff_interface(desired, live)
    assert [str(c) for c in changes] == [
        "wg-backbone: listen port 51820 => 51821",
        "wg-backbone: mtu 1420 => 1380",
        "wg-backbone: address - 10.20.0.1/16",
        "wg-backbone: address + 10.20.0.9/16",
        "wg-backbone: link down => up",
        "wg-backbone: route - 10.77.0.0/16",
    ]
    assert [type(c) for c in changes] == [
        SetListenPort,
        SetMtu,
        RemoveAddress,
        AddAddress,
        SetLinkUp,
        RemoveRoute,
    ]


def test_foreign_key_on_device_is_replaced_and_never_printed_private() -> None:
    desired = want(peer("fra-1"))
    live = in_sync(desired)
    other = KeyPair.generate()
    live = InterfaceState(DeviceState(other.public_key, 51820, live.device.peers), live.link)
    changes = diff_interface(desired, live)
    assert changes == [SetPrivateKey("wg-backbone", "backbone", other.public_key, OWN.public_key)]
    text = str(changes[0])
    assert OWN.private_key not in text and OWN.public_key in text


def test_left_network_is_removed_only_when_present() -> None:
    desired = want(peer("fra-1"))
    actual = {desired.ifname: in_sync(desired), "wg-old": InterfaceState()}
    changes = diff_device([desired], actual, remove=["wg-old", "wg-gone"])
    assert changes == [RemoveInterface("wg-old")]
    assert str(changes[0]) == "wg-old: remove interface (network left)"
