from __future__ import annotations

import pytest

from drago.agent.backends import select_backend
from drago.agent.backends.base import PeerUpdate
from drago.agent.backends.fake import FakeHost
from drago.agent.backends.netlink import KernelBackend, _peer_args, kernel_available
from drago.agent.backends.wireguard_go import UserspaceBackend
from drago.errors import BackendError

KEY = "yxxyA/yINPkIGWt2FOQFCfZStfPIHbiXjPp/eECyhX4="


def test_auto_picks_kernel_only_when_the_module_is_loaded() -> None:
    links = FakeHost().links()
    wireguard, chosen_links = select_backend("auto", links=links)
    assert chosen_links is links
    expected = KernelBackend if kernel_available() else UserspaceBackend
    assert isinstance(wireguard, expected)


@pytest.mark.skipif(kernel_available(), reason="the wireguard module is loaded here")
def test_kernel_without_the_module_says_what_to_do() -> None:
    with pytest.raises(BackendError, match="modprobe wireguard"):
        select_backend("kernel", links=FakeHost().links())


def test_netlink_peer_arguments() -> None:
    assert _peer_args(PeerUpdate(KEY, remove=True, endpoint="1.2.3.4:5")) == {
        "public_key": KEY,
        "remove": True,
    }
    assert _peer_args(
        PeerUpdate(
            KEY,
            update_only=True,
            endpoint="[2001:db8::1]:51820",
            persistent_keepalive=0,
            replace_allowed_ips=True,
        )
    ) == {
        "public_key": KEY,
        "update_only": True,
        "endpoint_addr": "2001:db8::1",
        "endpoint_port": 51820,
        "persistent_keepalive": 0,
        "replace_allowed_ips": True,
        "allowed_ips": [],
    }
