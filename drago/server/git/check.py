"""The push check: which ref updates a push may make, decided before any ref moves.

Policy (``docs/gitops.md``): only branches may be pushed. The live branch
only moves forward, is never deleted, every commit the push brings to it
carries a trusted SSH signature, and its new tip passes the validator. Other
branches (review branches) take anything and are never live.

The check reads objects through an :class:`ObjectReader` over the quarantine,
so it sees the pushed objects before they enter the repository.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from drago.errors import ConfigError, DragoError, NotFound, PushRejected
from drago.model.state import SourceFile, State
from drago.model.validate import validate_files
from drago.server.git.refnames import branch_problem
from drago.signing import Signer, TrustedSigners, verify_commit
from drago.store.graph import CommitGraph
from drago.store.objects import ObjectReader, tree_id
from drago.store.trees import FileLister

HEADS = "refs/heads/"
ZERO = "0" * 40


@dataclass(frozen=True)
class RefUpdate:
    """One ``old new ref`` command of a push; None for a missing side."""

    ref: str
    old: str | None
    new: str | None

    @property
    def branch(self) -> str | None:
        return self.ref[len(HEADS) :] if self.ref.startswith(HEADS) else None


@dataclass(frozen=True)
class Verdict:
    """The outcome for one ref: accepted (``reason`` None) or why not."""

    update: RefUpdate
    reason: str | None = None
    signers: tuple[Signer, ...] = ()
    #: the new tip failed validation (as opposed to a signature or policy problem)
    invalid: bool = False
    #: the validated state of the new tip of the live branch (it goes live with it)
    state: State | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def short(sha: str) -> str:
    return sha[:7]


def one_line(error: ConfigError) -> str:
    """The first problem of a ConfigError, and how many more there are."""
    first = str(error.problems[0]) if error.problems else error.message
    more = len(error.problems) - 1
    return f"{first} (and {more} more)" if more > 0 else first


class History(Protocol):
    """The repository's own commit graph (cached across pushes), e.g. the store."""

    def has_commit(self, sha: str) -> bool: ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...


class PushCheck:
    """Decides each ref update of one push.

    With ``history`` (the repository's own, cached commit graph) the walk for
    the live branch stops at the first commits of its existing history, so a
    push costs what it brings, not the length of the history.
    """

    def __init__(
        self,
        reader: ObjectReader,
        signers: TrustedSigners,
        *,
        live_branch: str,
        known_blob: Callable[[str], bytes] | None = None,
        history: History | None = None,
    ) -> None:
        """``known_blob`` reads blobs the repository already has (cached by the store);
        blobs it does not know (NotFound) are read from ``reader``."""
        self._reader = reader
        self._known_blob = known_blob
        self._history = history
        self._graph = CommitGraph(reader)
        self._lister = FileLister(reader)
        self._signers = signers
        self._live = live_branch

    def check_all(self, updates: Sequence[RefUpdate]) -> list[Verdict]:
        return [self.check(update) for update in updates]

    def check(self, update: RefUpdate) -> Verdict:
        try:
            signers, state = self._check(update)
        except PushRejected as exc:
            return Verdict(update, exc.message, invalid=exc.details == "invalid")
        return Verdict(update, None, signers, state=state)

    def _check(self, update: RefUpdate) -> tuple[tuple[Signer, ...], State | None]:
        branch = update.branch
        if branch is None:
            raise PushRejected(f"only branches (refs/heads/*) can be pushed, not {update.ref}")
        problem = branch_problem(branch, deleting=update.new is None)
        if problem is not None:
            raise PushRejected(f"invalid branch name {problem}")
        if update.new is None:
            if branch == self._live:
                raise PushRejected(f"the live branch {branch} cannot be deleted")
            return (), None
        try:
            if self._reader.kind(update.new) != b"commit":
                raise PushRejected(f"{short(update.new)} is not a commit")
        except NotFound:
            raise PushRejected(f"{short(update.new)} is missing from the push") from None
        if branch != self._live:
            return (), None
        return self._check_live(update.new, update.old)

    def _in_history(self, sha: str, old: str) -> bool:
        """Whether ``sha`` is ``old`` or one of its ancestors."""
        if sha == old:
            return True
        if self._history is not None:
            return self._history.has_commit(sha) and self._history.is_ancestor(sha, old)
        return self._graph.is_ancestor(sha, old)

    def new_commits(self, new: str, old: str | None) -> tuple[list[str], bool]:
        """Commits reachable from ``new`` but not from ``old``, parents first, and
        whether ``old`` is an ancestor of ``new`` (a fast-forward)."""
        reached = old is None
        found: set[str] = set()
        stack, seen = [new], {new}
        while stack:
            sha = stack.pop()
            if old is not None and self._in_history(sha, old):
                reached = reached or sha == old
                continue
            found.add(sha)
            for parent in self._graph.parents(sha):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return self._parents_first(found), reached

    def _parents_first(self, commits: set[str]) -> list[str]:
        ordered: list[str] = []
        done: set[str] = set()
        for start in sorted(commits):
            stack = [(start, False)]
            while stack:
                sha, expanded = stack.pop()
                if sha in done:
                    continue
                if expanded:
                    done.add(sha)
                    ordered.append(sha)
                    continue
                stack.append((sha, True))
                stack.extend(
                    (p, False) for p in self._graph.parents(sha) if p in commits and p not in done
                )
        return ordered

    def _check_live(self, new: str, old: str | None) -> tuple[tuple[Signer, ...], State]:
        # Only the live branch's own history is trusted: a commit that reached the
        # server through a review branch is checked like any other new commit.
        commits, fast_forward = self.new_commits(new, old)
        if old is not None and not fast_forward:
            raise PushRejected(
                f"non-fast-forward: {self._live} cannot be rewritten "
                f"({short(old)} is not an ancestor of {short(new)}); fetch and rebase"
            )
        signers = []
        for sha in commits:
            commit = self._reader.commit(sha)
            try:
                signers.append(
                    verify_commit(commit.raw_without_sig(), commit.gpgsig, self._signers)
                )
            except DragoError as exc:
                raise PushRejected(f"commit {short(sha)}: {exc.message}") from None
        try:
            state = validate_files(self.files(new))
        except ConfigError as exc:
            raise PushRejected(
                f"commit {short(new)}: invalid: {one_line(exc)}", details="invalid"
            ) from None
        return tuple(signers), state

    def _blob(self, sha: str) -> bytes:
        if self._known_blob is not None:
            try:
                return self._known_blob(sha)
            except NotFound:
                pass
        return self._reader.blob(sha)

    def files(self, commit: str) -> list[SourceFile]:
        files = []
        for path, entry in self._lister.files(tree_id(self._reader.commit(commit))):
            data = b"" if entry.is_submodule else self._blob(entry.sha)
            files.append(SourceFile(path=path, data=data, mode=entry.mode, blob_id=entry.sha))
        return files
