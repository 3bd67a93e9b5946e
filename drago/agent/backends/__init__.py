"""WireGuard backends: ``userspace`` (UAPI), ``kernel`` (netlink), ``fake`` (memory)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from drago.agent.backends.base import DeviceUpdate, LinkBackend, PeerUpdate, WireGuardBackend
from drago.agent.backends.links import IPRouteLinks
from drago.agent.backends.netlink import KernelBackend, kernel_available
from drago.agent.backends.wireguard_go import UserspaceBackend
from drago.errors import BackendError

BackendChoice = Literal["auto", "kernel", "userspace"]


def select_backend(
    choice: BackendChoice,
    *,
    wireguard_go: str = "wireguard-go",
    log_dir: Path | None = None,
    links: LinkBackend | None = None,
) -> tuple[WireGuardBackend, LinkBackend]:
    """The WireGuard and link backends for ``choice``; ``auto`` picks kernel when loaded."""
    link_backend: LinkBackend = links if links is not None else IPRouteLinks()
    if choice == "auto":
        choice = "kernel" if kernel_available() else "userspace"
    if choice == "kernel":
        if not kernel_available():
            raise BackendError(
                "--backend kernel: the wireguard kernel module is not loaded "
                "(modprobe wireguard, or use --backend userspace)"
            )
        return KernelBackend(link_backend), link_backend
    return UserspaceBackend(link_backend, wireguard_go, log_dir=log_dir), link_backend


__all__ = [
    "BackendChoice",
    "DeviceUpdate",
    "LinkBackend",
    "PeerUpdate",
    "WireGuardBackend",
    "select_backend",
]
