"""The outcome of one render: every node's hash now, its config on demand."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from itertools import chain, compress
from operator import is_not
from types import MappingProxyType

from drago.errors import NotFound
from drago.render.canonical import canonical_object
from drago.render.config import NodeConfig, canonical_json, envelope
from drago.render.delta import FIELDS
from drago.render.fragments import InterfacePart, node_bytes


@dataclass(frozen=True)
class PeerChanges:
    """What a render changed in the interface parts of the render of ``since``:
    per network patched from it, the peers whose entries may differ (every other
    entry is the same object). Networks not listed were resolved anew."""

    since: str
    peers: Mapping[str, frozenset[str]]


#: The bytes of a document around its parts, hash, node name and revision.
_ENVELOPE_SIZE = len('{"hash":"","interfaces":[],"node":"","revision":}')


class RenderResult(Mapping[str, NodeConfig]):
    """Node name -> :class:`NodeConfig` (parsed lazily), plus hashes and changes.

    ``hashes`` holds every node's hash. ``changed`` names the nodes whose hash
    is new or differs from the render before this one, ``removed`` the nodes
    that are gone; nodes in neither need not be woken.
    """

    def __init__(
        self,
        revision: str | None,
        parts: Mapping[str, tuple[InterfacePart, ...]],
        hashes: Mapping[str, str],
        previous: Mapping[str, str],
        *,
        changes: PeerChanges | None = None,
    ) -> None:
        """``changes``: what the renderer changed from the parts of an earlier
        render (it makes :meth:`delta_document` from that render cheaper)."""
        self.revision = revision
        self._changes = changes
        self._parts = parts
        self.hashes: Mapping[str, str] = MappingProxyType(dict(hashes))
        self.changed = frozenset(n for n, h in hashes.items() if previous.get(n) != h)
        self.removed = frozenset(n for n in previous if n not in hashes)
        self._configs: dict[str, NodeConfig] = {}

    def with_previous(self, previous: Mapping[str, str]) -> RenderResult:
        """The same configs, with ``changed`` and ``removed`` relative to ``previous``."""
        return RenderResult(
            self.revision, self._parts, self.hashes, previous, changes=self._changes
        )

    def canonical_bytes(self, node: str) -> bytes:
        """The canonical form of ``node``'s config (what its hash is computed over)."""
        return node_bytes(node, self._node_parts(node))

    def document(self, node: str) -> bytes:
        """The JSON served to ``node``'s agent, with ``hash`` and ``revision``."""
        return envelope(self.canonical_bytes(node), self.hashes[node], self.revision)

    def document_size(self, node: str) -> int:
        """The length of :meth:`document`, without building it (names and
        revisions are ASCII without escapes: their grammar says so)."""
        parts = self._node_parts(node)
        revision = 4 if self.revision is None else len(self.revision) + 2  # null or "..."
        separators = max(len(parts) - 1, 0)
        around = len(self.hashes[node]) + len(node) + revision + separators + _ENVELOPE_SIZE
        return around + sum(part.size for part in parts)

    def delta_document(self, node: str, base: RenderResult) -> bytes:
        """The delta body from ``node``'s config in ``base`` to this one: the same
        bytes as ``make_delta(base.config(node), self.config(node)).to_json()``,
        spliced from the cached canonical fragments (unchanged interfaces and
        peers are compared by identity; nothing is decoded or encoded again)."""
        old_parts = {p.network: p for p in base._node_parts(node)}
        changes = self._changes
        patched = changes.peers if changes is not None and changes.since == base.revision else {}
        interfaces = []
        for part in self._node_parts(node):
            old = old_parts.pop(part.network, None)
            if old is not part:
                entry = _interface_delta(old, part, patched.get(part.network))
                if entry is not None:
                    interfaces.append(entry)
        body = {
            "node": canonical_json(node),
            "base": canonical_json(base.hashes[node]),
            "hash": canonical_json(self.hashes[node]),
            "revision": canonical_json(self.revision),
            "interfaces": b"[" + b",".join(interfaces) + b"]",
        }
        if old_parts:
            body["remove_interfaces"] = canonical_json(sorted(old_parts))
        return canonical_object(body)

    def config(self, node: str) -> NodeConfig:
        """``node``'s config; raises NotFound for a node the state does not have."""
        found = self._configs.get(node)
        if found is None:
            found = NodeConfig.model_validate_json(self.document(node))
            self._configs[node] = found
        return found

    def _node_parts(self, node: str) -> tuple[InterfacePart, ...]:
        try:
            return self._parts[node]
        except KeyError:
            raise NotFound(f"there is no node {node!r}") from None

    def __getitem__(self, node: str) -> NodeConfig:
        if node not in self._parts:
            raise KeyError(node)
        return self.config(node)

    def __contains__(self, node: object) -> bool:
        return node in self._parts

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._parts))

    def __len__(self) -> int:
        return len(self._parts)

    def __repr__(self) -> str:
        return (
            f"RenderResult(revision={self.revision!r}, nodes={len(self)},"
            f" changed={len(self.changed)}, removed={len(self.removed)})"
        )


def _at(names: tuple[str, ...], name: str) -> int | None:
    index = bisect_left(names, name)
    return index if index < len(names) and names[index] == name else None


def _interface_delta(
    old: InterfacePart | None, new: InterfacePart, candidates: frozenset[str] | None
) -> bytes | None:
    """One entry of a delta's ``interfaces`` (None when nothing changed);
    ``candidates``: the only peers whose entries may differ, when known."""
    entry: dict[str, bytes] = {}
    if old is None:
        entry["set"] = canonical_object(dict(zip(FIELDS, new.fields, strict=True)))
        if new.names:
            entry["peers"] = b"[" + b",".join(chain.from_iterable(new.blocks)) + b"]"
        entry["network"] = canonical_json(new.network)
        return canonical_object(entry)
    if old.fields != new.fields:
        pairs = zip(FIELDS, old.fields, new.fields, strict=True)
        entry["set"] = canonical_object({name: now for name, was, now in pairs if was != now})
    if old.blocks is not new.blocks:
        peers, removed = _peer_changes(old, new, candidates)
        if peers:
            entry["peers"] = b"[" + b",".join(peers) + b"]"
        if removed:
            entry["remove_peers"] = canonical_json(removed)
    if not entry:
        return None
    entry["network"] = canonical_json(new.network)
    return canonical_object(entry)


def _peer_changes(
    old: InterfacePart, new: InterfacePart, candidates: frozenset[str] | None
) -> tuple[list[bytes], list[str]]:
    """The entries of ``new`` that are not in ``old`` (by name order), and the
    names of the peers gone."""
    peers: list[bytes] = []
    removed: list[str] = []
    if candidates is not None:  # every other entry is the same object in both
        for name in sorted(candidates):
            was, now = _at(old.names, name), _at(new.names, name)
            if now is not None:
                if was is None or old.peer_at(was) != new.peer_at(now):
                    peers.append(new.peer_at(now))
            elif was is not None:
                removed.append(name)
    elif old.names is new.names and old.ends == new.ends:  # the same peers, in the same blocks:
        for before, after in zip(old.blocks, new.blocks, strict=True):  # by identity, in C
            if before is not after:
                pairs = compress(zip(before, after, strict=True), map(is_not, before, after))
                peers += [b for a, b in pairs if a != b]
    else:
        entries = dict(zip(old.names, old.peers, strict=True))
        peers = [f for n, f in zip(new.names, new.peers, strict=True) if entries.get(n) != f]
        kept = set(new.names)
        removed = [n for n in old.names if n not in kept]
    return peers, removed


__all__ = ["PeerChanges", "RenderResult"]
