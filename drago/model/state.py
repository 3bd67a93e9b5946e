"""The desired state of a whole repository, as the validator returns it."""

from __future__ import annotations

from dataclasses import dataclass, field

from drago.model.schema import KeysFile, NetworkFile, NodeFile

#: Git file modes drago cares about.
MODE_FILE = 0o100644
MODE_EXEC = 0o100755
MODE_SYMLINK = 0o120000
MODE_SUBMODULE = 0o160000
MODE_TREE = 0o040000


@dataclass(frozen=True)
class SourceFile:
    """One file of a repository state, from a directory or a Git tree.

    ``blob_id`` (the Git blob sha, hex) lets parsers cache by content; it is
    None for files read from a directory.
    """

    path: str
    data: bytes
    mode: int = MODE_FILE
    blob_id: str | None = None


@dataclass(frozen=True)
class State:
    """A valid desired state: every file parsed, every cross-file rule checked.

    ``blob_ids`` maps a repository path to its blob id when known, so the
    renderer can cache per file. Plain data: treat it as immutable; what is
    derived from it (peer lists) is remembered by the validator, not here.
    """

    networks: dict[str, NetworkFile] = field(default_factory=dict)
    nodes: dict[str, NodeFile] = field(default_factory=dict)
    keys: dict[str, KeysFile] = field(default_factory=dict)
    blob_ids: dict[str, str] = field(default_factory=dict)

    def public_key(self, node: str, network: str) -> str | None:
        entry = self.keys.get(node)
        if entry is None:
            return None
        key = entry.interfaces.get(network)
        return key.public_key if key else None

    def members(self, network: str) -> list[str]:
        """Names of the nodes that have an interface in ``network``, sorted."""
        return sorted(n for n, node in self.nodes.items() if network in node.interfaces)
