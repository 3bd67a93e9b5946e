"""The status report an agent sends after each reconcile and periodically.

Shape (``PUT /api/v1/nodes/{node}/status``, the server's ``StatusReport``):
applied hash and revision, errors, and every peer of every interface (with its
network) with latest handshake and transfer bytes. Never a private key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drago.agent.backends.base import WireGuardBackend
from drago.errors import BackendError
from drago.render.config import NodeConfig

#: The server stores at most this many error lines.
MAX_ERRORS = 100
MAX_ERROR_LENGTH = 4000


def build_status(
    config: NodeConfig | None,
    errors: list[str],
    wireguard: WireGuardBackend,
    skip: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The report for ``config`` as applied on the machine (``skip``: ifnames not ours)."""
    peers: list[dict[str, Any]] = []
    problems = list(errors)
    for iface in config.interfaces if config else ():
        if skip and iface.ifname in skip:
            continue
        if not wireguard.exists(iface.ifname):
            continue
        try:
            device = wireguard.read(iface.ifname)
        except BackendError as exc:
            problems.append(exc.message)
            continue
        names = {p.public_key: p.name for p in iface.peers}
        peers.extend(
            {
                "network": iface.network,
                "name": names.get(key),
                "public_key": key,
                "endpoint": peer.endpoint,
                "latest_handshake": peer.latest_handshake,
                "rx_bytes": peer.rx_bytes,
                "tx_bytes": peer.tx_bytes,
            }
            for key, peer in sorted(device.peers.items())
        )
    return {
        "applied_hash": config.hash if config else None,
        "applied_revision": config.revision if config else None,
        "errors": [e[:MAX_ERROR_LENGTH] for e in problems[:MAX_ERRORS]],
        "peers": peers,
    }
