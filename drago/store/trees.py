"""Listing the files of a tree, and writing a new tree from a change set.

A change set only rewrites the folders it touches: every other subtree keeps
its id, so a one-file commit writes one blob plus one tree per folder level.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias, Union

from dulwich.objects import Blob, ShaFile, Tree

from drago.errors import InvalidRequest, NotFound
from drago.model.state import MODE_EXEC, MODE_FILE, MODE_TREE, SourceFile
from drago.store.objects import Entry, LRUCache, ObjectReader, TreeEntries
from drago.store.paths import split_path

FileList = tuple[tuple[str, Entry], ...]


class FileLister:
    """Lists every non-tree entry below a tree, cached per tree id."""

    def __init__(self, reader: ObjectReader) -> None:
        self._reader = reader
        self._cache: LRUCache[str, FileList] = LRUCache(2_000_000, lambda f: len(f) + 1)

    def files(self, tree: str) -> FileList:
        """``(path, entry)`` for every blob, symlink and submodule, sorted by path."""
        cached = self._cache.get(tree)
        if cached is not None:
            return cached
        listing: list[tuple[str, Entry]] = []
        for name, entry in self._reader.tree(tree).items():
            if entry.is_tree:
                listing.extend((f"{name}/{path}", e) for path, e in self.files(entry.sha))
            else:
                listing.append((name, entry))
        result = tuple(sorted(listing))
        self._cache.put(tree, result)
        return result


class SourceLister:
    """The files of a tree as :class:`SourceFile` values, cached per subtree.

    A commit that changes one file rebuilds only the folders on its path;
    every other folder's files are reused as they are.
    """

    def __init__(self, reader: ObjectReader) -> None:
        self._reader = reader
        self._cache: LRUCache[tuple[str, str], tuple[SourceFile, ...]] = LRUCache(
            500_000, lambda f: len(f) + 1
        )

    def files(self, tree: str, prefix: str = "") -> tuple[SourceFile, ...]:
        """Every blob, symlink and submodule below ``tree``, sorted by path."""
        cached = self._cache.get((tree, prefix))
        if cached is not None:
            return cached
        listing: list[SourceFile] = []
        for name, entry in self._reader.tree(tree).items():
            path = prefix + name
            if entry.is_tree:
                listing.extend(self.files(entry.sha, path + "/"))
            else:
                data = b"" if entry.is_submodule else self._reader.blob(entry.sha)
                listing.append(SourceFile(path=path, data=data, mode=entry.mode, blob_id=entry.sha))
        result = tuple(sorted(listing, key=lambda f: f.path))
        self._cache.put((tree, prefix), result)
        return result


# A change set as a trie: a name maps to new content, None (delete) or a sub-trie.
_Trie: TypeAlias = dict[str, Union[bytes, "_Trie", None]]


def _trie(changes: Mapping[str, bytes | None]) -> _Trie:
    root: _Trie = {}
    for path, content in changes.items():
        if content is not None and not isinstance(content, bytes):
            raise InvalidRequest(f"{path}: content must be bytes or None")
        *folders, leaf = split_path(path)
        node = root
        for i, folder in enumerate(folders):
            child = node.setdefault(folder, {})
            if not isinstance(child, dict):
                prefix = "/".join(folders[: i + 1])
                raise InvalidRequest(f"{path}: {prefix} is changed as a file in the same change")
            node = child
        if isinstance(node.get(leaf), dict):
            raise InvalidRequest(f"{path}: is a folder of other changed paths")
        node[leaf] = content
    return root


class TreeWriter:
    """Applies a change set to a tree, collecting the new objects to write."""

    def __init__(self, reader: ObjectReader) -> None:
        self._reader = reader
        self.new_objects: list[ShaFile] = []
        self._new_trees: list[tuple[str, TreeEntries]] = []
        self._new_blobs: list[tuple[str, bytes]] = []

    def apply(self, tree: str | None, changes: Mapping[str, bytes | None]) -> str:
        """The id of ``tree`` (None: empty) with ``changes`` applied.

        Raises InvalidRequest for bad paths or a file/folder clash, NotFound
        when deleting a path that does not exist.
        """
        result = self._apply(tree, _trie(changes), "")
        if result is None:
            return self._tree(tree, {})
        return result

    def remember(self) -> None:
        """Prime the reader's caches with what this writer created."""
        for sha, entries in self._new_trees:
            self._reader.remember_tree(sha, entries)
        for sha, data in self._new_blobs:
            self._reader.remember_blob(sha, data)

    def _apply(self, tree: str | None, trie: _Trie, prefix: str) -> str | None:
        entries: TreeEntries = dict(self._reader.tree(tree)) if tree is not None else {}
        for name, change in trie.items():
            path = prefix + name
            existing = entries.get(name)
            if isinstance(change, dict):
                if existing is not None and not existing.is_tree:
                    raise InvalidRequest(f"{path} is a file, not a folder")
                sub = self._apply(existing.sha if existing else None, change, path + "/")
                if sub is None:
                    entries.pop(name, None)
                else:
                    entries[name] = Entry(MODE_TREE, sub)
            elif change is None:
                if existing is None:
                    raise NotFound(f"{path} does not exist")
                if existing.is_tree:
                    raise InvalidRequest(f"{path} is a folder; delete its files instead")
                del entries[name]
            else:
                if existing is not None and existing.is_tree:
                    raise InvalidRequest(f"{path} is a folder, not a file")
                sha = self._blob(change, existing)
                entries[name] = Entry(self._mode(existing), sha)
        if not entries:
            return None
        return self._tree(tree, entries)

    @staticmethod
    def _mode(existing: Entry | None) -> int:
        if existing is not None and existing.mode in (MODE_FILE, MODE_EXEC):
            return existing.mode
        return MODE_FILE

    def _blob(self, data: bytes, existing: Entry | None) -> str:
        blob = Blob.from_string(data)
        sha = blob.id.decode("ascii")
        if existing is not None and existing.sha == sha:
            return sha
        self.new_objects.append(blob)
        self._new_blobs.append((sha, data))
        return sha

    def _tree(self, old: str | None, entries: TreeEntries) -> str:
        tree = Tree.from_raw_string(Tree.type_num, serialize_tree(entries))
        sha = tree.id.decode("ascii")
        if sha != old:
            self.new_objects.append(tree)
            self._new_trees.append((sha, entries))
        return sha


def serialize_tree(entries: TreeEntries) -> bytes:
    """The raw Git tree: entries sorted as Git sorts them (folders as ``name/``)."""
    keyed = []
    for name, entry in entries.items():
        raw = name.encode("utf-8", "surrogateescape")
        keyed.append((raw + b"/" if entry.is_tree else raw, raw, entry))
    keyed.sort()
    return b"".join(
        b"%o %s\0%s" % (entry.mode, raw, bytes.fromhex(entry.sha)) for _, raw, entry in keyed
    )
