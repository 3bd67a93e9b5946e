"""The push check: which ref updates a push may make, decided before any ref moves.

Policy (``docs/gitops.md``): only branches may be pushed. The live branch
only moves forward, is never deleted, every commit the push brings to it
carries a trusted SSH signature, and its new tip passes the validator. Other
branches (review branches) take anything and are never live. Every pushed tip
whose topology could be more work than ``max_topology`` (and than the live
revision's) is refused, before it is validated or later reviewed.

The check reads objects through the store's view of the quarantine
(:meth:`Store.view`), so it sees the pushed objects before they enter the
repository, and checks signatures with the server's :class:`Trust`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from drago.errors import ConfigError, DragoError, NotFound, PayloadTooLarge, PushRejected
from drago.model.state import State
from drago.model.validate import Bound, Validator
from drago.server.git.refnames import branch_problem
from drago.signing import AllowedSigner, Trust
from drago.store.view import ObjectView

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
    signers: tuple[AllowedSigner, ...] = ()
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


class PushCheck:
    """Decides each ref update of one push.

    Whether a commit is in the live branch's history is asked of the
    repository's own, cached commit graph (through the view), so the walk for
    the live branch stops at the first commits of its existing history and a
    push costs what it brings, not the length of the history.
    """

    def __init__(
        self,
        objects: ObjectView,
        trust: Trust,
        *,
        live_branch: str,
        validator: Validator | None = None,
        size: Callable[[str], Bound] | None = None,
        tip_only: bool = False,
    ) -> None:
        """``validator``: the server's (a pushed head usually goes live next), else one
        of its own. ``size`` gives, for a description of the pushed tip, the bound
        that refuses a tree whose topology would be too much work (``max_topology``):
        asked of every pushed branch, before a review branch is planned or the live
        branch's tip is validated. ``tip_only``: verify the signature of the live
        branch's new tip alone, not of every new commit (a replica's mirror: the
        primary checked each commit when it came in, and a signed tip covers its
        whole history through the parent hashes, so an old commit signed by a key
        trusted then but removed since does not keep a new replica from joining)."""
        self._validator = validator if validator is not None else Validator()
        self._size = size
        self._objects = objects
        self._trust = trust
        self._live = live_branch
        self._tip_only = tip_only

    def check_all(self, updates: Sequence[RefUpdate]) -> list[Verdict]:
        return [self.check(update) for update in updates]

    def check(self, update: RefUpdate) -> Verdict:
        try:
            signers, state = self._check(update)
        except PushRejected as exc:
            return Verdict(update, exc.message, invalid=exc.details == "invalid")
        return Verdict(update, None, signers, state=state)

    def _check(self, update: RefUpdate) -> tuple[tuple[AllowedSigner, ...], State | None]:
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
            if self._objects.kind(update.new) != b"commit":
                raise PushRejected(f"{short(update.new)} is not a commit")
        except NotFound:
            raise PushRejected(f"{short(update.new)} is missing from the push") from None
        if branch != self._live:
            if self._size is not None:
                parsed, _, _ = self._validator.dry().load_state(self._objects.files(update.new))
                self._bounded(self._size(f"commit {short(update.new)}: the"), parsed)
            return (), None
        return self._check_live(update.new, update.old)

    @staticmethod
    def _bounded(bound: Bound, state: State) -> None:
        try:
            bound(state)
        except PayloadTooLarge as exc:
            raise PushRejected(exc.message) from None

    def new_commits(self, new: str, old: str | None) -> tuple[list[str], bool]:
        """Commits reachable from ``new`` but not from ``old``, parents first, and
        whether ``old`` is an ancestor of ``new`` (a fast-forward)."""
        reached = old is None
        found: set[str] = set()
        stack, seen = [new], {new}
        while stack:
            sha = stack.pop()
            if old is not None and self._objects.in_history(sha, old):
                reached = reached or sha == old
                continue
            found.add(sha)
            for parent in self._objects.parents(sha):
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
                    (p, False) for p in self._objects.parents(sha) if p in commits and p not in done
                )
        return ordered

    def _check_live(self, new: str, old: str | None) -> tuple[tuple[AllowedSigner, ...], State]:
        # Only the live branch's own history is trusted: a commit that reached the
        # server through a review branch is checked like any other new commit.
        commits, fast_forward = self.new_commits(new, old)
        if old is not None and not fast_forward:
            raise PushRejected(
                f"non-fast-forward: {self._live} cannot be rewritten "
                f"({short(old)} is not an ancestor of {short(new)}); fetch and rebase"
            )
        signers = []
        for sha in [new] if self._tip_only else commits:
            commit = self._objects.signed_commit(sha)
            try:
                signers.append(self._trust.verify(commit.payload, commit.signature))
            except DragoError as exc:
                raise PushRejected(f"commit {short(sha)}: {exc.message}") from None
        size = self._size
        bound = None if size is None else partial(self._bounded, size(f"commit {short(new)}: the"))
        try:
            state = self._validator.validate_files(self._objects.files(new), bound=bound)
        except ConfigError as exc:
            raise PushRejected(
                f"commit {short(new)}: invalid: {one_line(exc)}", details="invalid"
            ) from None
        return tuple(signers), state
