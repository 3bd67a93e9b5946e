"""The outcome of one render: every node's hash now, its config on demand."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from drago.errors import NotFound
from drago.render.config import NodeConfig, envelope
from drago.render.fragments import InterfacePart, node_bytes


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
    ) -> None:
        self.revision = revision
        self._parts = parts
        self.hashes: Mapping[str, str] = MappingProxyType(dict(hashes))
        self.changed = frozenset(n for n, h in hashes.items() if previous.get(n) != h)
        self.removed = frozenset(n for n in previous if n not in hashes)
        self._configs: dict[str, NodeConfig] = {}

    def with_previous(self, previous: Mapping[str, str]) -> RenderResult:
        """The same configs, with ``changed`` and ``removed`` relative to ``previous``."""
        return RenderResult(self.revision, self._parts, self.hashes, previous)

    def canonical_bytes(self, node: str) -> bytes:
        """The canonical form of ``node``'s config (what its hash is computed over)."""
        return node_bytes(node, self._node_parts(node))

    def document(self, node: str) -> bytes:
        """The JSON served to ``node``'s agent, with ``hash`` and ``revision``."""
        return envelope(self.canonical_bytes(node), self.hashes[node], self.revision)

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


__all__ = ["RenderResult"]
