"""Cached, thread-safe reads of Git objects from a dulwich object store.

Git objects never change once written, so everything read here is cached by
its id. dulwich's pack readers seek and read a shared file handle, so reads
that miss the cache are serialized by one lock; cache hits take no lock.
dulwich rescans the pack folder when an object is missing, and loose objects
and refs are read from disk each time, so objects written by another process
(``git push`` into the same folder) become visible without reopening.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

from dulwich.object_store import BaseObjectStore
from dulwich.objects import Blob, Commit, ObjectID, ShaFile, Tag, Tree

from drago.errors import NotFound
from drago.model.state import MODE_SUBMODULE, MODE_TREE

K = TypeVar("K")
V = TypeVar("V")


class Entry(NamedTuple):
    """One entry of a Git tree: its mode and the hex id of what it points to."""

    mode: int
    sha: str

    @property
    def is_tree(self) -> bool:
        return self.mode == MODE_TREE

    @property
    def is_submodule(self) -> bool:
        return self.mode == MODE_SUBMODULE


TreeEntries = dict[str, Entry]


class LRUCache(Generic[K, V]):
    """A small thread-safe least-recently-used cache bounded by total weight."""

    def __init__(self, max_weight: int, weigh: Callable[[V], int] = lambda _: 1) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._weights: dict[K, int] = {}
        self._weight = 0
        self._max_weight = max_weight
        self._weigh = weigh
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        weight = self._weigh(value)
        if weight > self._max_weight:
            return
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return
            self._items[key] = value
            self._weights[key] = weight
            self._weight += weight
            while self._weight > self._max_weight:
                old, _ = self._items.popitem(last=False)
                self._weight -= self._weights.pop(old)

    def __len__(self) -> int:
        return len(self._items)


class ObjectReader:
    """Reads commits, trees and blobs by hex id, caching each one."""

    def __init__(self, store: BaseObjectStore, *, blob_cache_bytes: int = 128 << 20) -> None:
        self._store = store
        self._lock = threading.RLock()
        self._trees: LRUCache[str, TreeEntries] = LRUCache(200_000, len)
        self._blobs: LRUCache[str, bytes] = LRUCache(blob_cache_bytes, lambda b: len(b) + 64)
        self._commits: LRUCache[str, Commit] = LRUCache(100_000)

    def _get(self, sha: str) -> ShaFile:
        try:
            oid = ObjectID(sha.encode("ascii"))
        except UnicodeEncodeError:
            raise NotFound(f"object {sha!r} not found") from None
        with self._lock:
            try:
                return self._store[oid]
            except (KeyError, ValueError, AssertionError):
                raise NotFound(f"object {sha} not found") from None

    def contains(self, sha: str) -> bool:
        with self._lock:
            return ObjectID(sha.encode("ascii")) in self._store

    def prefixed(self, prefix: str) -> list[str]:
        """The ids of every object whose hex id starts with ``prefix`` (lower case)."""
        with self._lock:
            return [s.decode("ascii") for s in self._store.iter_prefix(prefix.encode("ascii"))]

    def kind(self, sha: str) -> bytes:
        """The object's type name: b"commit", b"tree", b"blob" or b"tag"."""
        if self._commits.get(sha) is not None:
            return Commit.type_name
        if self._trees.get(sha) is not None:
            return Tree.type_name
        obj = self._get(sha)
        self._remember(sha, obj)
        return obj.type_name

    def _remember(self, sha: str, obj: ShaFile) -> None:
        if isinstance(obj, Commit):
            self._commits.put(sha, obj)
        elif isinstance(obj, Tree):
            self._trees.put(sha, _entries(obj))
        elif isinstance(obj, Blob):
            self._blobs.put(sha, obj.as_raw_string())

    def commit(self, sha: str) -> Commit:
        cached = self._commits.get(sha)
        if cached is not None:
            return cached
        obj = self._get(sha)
        if not isinstance(obj, Commit):
            raise NotFound(f"{sha} is not a commit")
        self._commits.put(sha, obj)
        return obj

    def peel(self, sha: str) -> str:
        """Follow annotated tags to the object they point to."""
        for _ in range(32):
            if self._commits.get(sha) is not None:
                return sha
            obj = self._get(sha)
            if not isinstance(obj, Tag):
                self._remember(sha, obj)
                return sha
            sha = obj.object[1].decode("ascii")
        raise NotFound(f"tag chain at {sha} is too long")

    def tree(self, sha: str) -> TreeEntries:
        """The entries of a tree, by name. Do not mutate the returned dict."""
        cached = self._trees.get(sha)
        if cached is not None:
            return cached
        obj = self._get(sha)
        if not isinstance(obj, Tree):
            raise NotFound(f"{sha} is not a tree")
        entries = _entries(obj)
        self._trees.put(sha, entries)
        return entries

    def remember_tree(self, sha: str, entries: TreeEntries) -> None:
        """Prime the cache with a tree this process just wrote."""
        self._trees.put(sha, entries)

    def blob(self, sha: str) -> bytes:
        cached = self._blobs.get(sha)
        if cached is not None:
            return cached
        obj = self._get(sha)
        if not isinstance(obj, Blob):
            raise NotFound(f"{sha} is not a blob")
        data = obj.as_raw_string()
        self._blobs.put(sha, data)
        return data

    def remember_blob(self, sha: str, data: bytes) -> None:
        self._blobs.put(sha, data)

    def lookup(self, tree: str, segments: tuple[str, ...]) -> Entry | None:
        """The entry at a path below ``tree``, or None when there is none."""
        entry = Entry(MODE_TREE, tree)
        for segment in segments:
            if not entry.is_tree:
                return None
            found = self.tree(entry.sha).get(segment)
            if found is None:
                return None
            entry = found
        return entry

    def add(self, objects: list[ShaFile]) -> None:
        """Write new objects (loose; a commit writes only a handful)."""
        with self._lock:
            for obj in objects:
                self._store.add_object(obj)


def tree_id(commit: Commit) -> str:
    """The hex id of a commit's tree."""
    tree: bytes = commit.tree
    return tree.decode("ascii")


def _entries(tree: Tree) -> TreeEntries:
    return {
        item.path.decode("utf-8", "surrogateescape"): Entry(item.mode, item.sha.decode("ascii"))
        for item in tree.iteritems()
    }
