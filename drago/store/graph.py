"""The commit graph: parents, generation numbers and reachability.

Generation numbers (1 + the largest generation of the parents) are computed
once per commit and cached forever, since commits never change. They make
reachability exact without walking all of history on every question: a commit
can only reach commits of a smaller generation.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Iterator

from drago.store.objects import ObjectReader


class CommitGraph:
    def __init__(self, reader: ObjectReader) -> None:
        self._reader = reader
        self._generations: dict[str, int] = {}
        self._lock = threading.Lock()

    def parents(self, sha: str) -> tuple[str, ...]:
        return tuple(p.decode("ascii") for p in self._reader.commit(sha).parents)

    def commit_time(self, sha: str) -> int:
        return int(self._reader.commit(sha).commit_time)

    def generation(self, sha: str) -> int:
        known = self._generations.get(sha)
        if known is not None:
            return known
        computed: dict[str, int] = {}
        stack = [sha]
        while stack:
            top = stack[-1]
            if top in computed or top in self._generations:
                stack.pop()
                continue
            parents = self.parents(top)
            missing = [p for p in parents if p not in computed and p not in self._generations]
            if missing:
                stack.extend(missing)
                continue
            computed[top] = 1 + max(
                (computed[p] if p in computed else self._generations[p] for p in parents), default=0
            )
            stack.pop()
        with self._lock:
            self._generations.update(computed)
        return self._generations[sha]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether ``ancestor`` is reachable from ``descendant`` (or equal to it)."""
        floor = self.generation(ancestor)
        seen = {descendant}
        stack = [descendant]
        while stack:
            sha = stack.pop()
            if sha == ancestor:
                return True
            for parent in self.parents(sha):
                if parent not in seen and self.generation(parent) >= floor:
                    seen.add(parent)
                    stack.append(parent)
        return False

    def only_in(self, new: str, exclude: Iterable[str]) -> list[str]:
        """Commits reachable from ``new`` but from none of ``exclude``.

        Parents come before their children (sorted by generation, then time).
        """
        stops = set(exclude)
        candidates: set[str] = set()
        stack = [new] if new not in stops else []
        while stack:
            sha = stack.pop()
            if sha in candidates:
                continue
            candidates.add(sha)
            stack.extend(p for p in self.parents(sha) if p not in stops and p not in candidates)
        if candidates and stops:
            floor = min(self.generation(c) for c in candidates)
            seen = set(stops)
            stack = list(stops)
            while stack:
                sha = stack.pop()
                candidates.discard(sha)
                for parent in self.parents(sha):
                    if parent not in seen and self.generation(parent) >= floor:
                        seen.add(parent)
                        stack.append(parent)
        return sorted(candidates, key=lambda c: (self.generation(c), self.commit_time(c), c))

    def have_ancestors(self, haves: Iterable[str], *, toward: Iterable[str]) -> set[str]:
        """The ancestors of ``haves`` (themselves included) that a walk back from
        ``toward`` can meet: those not older, by generation, than the commits only
        ``toward`` reaches and their parents.

        A walk back from ``toward`` that stops at these meets exactly the commits
        it would meet stopping at every ancestor of ``haves`` (each commit it can
        visit is at least that generation), so a fetch finds what to send in the
        commits it brings, not the length of the history.
        """
        stops = set(haves)
        starts = set(toward)
        only: set[str] = set()
        stack = [sha for sha in starts if sha not in stops]
        while stack:
            sha = stack.pop()
            if sha in only:
                continue
            only.add(sha)
            stack.extend(p for p in self.parents(sha) if p not in stops and p not in only)
        edge = starts | only | {p for sha in only for p in self.parents(sha)}
        if not edge or not stops:
            return set()
        floor = min(self.generation(sha) for sha in edge)
        found: set[str] = set()
        stack = [sha for sha in stops if self.generation(sha) >= floor]
        while stack:
            sha = stack.pop()
            if sha in found:
                continue
            found.add(sha)
            stack.extend(
                p for p in self.parents(sha) if p not in found and self.generation(p) >= floor
            )
        return found

    def walk(self, start: str) -> Iterator[str]:
        """Every commit reachable from ``start``, newest commit time first."""
        heap = [(-self.commit_time(start), start)]
        seen = {start}
        while heap:
            _, sha = heapq.heappop(heap)
            yield sha
            for parent in self.parents(sha):
                if parent not in seen:
                    seen.add(parent)
                    heapq.heappush(heap, (-self.commit_time(parent), parent))
