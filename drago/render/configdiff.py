"""What changes in each node's rendered config between two renders.

:func:`plan_configs` compares two mappings of node -> :class:`NodeConfig` and
returns a :class:`Plan`: per node added / removed / changed with a list of
:class:`ConfigChange` (each printable, e.g. ``peer nyc-1: endpoint 1.2.3.4:51820 =>
5.6.7.8:51820``), plus how many nodes are unchanged. Nodes with equal hashes
are skipped without comparing; given :class:`RenderResult` objects, their
configs are only materialised for nodes whose hash differs, one at a time and
without being kept in the result's cache.

A plan can be a *summary* (:class:`Limits`): at most so many nodes listed and
so many changes per listed node, with the names of the nodes and the counts of
the changes it left out. The cost of
a summary is the render plus the listed nodes: an affected node that is not
listed is only counted (its status comes from the hashes), never compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from drago.render.config import InterfaceConfig, NodeConfig, PeerConfig, PendingPeer
from drago.render.result import RenderResult

Status = Literal["added", "removed", "changed"]
STATUSES: tuple[Status, ...] = ("changed", "added", "removed")
Kind = Literal[
    "interface_added",
    "interface_removed",
    "interface_changed",
    "peer_added",
    "peer_removed",
    "peer_changed",
    "pending_added",
    "pending_removed",
]
Value = str | int | list[str] | dict[str, Any] | None

#: Interface settings compared one by one, with the words used in texts.
_SETTINGS = {
    "address": "address",
    "listen_port": "listen port",
    "mtu": "MTU",
    "dns": "DNS",
    "ifname": "interface name",
    "public_key": "public key",
}
#: Peer fields compared one by one, with the words used in texts.
_PEER_FIELDS = {
    "endpoint": "endpoint",
    "allowed_ips": "allowed IPs",
    "persistent_keepalive": "keepalive",
    "public_key": "public key",
}


def show(value: Value) -> str:
    """A value as plan texts print it."""
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k} {show(v)}" for k, v in value.items())
    return str(value)


@dataclass(frozen=True)
class ConfigChange:
    """One difference in one interface of a node's config."""

    interface: str
    kind: Kind
    #: The setting (interface_changed) or the peer (peer_* and pending_*) or the network.
    subject: str
    old: Value
    new: Value
    text: str

    def to_dict(self) -> dict[str, Value]:
        return {
            "interface": self.interface,
            "kind": self.kind,
            "subject": self.subject,
            "old": self.old,
            "new": self.new,
            "text": self.text,
        }


@dataclass(frozen=True)
class NodePlan:
    node: str
    status: Status
    changes: tuple[ConfigChange, ...]
    #: How many further changes a summary left out of ``changes``.
    omitted: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "status": self.status,
            "changes": [c.to_dict() for c in self.changes],
            "omitted_changes": self.omitted,
        }

    def omitted_line(self) -> str | None:
        if not self.omitted:
            return None
        return f"... and {self.omitted} more change{'' if self.omitted == 1 else 's'}"


@dataclass(frozen=True)
class Limits:
    """What a summary plan lists: at most ``nodes`` affected nodes (in name order)
    and ``changes`` changes per node; None means no limit. With ``only``, just
    that node is listed, with all its changes.

    ``budget`` bounds the work: once the rendered configs compared for the listed
    nodes add up to this many bytes, no further node is listed (the first one
    always is). A node's config holds all its peers, so in a large mesh a few
    nodes are already a lot to compare.
    """

    nodes: int | None = None
    changes: int | None = None
    only: str | None = None
    budget: int | None = None


@dataclass(frozen=True)
class Plan:
    """Per-node changes, sorted by node name, and the count of unchanged nodes.

    ``omitted`` names the affected nodes a summary does not list, with their status.
    """

    nodes: tuple[NodePlan, ...]
    unchanged: int
    omitted: tuple[tuple[str, Status], ...] = ()
    limits: Limits = Limits()

    @property
    def is_empty(self) -> bool:
        return not self.nodes and not self.omitted

    @property
    def omitted_nodes(self) -> int:
        return len(self.omitted)

    @property
    def complete(self) -> bool:
        """Whether every affected node is listed with every change."""
        return not self.omitted_nodes and not any(n.omitted for n in self.nodes)

    def count(self, status: Status) -> int:
        listed = sum(1 for n in self.nodes if n.status == status)
        return listed + sum(1 for _, s in self.omitted if s == status)

    def summary(self) -> str:
        if self.is_empty:
            return f"No changes ({_nodes(self.unchanged)} unchanged)."
        counts = [f"{self.count(s)} {s}" for s in STATUSES if self.count(s)]
        affected = len(self.nodes) + self.omitted_nodes
        return f"{_nodes(affected)} affected: {', '.join(counts)}; {self.unchanged} unchanged."

    def _omitted_nodes_line(self) -> str:
        counts = {s: sum(1 for _, o in self.omitted if o == s) for s in STATUSES}
        parts = [f"{counts[s]} {s}" for s in STATUSES if counts[s]]
        count = self.omitted_nodes
        return f"... and {count} more node{'' if count == 1 else 's'} ({', '.join(parts)})"

    def to_text(self) -> str:
        lines: list[str] = []
        for node in self.nodes:
            lines.append(f"node {node.node} ({node.status}):")
            lines += [f"  [{c.interface}] {c.text}" for c in node.changes]
            more = node.omitted_line()
            if more is not None:
                lines.append(f"  {more}")
        if self.omitted_nodes:
            lines.append(self._omitted_nodes_line())
        lines.append(f"{_nodes(self.unchanged)} unchanged")
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        lines = [f"**drago plan:** {self.summary()}"]
        for node in self.nodes:
            lines += ["", f"### `{node.node}` ({node.status})", ""]
            lines += [f"- `{c.interface}`: {c.text}" for c in node.changes]
            more = node.omitted_line()
            if more is not None:
                lines.append(f"- {more}")
        if self.omitted_nodes:
            lines += ["", self._omitted_nodes_line()]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "unchanged": self.unchanged,
            "counts": {s: self.count(s) for s in STATUSES},
            "omitted_nodes": self.omitted_nodes,
            "more_nodes": [{"node": n, "status": s} for n, s in self.omitted],
            "complete": self.complete,
            "limits": {
                "nodes": self.limits.nodes,
                "changes": self.limits.changes,
                "node": self.limits.only,
                "bytes": self.limits.budget,
            },
        }


def _nodes(count: int) -> str:
    return f"{count} node" if count == 1 else f"{count} nodes"


def _peer_summary(peer: PeerConfig) -> str:
    parts = [f"allowed IPs {show(list(peer.allowed_ips))}"]
    if peer.endpoint is not None:
        parts.append(f"endpoint {peer.endpoint}")
    return "; ".join(parts)


def _interface_summary(iface: InterfaceConfig) -> str:
    peers = len(iface.peers)
    return (
        f"{iface.ifname}, address {iface.address}, listen port {iface.listen_port},"
        f" {peers} peer{'' if peers == 1 else 's'}"
    )


def _whole_interface(iface: InterfaceConfig, added: bool) -> list[ConfigChange]:
    net = iface.network
    if not added:
        text = f"interface removed ({_interface_summary(iface)})"
        return [ConfigChange(net, "interface_removed", net, iface.ifname, None, text)]
    text = f"interface added ({_interface_summary(iface)})"
    changes = [ConfigChange(net, "interface_added", net, None, iface.ifname, text)]
    return changes + _peers_diff(net, (), iface.peers, (), iface.pending_peers)


def _settings_diff(old: InterfaceConfig, new: InterfaceConfig) -> list[ConfigChange]:
    changes = []
    for key, words in _SETTINGS.items():
        before, after = _value(getattr(old, key)), _value(getattr(new, key))
        if before != after:
            text = f"{words} {show(before)} => {show(after)}"
            changes.append(ConfigChange(new.network, "interface_changed", key, before, after, text))
    return changes


def _value(raw: object) -> Value:
    if isinstance(raw, tuple):
        return [str(v) for v in raw]
    if raw is None or isinstance(raw, str | int):
        return raw
    raise TypeError(f"unexpected config value {raw!r}")


def _peers_diff(
    net: str,
    old_peers: Sequence[PeerConfig],
    new_peers: Sequence[PeerConfig],
    old_pending: Sequence[PendingPeer],
    new_pending: Sequence[PendingPeer],
) -> list[ConfigChange]:
    changes: list[ConfigChange] = []
    before = {p.name: p for p in old_peers}
    after = {p.name: p for p in new_peers}
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        if was is None and now is not None:
            allowed = list(now.allowed_ips)
            text = f"peer {name} added ({_peer_summary(now)})"
            changes.append(ConfigChange(net, "peer_added", name, None, allowed, text))
        elif now is None and was is not None:
            allowed = list(was.allowed_ips)
            changes.append(
                ConfigChange(net, "peer_removed", name, allowed, None, f"peer {name} removed")
            )
        elif was is not None and now is not None and was != now:
            for key, words in _PEER_FIELDS.items():
                old_value, new_value = _value(getattr(was, key)), _value(getattr(now, key))
                if old_value == new_value:
                    continue
                if key == "persistent_keepalive":
                    text = f"peer {name}: {words} {old_value or 'off'} => {new_value or 'off'}"
                else:
                    text = f"peer {name}: {words} {show(old_value)} => {show(new_value)}"
                changes.append(
                    ConfigChange(
                        net, "peer_changed", name, {key: old_value}, {key: new_value}, text
                    )
                )
    pending_before = {p.name: p.reason for p in old_pending}
    pending_after = {p.name: p.reason for p in new_pending}
    for name in sorted(pending_before.keys() - pending_after.keys()):
        reason = pending_before[name]
        text = f"peer {name} no longer pending ({reason})"
        changes.append(ConfigChange(net, "pending_removed", name, reason, None, text))
    for name in sorted(pending_after.keys() - pending_before.keys()):
        reason = pending_after[name]
        text = f"peer {name} pending: {reason}"
        changes.append(ConfigChange(net, "pending_added", name, None, reason, text))
    return changes


def diff_configs(old: NodeConfig | None, new: NodeConfig | None) -> list[ConfigChange]:
    """Every change from ``old`` to ``new`` (None: the node does not exist)."""
    before = {i.network: i for i in old.interfaces} if old is not None else {}
    after = {i.network: i for i in new.interfaces} if new is not None else {}
    changes: list[ConfigChange] = []
    for network in sorted(before.keys() | after.keys()):
        was, now = before.get(network), after.get(network)
        if was is None and now is not None:
            changes += _whole_interface(now, added=True)
        elif now is None and was is not None:
            changes += _whole_interface(was, added=False)
        elif was is not None and now is not None and was != now:
            changes += _settings_diff(was, now)
            changes += _peers_diff(
                network, was.peers, now.peers, was.pending_peers, now.pending_peers
            )
    return changes


def _hash(configs: Mapping[str, NodeConfig], node: str) -> str:
    if isinstance(configs, RenderResult):
        return configs.hashes[node]
    return configs[node].hash


def _config(configs: Mapping[str, NodeConfig], node: str) -> tuple[NodeConfig | None, int]:
    """``node``'s config, parsed afresh from a RenderResult (not kept in its cache:
    the result may be the long-lived live one), None when it has no such node;
    and the size of its rendered form (0 when it was given parsed)."""
    if node not in configs:
        return None, 0
    if isinstance(configs, RenderResult):
        document = configs.document(node)
        return NodeConfig.model_validate_json(document), len(document)
    return configs[node], 0


def _status(
    old: Mapping[str, NodeConfig], new: Mapping[str, NodeConfig], node: str
) -> Status | None:
    if node not in old:
        return "added"
    if node not in new:
        return "removed"
    return None if _hash(old, node) == _hash(new, node) else "changed"


def plan_configs(
    old: Mapping[str, NodeConfig], new: Mapping[str, NodeConfig], limits: Limits | None = None
) -> Plan:
    """The per-node plan from the configs ``old`` to the configs ``new``; with
    ``limits``, a summary that lists only part of it (see :class:`Limits`)."""
    limits = limits or Limits()
    nodes: list[NodePlan] = []
    omitted: list[tuple[str, Status]] = []
    unchanged = 0
    cap = None if limits.only is not None else limits.changes
    spent = 0
    for node in sorted(set(old) | set(new)):
        status = _status(old, new, node)
        if status is None:
            unchanged += 1
            continue
        if limits.only is not None:
            listed = node == limits.only
        else:
            listed = limits.nodes is None or len(nodes) < limits.nodes
            if nodes and limits.budget is not None and spent >= limits.budget:
                listed = False
        if not listed:
            omitted.append((node, status))
            continue
        (before, old_size), (after, new_size) = _config(old, node), _config(new, node)
        spent += old_size + new_size
        changes = diff_configs(before, after)
        kept = changes if cap is None else changes[:cap]
        nodes.append(NodePlan(node, status, tuple(kept), len(changes) - len(kept)))
    return Plan(tuple(nodes), unchanged, tuple(omitted), limits)


__all__ = [
    "ConfigChange",
    "Limits",
    "NodePlan",
    "Plan",
    "diff_configs",
    "plan_configs",
    "show",
]
