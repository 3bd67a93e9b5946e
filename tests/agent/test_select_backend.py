from __future__ import annotations

import pytest

from drago.agent.backends import select_backend
from drago.agent.backends.fake import FakeHost
from drago.agent.backends.netlink import KernelBackend, kernel_available
from drago.agent.backends.wireguard_go import UserspaceBackend
from drago.errors import BackendError


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
