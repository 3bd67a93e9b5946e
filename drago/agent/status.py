"""The status report an agent sends after each reconcile and periodically.

Shape (``PUT /api/v1/nodes/{node}/status``, the server's ``StatusReport``):
hash and revision of the last config that applied cleanly, node-level errors,
and every peer of every interface (with its network) with latest handshake and
transfer bytes. A peer with a per-peer problem (endpoint unresolved, refused by
the device) carries it as ``problem``, and is listed even when it is not on the
device; ``problem`` is left out when there is none. Never a private key.
"""

from __future__ import annotations

from typing import Any

from drago.agent.backends.base import WireGuardBackend
from drago.agent.problems import PeerProblem
from drago.errors import BackendError
from drago.render.config import NodeConfig

#: The server stores at most this many error lines.
MAX_ERRORS = 100
MAX_ERROR_LENGTH = 4000


def build_status(
    config: NodeConfig | None,
    applied: NodeConfig | None,
    errors: list[str],
    wireguard: WireGuardBackend,
    peer_problems: tuple[PeerProblem, ...] = (),
    server: str | None = None,
) -> dict[str, Any]:
    """The report for the machine that was last reconciled towards ``config``.

    ``applied`` is the last config that applied cleanly (None before the first
    one; per-peer problems do not stop a config from counting as applied):
    only its hash is reported as applied, so the server never takes a node
    whose apply failed for in sync. When ``config`` is not that one, the first
    error line names its hash.
    """
    peers: list[dict[str, Any]] = []
    troubled: dict[tuple[str, str], list[str]] = {}
    for problem in peer_problems:
        troubled.setdefault((problem.ifname, problem.public_key), []).append(problem.message)
    problems = list(errors)
    if config is not None and (applied is None or applied.hash != config.hash):
        problems.insert(
            0, f"config {config.hash} (revision {config.revision}) is not applied cleanly"
        )
    for iface in config.interfaces if config else ():
        if not wireguard.exists(iface.ifname):
            continue
        try:
            device = wireguard.read(iface.ifname)
        except BackendError as exc:
            problems.append(exc.message)
            continue
        names = {p.public_key: p.name for p in iface.peers}
        for key, peer in sorted(device.peers.items()):
            entry: dict[str, Any] = {
                "network": iface.network,
                "name": names.get(key),
                "public_key": key,
                "endpoint": peer.endpoint,
                "latest_handshake": peer.latest_handshake,
                "rx_bytes": peer.rx_bytes,
                "tx_bytes": peer.tx_bytes,
            }
            found = troubled.get((iface.ifname, key))
            if found:
                entry["problem"] = "; ".join(found)[:MAX_ERROR_LENGTH]
            peers.append(entry)
        for key, name in sorted(names.items()):
            found = troubled.get((iface.ifname, key))
            if found and key not in device.peers:
                peers.append(
                    {
                        "network": iface.network,
                        "name": name,
                        "public_key": key,
                        "problem": "; ".join(found)[:MAX_ERROR_LENGTH],
                    }
                )
    report: dict[str, Any] = {
        "applied_hash": applied.hash if applied else None,
        "applied_revision": applied.revision if applied else None,
        "errors": [e[:MAX_ERROR_LENGTH] for e in problems[:MAX_ERRORS]],
        "peers": peers,
    }
    if server is not None:
        report["server"] = server
    return report
