"""Revision names: ``HEAD``, branches, tags, full and short shas, ``~N`` and ``^N``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from drago.errors import InvalidRequest, NotFound
from drago.store.graph import CommitGraph
from drago.store.objects import ObjectReader

_SUFFIX_RE = re.compile(r"([~^])(\d*)")
_HEX_RE = re.compile(r"\A[0-9a-f]{4,40}\Z")


class RevisionParser:
    """Turns a revision expression into a full commit sha.

    ``lookup_ref`` returns the (peeled or not) sha a full ref name points to,
    or None; ``prefixed`` lists the object ids starting with a hex prefix.
    """

    def __init__(
        self,
        reader: ObjectReader,
        graph: CommitGraph,
        lookup_ref: Callable[[str], str | None],
        prefixed: Callable[[str], Iterable[str]],
    ) -> None:
        self._reader = reader
        self._graph = graph
        self._lookup_ref = lookup_ref
        self._prefixed = prefixed

    def resolve(self, rev: str) -> str:
        if not rev or rev != rev.strip() or "\0" in rev:
            raise InvalidRequest(f"invalid revision {rev!r}")
        cut = min((i for i in (rev.find("~"), rev.find("^")) if i >= 0), default=len(rev))
        sha = self._base(rev[:cut], rev)
        suffix = rev[cut:]
        position = 0
        for match in _SUFFIX_RE.finditer(suffix):
            if match.start() != position:
                break
            position = match.end()
            sha = self._step(sha, match[1], match[2], rev)
        if position != len(suffix):
            raise InvalidRequest(f"invalid revision {rev!r}")
        return sha

    def _base(self, name: str, rev: str) -> str:
        if not name:
            raise InvalidRequest(f"invalid revision {rev!r}")
        candidates = [name] if name.startswith("refs/") or name == "HEAD" else []
        candidates += [f"refs/heads/{name}", f"refs/tags/{name}"]
        for ref in candidates:
            target = self._lookup_ref(ref)
            if target is not None:
                return self._commit(target, rev)
        lowered = name.lower()
        if _HEX_RE.match(lowered):
            if len(lowered) == 40 and self._reader.contains(lowered):
                return self._commit(lowered, rev)
            commits = {c for c in map(self._peeled, self._prefixed(lowered)) if c is not None}
            if len(commits) == 1:
                return commits.pop()
            if len(commits) > 1:
                raise InvalidRequest(f"revision {rev!r} is ambiguous: {len(commits)} commits match")
        raise NotFound(f"revision {rev!r} not found")

    def _peeled(self, sha: str) -> str | None:
        try:
            target = self._reader.peel(sha)
            return target if self._reader.kind(target) == b"commit" else None
        except NotFound:
            return None

    def _commit(self, sha: str, rev: str) -> str:
        target = self._reader.peel(sha)
        if self._reader.kind(target) != b"commit":
            raise NotFound(f"revision {rev!r} is not a commit")
        return target

    def _step(self, sha: str, op: str, digits: str, rev: str) -> str:
        count = int(digits) if digits else 1
        if op == "^":
            if count == 0:
                return sha
            parents = self._graph.parents(sha)
            if count > len(parents):
                raise NotFound(f"revision {rev!r} not found: {sha[:12]} has no parent {count}")
            return parents[count - 1]
        for _ in range(count):
            parents = self._graph.parents(sha)
            if not parents:
                raise NotFound(f"revision {rev!r} not found: {sha[:12]} has no parent")
            sha = parents[0]
        return sha
