"""Revision names, resolved as ``git rev-parse`` resolves them.

A revision is a base name and suffixes. The base name is ``HEAD`` (or ``@``), a
ref found by git's rules (``NAME``, ``refs/NAME``, ``refs/tags/NAME``,
``refs/heads/NAME``, ``refs/remotes/NAME``, ``refs/remotes/NAME/HEAD``, the
first that exists wins), a full or unambiguous short sha, or ``BRANCH@{u}`` /
``@{upstream}`` (the branch's remote-tracking branch). Suffixes are ``~N``,
``^N``, ``^{}`` and ``^{commit}``. Reflog forms (``@{1}``, ``@{-1}``,
``@{yesterday}``) and ``:path`` are not revisions of a commit and are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from drago.errors import InvalidRequest, NotFound
from drago.store.graph import CommitGraph
from drago.store.objects import ObjectReader

#: ``~N``/``^N`` take at most 9 ASCII digits: a longer count is no revision anyone
#: means (and int() refuses numbers of more than 4,300 digits).
_SUFFIX_RE = re.compile(r"\^\{(?:commit)?\}|([~^])([0-9]{0,9})")
_LONG_COUNT_RE = re.compile(r"[~^][0-9]{10}")
_HEX_RE = re.compile(r"\A[0-9a-f]{4,40}\Z")
_UPSTREAM_RE = re.compile(r"\A(.*)@\{(?:u|upstream)\}\Z", re.IGNORECASE)
#: git's dwim rules for a short ref name, in git's order.
_REF_RULES = ("refs/{}", "refs/tags/{}", "refs/heads/{}", "refs/remotes/{}", "refs/remotes/{}/HEAD")

#: ``upstream(branch)`` -> the full ref name of the branch's upstream (``branch`` is
#: "" for the branch HEAD is on); InvalidRequest when it has none.
Upstream = Callable[[str], str]


def no_upstream(branch: str) -> str:
    """For repositories without upstream configuration (the server's bare repository)."""
    raise InvalidRequest(f"no upstream configured for branch {branch or 'HEAD'!r}")


class RevisionParser:
    """Turns a revision expression into a full commit sha.

    ``lookup_ref`` returns the (peeled or not) sha a full ref name points to,
    or None; ``prefixed`` lists the object ids starting with a hex prefix;
    ``upstream`` names a branch's upstream ref (see :data:`Upstream`).
    """

    def __init__(
        self,
        reader: ObjectReader,
        graph: CommitGraph,
        lookup_ref: Callable[[str], str | None],
        prefixed: Callable[[str], Iterable[str]],
        upstream: Upstream = no_upstream,
    ) -> None:
        self._reader = reader
        self._graph = graph
        self._lookup_ref = lookup_ref
        self._prefixed = prefixed
        self._upstream = upstream

    def resolve(self, rev: str) -> str:
        if not rev or rev != rev.strip() or "\0" in rev:
            raise InvalidRequest(f"invalid revision {rev!r}")
        cut = min((i for i in (rev.find("~"), rev.find("^")) if i >= 0), default=len(rev))
        sha = self._base(rev[:cut], rev)
        suffix = rev[cut:]
        if _LONG_COUNT_RE.search(suffix):
            shown = rev if len(rev) <= 60 else rev[:60] + "..."
            raise InvalidRequest(
                f"invalid revision {shown!r}: a ~N or ^N count has at most 9 digits"
            )
        position = 0
        for match in _SUFFIX_RE.finditer(suffix):
            if match.start() != position:
                break
            position = match.end()
            if match[1] is not None:
                sha = self._step(sha, match[1], match[2], rev)
        if position != len(suffix):
            raise InvalidRequest(f"invalid revision {rev!r}")
        return sha

    def _base(self, name: str, rev: str) -> str:
        if not name:
            raise InvalidRequest(f"invalid revision {rev!r}")
        upstream = _UPSTREAM_RE.match(name)
        if upstream is not None:
            branch = upstream[1]
            if branch in ("", "HEAD", "@"):
                branch = ""
            elif "@{" in branch:
                raise InvalidRequest(f"invalid revision {rev!r}")
            ref = self._upstream(branch)
            target = self._lookup_ref(ref)
            if target is None:
                raise NotFound(f"revision {rev!r} not found: {ref} does not exist")
            return self._commit(target, rev)
        if "@{" in name:
            raise InvalidRequest(f"invalid revision {rev!r}: only @{{upstream}} is supported")
        if name == "@":
            name = "HEAD"
        lowered = name.lower()
        if len(lowered) == 40 and _HEX_RE.match(lowered) and self._reader.contains(lowered):
            return self._commit(lowered, rev)
        for ref in self._ref_candidates(name):
            target = self._lookup_ref(ref)
            if target is not None:
                return self._commit(target, rev)
        if _HEX_RE.match(lowered):
            commits = {c for c in map(self._peeled, self._prefixed(lowered)) if c is not None}
            if len(commits) == 1:
                return commits.pop()
            if len(commits) > 1:
                raise InvalidRequest(f"revision {rev!r} is ambiguous: {len(commits)} commits match")
        raise NotFound(f"revision {rev!r} not found")

    @staticmethod
    def _ref_candidates(name: str) -> list[str]:
        if name == "HEAD" or name.startswith("refs/"):
            return [name]
        return [rule.format(name) for rule in _REF_RULES]

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
