"""Commit history, optionally restricted to the commits that changed a path."""

from __future__ import annotations

from itertools import islice

from dulwich.objects import Commit

from drago.store.diff import diff_trees
from drago.store.graph import CommitGraph
from drago.store.objects import Entry, ObjectReader, tree_id
from drago.store.records import CommitInfo, Identity
from drago.store.trees import FileLister


def commit_info(
    reader: ObjectReader, lister: FileLister, sha: str, *, with_paths: bool = False
) -> CommitInfo:
    commit = reader.commit(sha)
    paths: tuple[str, ...] | None = None
    if with_paths:
        parent_tree = _first_parenttree_id(reader, commit)
        changes = diff_trees(reader, lister, parent_tree, tree_id(commit))
        paths = tuple(change.path for change in changes)
    return CommitInfo(
        id=sha,
        parents=tuple(p.decode("ascii") for p in commit.parents),
        author=Identity.from_git(commit.author),
        committer=Identity.from_git(commit.committer),
        author_time=int(commit.author_time),
        message=commit.message.decode(_encoding(commit), "replace"),
        signature=commit.gpgsig or None,
        paths=paths,
    )


def history(
    reader: ObjectReader,
    graph: CommitGraph,
    lister: FileLister,
    start: str,
    *,
    path: tuple[str, ...] | None,
    limit: int,
    skip: int,
) -> list[CommitInfo]:
    """Commits reachable from ``start``, newest first.

    With ``path`` only the commits whose entry at that path (a file or a
    folder) differs from every parent's, like ``git log -- path``.
    """
    commits = graph.walk(start)
    if path is not None:
        segments = path
        commits = (sha for sha in commits if _touches(reader, graph, sha, segments))
    return [commit_info(reader, lister, sha) for sha in islice(commits, skip, skip + limit)]


def _touches(reader: ObjectReader, graph: CommitGraph, sha: str, path: tuple[str, ...]) -> bool:
    mine = _entry(reader, sha, path)
    parents = graph.parents(sha)
    if not parents:
        return mine is not None
    return all(_entry(reader, parent, path) != mine for parent in parents)


def _entry(reader: ObjectReader, sha: str, path: tuple[str, ...]) -> Entry | None:
    return reader.lookup(tree_id(reader.commit(sha)), path)


def _first_parenttree_id(reader: ObjectReader, commit: Commit) -> str | None:
    if not commit.parents:
        return None
    return tree_id(reader.commit(commit.parents[0].decode("ascii")))


def _encoding(commit: Commit) -> str:
    if commit.encoding:
        try:
            encoding: bytes = commit.encoding
            name = encoding.decode("ascii")
            b"".decode(name)
            return name
        except (UnicodeDecodeError, LookupError):
            pass
    return "utf-8"
