"""One contract, every backend: the fake always, userspace via real wireguard-go
in a namespace, kernel where the module is loaded: inside the VM of the kernel
tier (``tests/kernel/test_vm.py`` runs the ``[kernel]`` cases there)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drago.agent.backends.base import DeviceUpdate, LinkBackend, PeerUpdate, WireGuardBackend
from drago.agent.backends.fake import FakeHost
from drago.agent.backends.links import IPRouteLinks
from drago.agent.backends.netlink import KernelBackend, kernel_available
from drago.agent.backends.wireguard_go import UserspaceBackend
from drago.agent.keys import KeyPair
from drago.errors import BackendError
from tests.support.netns import Lab, netns_unavailable


@dataclass
class Subject:
    wireguard: WireGuardBackend
    links: LinkBackend
    ifname: str


def wrapper(tmp_path: Path, ns: str) -> str:
    """A wireguard-go program that runs inside namespace ``ns`` (as --wireguard-go)."""
    script = tmp_path / "wireguard-go-in-ns"
    script.write_text(f'#!/bin/sh\nexec ip netns exec {ns} wireguard-go "$@"\n')
    script.chmod(0o755)
    return str(script)


@pytest.fixture(
    params=[
        "fake",
        pytest.param("userspace", marks=pytest.mark.netns),
        pytest.param("kernel", marks=[pytest.mark.netns, pytest.mark.kernel]),
    ]
)
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    if request.param == "fake":
        host = FakeHost()
        yield Subject(host, host.links(), "dga1")
        return
    if request.param == "kernel":
        if not kernel_available():
            pytest.skip(
                "kernel backend: no wireguard module here; tests/kernel/test_vm.py runs it in a VM"
            )
        kernel_links = IPRouteLinks()
        kernel = KernelBackend(kernel_links)
        name = f"dga{secrets.token_hex(2)}"
        yield Subject(kernel, kernel_links, name)
        kernel.delete(name)
        return
    reason = netns_unavailable()
    if reason:
        pytest.skip(f"userspace backend: {reason}")
    the_lab: Lab = request.getfixturevalue("lab")
    ns = the_lab.namespace("c")
    ifname = f"dga{secrets.token_hex(2)}"
    the_lab.track_ifname(ifname)
    links = IPRouteLinks(netns=ns.name)
    backend = UserspaceBackend(links, wrapper(tmp_path, ns.name), log_dir=tmp_path)
    yield Subject(backend, links, ifname)
    backend.delete(ifname)  # reaps the wireguard-go process the backend started


A, B, C = (KeyPair.generate() for _ in range(3))
OWN = KeyPair.generate()


def configure(s: Subject) -> None:
    s.wireguard.create(s.ifname)
    s.wireguard.apply(
        s.ifname,
        DeviceUpdate(
            private_key=OWN.private_key,
            listen_port=41001,
            peers=(
                PeerUpdate(A.public_key, endpoint="127.0.0.1:41002", allowed_ips=("10.5.0.2/32",)),
                PeerUpdate(
                    B.public_key,
                    persistent_keepalive=25,
                    allowed_ips=("10.5.0.3/32", "192.168.5.0/24"),
                ),
            ),
        ),
    )


def test_create_configure_and_read_back(subject: Subject) -> None:
    assert not subject.wireguard.exists(subject.ifname)
    configure(subject)
    assert subject.wireguard.exists(subject.ifname)
    device = subject.wireguard.read(subject.ifname)
    assert device.public_key == OWN.public_key
    assert device.listen_port == 41001
    assert set(device.peers) == {A.public_key, B.public_key}
    a, b = device.peers[A.public_key], device.peers[B.public_key]
    assert a.endpoint == "127.0.0.1:41002"
    assert a.allowed_ips == ("10.5.0.2/32",)
    assert a.persistent_keepalive == 0
    assert b.endpoint is None
    assert set(b.allowed_ips) == {"10.5.0.3/32", "192.168.5.0/24"}
    assert b.persistent_keepalive == 25
    assert b.latest_handshake is None


def test_update_only_touches_one_peer(subject: Subject) -> None:
    configure(subject)
    before = subject.wireguard.read(subject.ifname).peers[B.public_key]
    subject.wireguard.apply(
        subject.ifname,
        DeviceUpdate(
            peers=(
                PeerUpdate(A.public_key, update_only=True, endpoint="127.0.0.1:41009"),
                PeerUpdate(C.public_key, update_only=True, endpoint="127.0.0.1:41010"),
            )
        ),
    )
    device = subject.wireguard.read(subject.ifname)
    assert device.peers[A.public_key].endpoint == "127.0.0.1:41009"
    assert C.public_key not in device.peers  # update_only never creates
    assert device.peers[B.public_key] == before


def test_allowed_ips_add_replace_and_move(subject: Subject) -> None:
    configure(subject)
    subject.wireguard.apply(
        subject.ifname,
        DeviceUpdate(
            peers=(PeerUpdate(A.public_key, update_only=True, allowed_ips=("10.6.0.0/24",)),)
        ),
    )
    assert set(subject.wireguard.read(subject.ifname).peers[A.public_key].allowed_ips) == {
        "10.5.0.2/32",
        "10.6.0.0/24",
    }
    subject.wireguard.apply(
        subject.ifname,
        DeviceUpdate(
            peers=(
                PeerUpdate(
                    A.public_key,
                    update_only=True,
                    replace_allowed_ips=True,
                    allowed_ips=("192.168.5.0/24",),
                ),
            )
        ),
    )
    peers = subject.wireguard.read(subject.ifname).peers
    assert peers[A.public_key].allowed_ips == ("192.168.5.0/24",)
    # an allowed IP belongs to one peer: it moved away from B
    assert peers[B.public_key].allowed_ips == ("10.5.0.3/32",)


def test_remove_peer_and_keepalive_off(subject: Subject) -> None:
    configure(subject)
    subject.wireguard.apply(
        subject.ifname,
        DeviceUpdate(
            peers=(
                PeerUpdate(A.public_key, remove=True),
                PeerUpdate(B.public_key, update_only=True, persistent_keepalive=0),
            )
        ),
    )
    peers = subject.wireguard.read(subject.ifname).peers
    assert list(peers) == [B.public_key]
    assert peers[B.public_key].persistent_keepalive == 0


def test_many_allowed_ips_read_back_whole(subject: Subject) -> None:
    """A peer too large for one netlink message: the kernel continues it in the next
    message with only its key and the rest of its allowed IPs."""
    configure(subject)
    many = tuple(f"10.{64 + i // 250}.{i % 250}.1/32" for i in range(2000))
    subject.wireguard.apply(
        subject.ifname,
        DeviceUpdate(peers=(PeerUpdate(B.public_key, update_only=True, allowed_ips=many),)),
    )
    device = subject.wireguard.read(subject.ifname)
    b = device.peers[B.public_key]
    assert len(b.allowed_ips) == 2002
    assert set(b.allowed_ips) == {"10.5.0.3/32", "192.168.5.0/24", *many}
    assert b.persistent_keepalive == 25
    assert device.peers[A.public_key].endpoint == "127.0.0.1:41002"
    assert set(device.peers) == {A.public_key, B.public_key}


def test_link_settings(subject: Subject) -> None:
    subject.wireguard.create(subject.ifname)
    link = subject.links.read(subject.ifname)
    assert link is not None and not link.up
    subject.links.set_mtu(subject.ifname, 1380)
    subject.links.add_address(subject.ifname, "10.5.0.1/24")
    subject.links.set_up(subject.ifname)
    subject.links.add_address(subject.ifname, "fd00:5::1/64")
    subject.links.add_route(subject.ifname, "192.168.66.0/24")
    subject.links.add_route(subject.ifname, "fd00:66::/64")
    link = subject.links.read(subject.ifname)
    assert link is not None
    assert link.up and link.mtu == 1380
    assert {"10.5.0.1/24", "fd00:5::1/64"} <= link.addresses
    # connected and link-local routes are not the agent's
    assert link.routes == frozenset({"192.168.66.0/24", "fd00:66::/64"})
    subject.links.remove_route(subject.ifname, "192.168.66.0/24")
    subject.links.remove_route(subject.ifname, "fd00:66::/64")
    subject.links.remove_address(subject.ifname, "10.5.0.1/24")
    link = subject.links.read(subject.ifname)
    assert link is not None
    assert link.routes == frozenset()
    assert "10.5.0.1/24" not in link.addresses


def test_delete(subject: Subject) -> None:
    configure(subject)
    subject.wireguard.delete(subject.ifname)
    assert not subject.wireguard.exists(subject.ifname)
    assert subject.links.read(subject.ifname) is None
    with pytest.raises(BackendError):
        subject.wireguard.read(subject.ifname)
