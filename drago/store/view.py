"""A read-only view of objects not yet in the repository (a push's quarantine).

The quarantine is an object store whose alternate is the repository, so the
view reads old and new objects together. It answers what the push check asks
(kinds, parents, signatures, files) through the store's own readers, and uses
the repository's caches where they apply: blobs the repository already has are
read through its cache, and whether a commit is in the live branch's history
is decided by the repository's commit graph (its generation numbers stay cached
between pushes), so a push costs what it brings, not the length of the history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from dulwich.object_store import BaseObjectStore

from drago.errors import NotFound
from drago.model.state import SourceFile
from drago.store.graph import CommitGraph
from drago.store.objects import ObjectReader, tree_id
from drago.store.records import SignedCommit
from drago.store.trees import FileLister


class History(Protocol):
    """The repository's commit graph (e.g. the store)."""

    def has_commit(self, sha: str) -> bool: ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...


class ObjectView:
    def __init__(
        self,
        objects: BaseObjectStore,
        *,
        history: History,
        known_blob: Callable[[str], bytes],
    ) -> None:
        """``known_blob`` reads blobs the repository already has (cached by the store);
        blobs it does not know (NotFound) are read from ``objects``."""
        self._reader = ObjectReader(objects)
        self._graph = CommitGraph(self._reader)
        self._lister = FileLister(self._reader)
        self._history = history
        self._known_blob = known_blob

    def kind(self, sha: str) -> bytes:
        """The object's type name (b"commit", b"tree", ...); NotFound when missing."""
        return self._reader.kind(sha)

    def parents(self, sha: str) -> tuple[str, ...]:
        return self._graph.parents(sha)

    def in_history(self, sha: str, old: str) -> bool:
        """Whether ``sha`` is ``old`` or one of its ancestors in the repository."""
        if sha == old:
            return True
        return self._history.has_commit(sha) and self._history.is_ancestor(sha, old)

    def signed_commit(self, sha: str) -> SignedCommit:
        commit = self._reader.commit(sha)
        return SignedCommit(sha, commit.raw_without_sig(), commit.gpgsig)

    def files(self, commit: str) -> list[SourceFile]:
        """Every file of ``commit``'s tree (submodules without content)."""
        files = []
        for path, entry in self._lister.files(tree_id(self._reader.commit(commit))):
            data = b"" if entry.is_submodule else self._blob(entry.sha)
            files.append(SourceFile(path=path, data=data, mode=entry.mode, blob_id=entry.sha))
        return files

    def _blob(self, sha: str) -> bytes:
        try:
            return self._known_blob(sha)
        except NotFound:
            return self._reader.blob(sha)
