"""Export one interface of a rendered config as a wg-quick file.

The file never holds a private key: the ``PrivateKey`` line is a comment with a
placeholder (the key lives only on the node). Everything else is plain
wg-quick, so ``wg-quick strip`` turns it into what ``wg setconf`` accepts once
the private key is filled in (``wg setconf`` also accepts it without one).

``wg-quick up`` runs as root and executes hook keys (``PreUp`` ...), so the writer
trusts nothing it is handed: every value is checked against its grammar
(:mod:`drago.grammar`) as it is written, and a value outside it raises
:class:`~drago.errors.UnsafeValue` instead of becoming a line.
"""

from __future__ import annotations

from collections.abc import Iterable

from drago import grammar
from drago.errors import NotFound
from drago.render.config import InterfaceConfig, NodeConfig


def private_key_placeholder(node: str, network: str) -> str:
    name = grammar.require("node name", grammar.NAME, node)
    net = grammar.require("network name", grammar.NAME, network)
    return f"# PrivateKey = <fill in: private key of {name} for {net}>"


def _comment(text: str) -> str:
    return "# " + grammar.require_text("comment", text)


def _line(key: str, what: str, pattern: str, value: object) -> str:
    return f"{key} = {grammar.require(what, pattern, value)}"


def _list(key: str, what: str, pattern: str, values: Iterable[str]) -> str:
    return f"{key} = {', '.join(grammar.require(what, pattern, v) for v in values)}"


def _number(key: str, value: object, low: int, high: int) -> str:
    return f"{key} = {grammar.require_int(key, value, low, high)}"


def _interface_lines(config: NodeConfig, iface: InterfaceConfig) -> list[str]:
    node = grammar.require("node name", grammar.NAME, config.node)
    network = grammar.require("network name", grammar.NAME, iface.network)
    ifname = grammar.require("interface name", grammar.IFNAME, iface.ifname)
    digest = grammar.require("config hash", grammar.CONFIG_HASH, config.hash)
    lines = [
        _comment(f"drago: {node} in network {network} (interface {ifname})"),
        _comment(f"config hash {digest}"),
    ]
    if config.revision:
        revision = grammar.require("revision", grammar.REVISION, config.revision)
        lines.append(_comment(f"rendered from revision {revision}"))
    lines.append("[Interface]")
    lines.append(private_key_placeholder(node, network))
    if iface.public_key:
        lines.append("# " + _line("PublicKey", "public key", grammar.PUBLIC_KEY, iface.public_key))
    lines.append(_line("Address", "interface address", grammar.CIDR, iface.address))
    lines.append(_number("ListenPort", iface.listen_port, 1, 65535))
    if iface.mtu is not None:
        lines.append(_number("MTU", iface.mtu, 576, 65535))
    if iface.dns:
        lines.append(_list("DNS", "DNS server address", grammar.IP, iface.dns))
    for pending in iface.pending_peers:
        name = grammar.require("peer name", grammar.NAME, pending.name)
        lines.append(_comment(f"pending peer {name}: {pending.reason}"))
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
        lines += [
            "",
            "[Peer]",
            _comment(grammar.require("peer name", grammar.NAME, peer.name)),
            _line("PublicKey", "public key", grammar.PUBLIC_KEY, peer.public_key),
        ]
        if peer.endpoint is not None:
            lines.append(_line("Endpoint", "endpoint", grammar.ENDPOINT, peer.endpoint))
        if peer.allowed_ips:
            lines.append(_list("AllowedIPs", "allowed IP range", grammar.CIDR, peer.allowed_ips))
        if peer.persistent_keepalive is not None:
            lines.append(_number("PersistentKeepalive", peer.persistent_keepalive, 1, 65535))
    return "\n".join(lines) + "\n"


__all__ = ["private_key_placeholder", "to_wg_quick"]
