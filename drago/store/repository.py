"""The Git repository as drago's database: read any revision, commit with CAS."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from dulwich.errors import NotGitRepository
from dulwich.object_store import BaseObjectStore, DiskObjectStore
from dulwich.objects import ObjectID
from dulwich.refs import Ref, check_ref_format
from dulwich.repo import Repo

from drago.errors import Conflict, InvalidRequest, NotFound
from drago.model.state import SourceFile
from drago.model.validate import Bound, Validator
from drago.store.commit import SignPayload, build_commit
from drago.store.diff import diff_trees, unified_text_diff
from drago.store.graph import CommitGraph
from drago.store.history import commit_info, history
from drago.store.objects import LRUCache, ObjectReader, tree_id
from drago.store.paths import split_path
from drago.store.records import CommitInfo, FileChange, Identity, SignedCommit
from drago.store.revisions import RevisionParser
from drago.store.trees import FileLister, SourceLister, TreeWriter
from drago.store.upstream import upstream_ref
from drago.store.view import ObjectView

if TYPE_CHECKING:
    from drago.model.state import State

_HEADS = "refs/heads/"

#: How many validated states :meth:`GitStore.state` keeps (by tree): the live
#: head and the one before it. A state holds every parsed file and, through the
#: validator, its topologies: on a large mesh, hundreds of MB each.
STATES_KEPT = 2


class GitStore:
    """A bare Git repository read and written through dulwich (the :class:`Store`).

    Reads are safe from many threads at once; commits and ref moves made
    through this object are serialized, and every ref move is a
    compare-and-swap, so writers in other processes cannot be overwritten.
    """

    def __init__(
        self,
        repo: Repo,
        *,
        branch: str = "main",
        clock: Callable[[], float] = time.time,
        validator: Validator | None = None,
    ) -> None:
        """``validator`` validates :meth:`state` (the server's, shared with its
        other users; by default one of the store's own)."""
        self.repo = repo
        self._validator = validator if validator is not None else Validator()
        self.path = Path(repo.path)
        self.branch = _check_branch(branch)
        self._clock = clock
        self._write_lock = threading.Lock()
        self._refs_lock = threading.RLock()
        self._reader = ObjectReader(repo.object_store)
        self._lister = FileLister(self._reader)
        self._sources = SourceLister(self._reader)
        self._graph = CommitGraph(self._reader)
        self._revisions = RevisionParser(
            self._reader,
            self._graph,
            self._read_ref,
            self._reader.prefixed,
            upstream=functools.partial(upstream_ref, repo),
        )
        self._states: LRUCache[str, State] = LRUCache(STATES_KEPT)

    @classmethod
    def init(
        cls,
        path: Path,
        *,
        branch: str = "main",
        clock: Callable[[], float] = time.time,
        validator: Validator | None = None,
    ) -> GitStore:
        """Create a bare repository at ``path`` (made if missing) with HEAD on ``branch``."""
        _check_branch(branch)
        if (path / "HEAD").exists() or (path / ".git").exists():
            raise Conflict(f"{path} is already a Git repository")
        path.mkdir(parents=True, exist_ok=True)
        repo = Repo.init_bare(str(path), default_branch=branch.encode("utf-8"))
        store = cls(repo, branch=branch, clock=clock, validator=validator)
        store.make_durable()
        return store

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        branch: str = "main",
        clock: Callable[[], float] = time.time,
        validator: Validator | None = None,
    ) -> GitStore:
        try:
            repo = Repo(str(path))
        except NotGitRepository:
            raise NotFound(f"{path} is not a Git repository") from None
        return cls(repo, branch=branch, clock=clock, validator=validator)

    def make_durable(self) -> None:
        """Have every object written to disk (fsync) before a ref can name it.

        dulwich syncs ref files but, by default, not loose objects or packs, so
        after a power loss a ref could name an object that never reached the
        disk. ``core.fsyncObjectFiles`` in the repository's config turns it on
        for this store and for every later opening of the repository (the git
        transport, the CLI, git itself); set once, kept.
        """
        config = self.repo.get_config()
        if not config.get_boolean((b"core",), b"fsyncObjectFiles", False):
            config.set((b"core",), b"fsyncObjectFiles", True)
            config.write_to_path()
        object_store = self.repo.object_store
        if isinstance(object_store, DiskObjectStore):
            object_store.fsync_object_files = True

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> GitStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # refs

    def _read_ref(self, name: str) -> str | None:
        ref = Ref(name.encode("utf-8", "surrogateescape"))
        if name != "HEAD" and not check_ref_format(ref):
            return None
        with self._refs_lock:
            try:
                _, sha = self.repo.refs.follow(ref)
            except (KeyError, ValueError):
                return None
        return sha.decode("ascii") if sha else None

    def head(self, branch: str | None = None) -> str | None:
        """The commit the branch points to, or None for an unborn branch."""
        return self._read_ref(_HEADS + _check_branch(branch or self.branch))

    def branches(self) -> dict[str, str]:
        with self._refs_lock:
            refs = self.repo.refs.as_dict(Ref(b"refs/heads"))
        return {name.decode("utf-8"): sha.decode("ascii") for name, sha in sorted(refs.items())}

    def set_branch(self, name: str, new: str, *, old: str | None) -> None:
        """Move (or create, when ``old`` is None) a branch; Conflict when it is not at ``old``."""
        ref = Ref((_HEADS + _check_branch(name)).encode("utf-8"))
        new = self.resolve(new)
        with self._write_lock, self._refs_lock:
            if old is None:
                moved = self.repo.refs.add_if_new(ref, ObjectID(new.encode("ascii")))
            else:
                moved = self.repo.refs.set_if_equals(
                    ref, ObjectID(old.encode("ascii")), ObjectID(new.encode("ascii"))
                )
        if not moved:
            raise Conflict(f"branch {name} is not at {old or 'nothing'}: it moved meanwhile")

    def delete_branch(self, name: str, *, old: str) -> None:
        ref = Ref((_HEADS + _check_branch(name)).encode("utf-8"))
        with self._write_lock, self._refs_lock:
            if self._read_ref(ref.decode("utf-8")) is None:
                raise NotFound(f"branch {name} does not exist")
            removed = self.repo.refs.remove_if_equals(ref, ObjectID(old.encode("ascii")))
        if not removed:
            raise Conflict(f"branch {name} is not at {old}: it moved meanwhile")

    # reading

    def resolve(self, rev: str) -> str:
        """The full sha of a commit named as git names it (see :mod:`drago.store.revisions`)."""
        return self._revisions.resolve(rev)

    def _tree_of(self, rev: str) -> str:
        return tree_id(self._reader.commit(self.resolve(rev)))

    def files(self, rev: str) -> list[SourceFile]:
        """Every blob, symlink and submodule in the tree of ``rev``, sorted by path.

        Submodules have no content here (``data`` is empty); their blob_id is
        the commit id they point to.
        """
        return list(self._sources.files(self._tree_of(rev)))

    def has_commit(self, sha: str) -> bool:
        """Whether ``sha`` (a full id) is a commit of this repository."""
        try:
            return self.resolve(sha) == sha
        except (NotFound, InvalidRequest):
            return False

    def signed_commit(self, rev: str) -> SignedCommit:
        """The payload a commit's signature covers, and the signature."""
        sha = self.resolve(rev)
        commit = self._reader.commit(sha)
        return SignedCommit(sha, commit.raw_without_sig(), commit.gpgsig)

    def view(self, objects: BaseObjectStore) -> ObjectView:
        """A read-only view of ``objects`` (a push's quarantine, whose alternate is
        this repository) that shares this store's caches."""
        return ObjectView(objects, history=self, known_blob=self.read_blob)

    def read_blob(self, blob_id: str) -> bytes:
        return self._reader.blob(blob_id)

    def read_file(self, rev: str, path: str) -> bytes:
        """The content of one file at ``rev``; NotFound when it is not a file there."""
        entry = self._reader.lookup(self._tree_of(rev), split_path(path))
        if entry is None or entry.is_tree or entry.is_submodule:
            raise NotFound(f"{path} does not exist at {rev}")
        return self._reader.blob(entry.sha)

    def state(
        self, rev: str, *, view: Validator | None = None, bound: Bound | None = None
    ) -> State:
        """The validated desired state at ``rev`` (ConfigError when invalid).

        Without ``view`` it is validated by the store's validator and kept (the
        last :data:`STATES_KEPT`: the revisions going live). With ``view`` (a
        :meth:`Validator.dry` view, for a revision only looked at: an old one, a
        review branch) a kept state is still returned, but a new one is validated
        by the view and not kept. ``bound`` may refuse the parsed state first."""
        sha = self.resolve(rev)
        tree = tree_id(self._reader.commit(sha))
        cached = self._states.get(tree)
        if cached is not None:
            return cached
        validator = view if view is not None else self._validator
        state = validator.validate_files(self.files(sha), bound=bound)
        if view is None:
            self._states.put(tree, state)
        return state

    def history(
        self,
        rev: str | None = None,
        *,
        path: str | None = None,
        limit: int = 100,
        skip: int = 0,
    ) -> list[CommitInfo]:
        """Commits reachable from ``rev`` (default: the branch), newest first."""
        if limit < 0 or skip < 0:
            raise InvalidRequest("limit and skip must not be negative")
        if rev is None:
            start = self.head()
            if start is None:
                return []
        else:
            start = self.resolve(rev)
        segments = split_path(path.rstrip("/")) if path is not None else None
        return history(
            self._reader, self._graph, self._lister, start, path=segments, limit=limit, skip=skip
        )

    def commit_info(self, rev: str) -> CommitInfo:
        return commit_info(self._reader, self._lister, self.resolve(rev), with_paths=True)

    def diff(self, base: str | None, head: str) -> list[FileChange]:
        old = self._tree_of(base) if base is not None else None
        return diff_trees(self._reader, self._lister, old, self._tree_of(head))

    def unified_diff(self, base: str | None, head: str, path: str) -> str:
        segments = split_path(path)
        old = self._blob_at(base, segments) if base is not None else None
        return unified_text_diff(path, old, self._blob_at(head, segments))

    def _blob_at(self, rev: str, segments: tuple[str, ...]) -> bytes | None:
        entry = self._reader.lookup(self._tree_of(rev), segments)
        if entry is None or entry.is_tree or entry.is_submodule:
            return None
        return self._reader.blob(entry.sha)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self._graph.is_ancestor(self.resolve(ancestor), self.resolve(descendant))

    def new_commits(self, new: str, *, exclude: Iterable[str]) -> list[str]:
        """Commits reachable from ``new`` but from none of ``exclude``, oldest first.

        Excluded ids that are not commits in this repository are ignored.
        """
        stops = []
        for sha in exclude:
            try:
                stops.append(self.resolve(sha))
            except (NotFound, InvalidRequest):
                continue
        return self._graph.only_in(self.resolve(new), stops)

    def have_ancestors(self, haves: Iterable[str], *, toward: Iterable[str]) -> set[str]:
        """The ancestors of ``haves`` a walk back from ``toward`` can meet (commit
        ids, all in this repository): see :meth:`CommitGraph.have_ancestors`."""
        return self._graph.have_ancestors(haves, toward=toward)

    # writing

    def commit(
        self,
        changes: Mapping[str, bytes | None],
        *,
        message: str,
        author: Identity,
        base: str | None,
        branch: str | None = None,
        committer: Identity | None = None,
        sign: SignPayload | None = None,
        parents: Sequence[str] | None = None,
        allow_empty: bool = False,
    ) -> str:
        """Commit ``changes`` (path -> content, None deletes) on top of ``base``.

        The branch moves from ``base`` (None: the branch must not exist yet) to
        the new commit as a compare-and-swap: Conflict when it is elsewhere.
        ``parents`` overrides the parents (default: ``[base]``). A change set
        that leaves the tree as it is returns ``base`` unless ``allow_empty``.
        """
        name = _check_branch(branch or self.branch)
        ref = Ref((_HEADS + name).encode("utf-8"))
        with self._write_lock:
            current = self.head(name)
            if current != base:
                raise Conflict(
                    f"branch {name} is at {current or 'nothing'}, not at {base or 'nothing'}",
                    details={"branch": name, "head": current, "base": base},
                )
            old_tree = tree_id(self._reader.commit(base)) if base else None
            writer = TreeWriter(self._reader)
            tree = writer.apply(old_tree, changes)
            if base is not None and tree == old_tree and not allow_empty:
                return base
            if base is None and not changes and not allow_empty:
                raise InvalidRequest("nothing to commit")
            if parents is not None:
                for parent in parents:
                    self._reader.commit(parent)  # NotFound unless it is a commit here
            commit = build_commit(
                tree=tree,
                parents=list(parents) if parents is not None else ([base] if base else []),
                message=message,
                author=author,
                committer=committer or author,
                timestamp=int(self._clock()),
                sign=sign,
            )
            self._reader.add([*writer.new_objects, commit])
            writer.remember()
            new = commit.id.decode("ascii")
            with self._refs_lock:
                if base is None:
                    moved = self.repo.refs.add_if_new(ref, commit.id, message=b"drago: commit")
                else:
                    moved = self.repo.refs.set_if_equals(
                        ref, ObjectID(base.encode("ascii")), commit.id, message=b"drago: commit"
                    )
            if not moved:
                raise Conflict(
                    f"branch {name} moved while committing on {base or 'nothing'}",
                    details={"branch": name, "head": self.head(name), "base": base},
                )
            return new


def _check_branch(name: str) -> str:
    if not name or not check_ref_format(Ref((_HEADS + name).encode("utf-8"))):
        raise InvalidRequest(f"invalid branch name {name!r}")
    return name
