"""Export one interface of a rendered config as a wg-quick file.

The file never holds a private key: the ``PrivateKey`` line is a comment with a
placeholder (the key lives only on the node). Everything else is plain
wg-quick, so ``wg-quick strip`` turns it into what ``wg setconf`` accepts once
the private key is filled in (``wg setconf`` also accepts it without one).
"""

from __future__ import annotations

from drago.errors import NotFound
from drago.render.config import InterfaceConfig, NodeConfig


def private_key_placeholder(node: str, network: str) -> str:
    return f"# PrivateKey = <fill in: private key of {node} for {network}>"


def _interface_lines(config: NodeConfig, iface: InterfaceConfig) -> list[str]:
    lines = [
        f"# drago: {config.node} in network {iface.network} (interface {iface.ifname})",
        f"# config hash {config.hash}",
    ]
    if config.revision:
        lines.append(f"# rendered from revision {config.revision}")
    lines.append("[Interface]")
    lines.append(private_key_placeholder(config.node, iface.network))
    if iface.public_key:
        lines.append(f"# PublicKey = {iface.public_key}")
    lines.append(f"Address = {iface.address}")
    lines.append(f"ListenPort = {iface.listen_port}")
    if iface.mtu is not None:
        lines.append(f"MTU = {iface.mtu}")
    if iface.dns:
        lines.append(f"DNS = {', '.join(iface.dns)}")
    for pending in iface.pending_peers:
        lines.append(f"# pending peer {pending.name}: {pending.reason}")
    return lines


def to_wg_quick(config: NodeConfig, network: str) -> str:
    """The wg-quick file of ``config``'s interface in ``network``.

    Raises NotFound when the node has no interface in ``network``.
    """
    iface = config.interface(network)
    if iface is None:
        joined = ", ".join(config.networks) or "none"
        raise NotFound(
            f"node {config.node} has no interface in network {network!r} (it has: {joined})"
        )
    lines = _interface_lines(config, iface)
    for peer in iface.peers:
        lines += ["", "[Peer]", f"# {peer.name}", f"PublicKey = {peer.public_key}"]
        if peer.endpoint is not None:
            lines.append(f"Endpoint = {peer.endpoint}")
        if peer.allowed_ips:
            lines.append(f"AllowedIPs = {', '.join(peer.allowed_ips)}")
        if peer.persistent_keepalive is not None:
            lines.append(f"PersistentKeepalive = {peer.persistent_keepalive}")
    return "\n".join(lines) + "\n"


__all__ = ["private_key_placeholder", "to_wg_quick"]
