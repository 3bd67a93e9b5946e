"""Review branches: what a branch would change, and merging it into the live branch.

Any branch but the live one is a review branch: pushed freely (unsigned too),
never live. :func:`review` validates what merging it would make of the live
branch, plans the per-node changes against the live revision and tells how it
could be merged. :func:`merge`
fast-forwards the live branch when every commit the branch brings carries a
trusted signature and the live branch is its ancestor; otherwise it squashes
the branch's changes into one commit authored by the merging admin and signed
by the server, whose message lists the branch's commits. No path brings an
unsigned or untrusted commit into the live branch's history.

Review and merge share one computation of the result (:func:`outcome`): the
branch's tree when the live branch is its ancestor, else the live branch's
files with the branch's own changes applied (a file changed on both sides is a
conflict, reported by the review and refused by the merge). A result whose
topology could be more work than ``max_topology`` (and than the live revision's)
is refused with 413 before it is resolved, for the review and the merge alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import anyio.to_thread

from drago.errors import ConfigError, Conflict, DragoError, InvalidRequest, NotFound, Problem
from drago.grammar import escape_message_text
from drago.model.state import State
from drago.model.validate import Bound, Validator
from drago.render.configdiff import Limits, Plan, plan_configs
from drago.render.renderer import Renderer
from drago.server.api.topology_size import size_bound
from drago.server.context import ServerContext
from drago.server.endpoint import Principal
from drago.signing import AllowedSigner, Trust
from drago.store import CommitInfo, Store

MergeMode = Literal["fast-forward", "squash"]


@dataclass(frozen=True)
class BranchCommit:
    """A commit the branch would bring to the live branch, with its signature status."""

    info: CommitInfo
    signer: AllowedSigner | None
    problem: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.info.id,
            "summary": self.info.summary,
            "author": str(self.info.author),
            "signed_by": self.signer.principal if self.signer is not None else None,
            "signature_problem": self.problem,
        }


Changes = Mapping[str, bytes | None]


@dataclass(frozen=True)
class Review:
    branch: str
    head: str
    base: str | None  # the live branch head it was compared with
    commits: tuple[BranchCommit, ...]
    up_to_date: bool  # the live branch head is an ancestor of the branch
    problems: tuple[Problem, ...] = ()
    plan: Plan | None = None
    conflict: str | None = None  # why the branch's changes do not apply to the live branch
    changes: Changes | None = None  # what a squash merge commits onto ``base``
    state: State | None = None  # the validated result of the merge

    @property
    def valid(self) -> bool:
        return not self.problems and self.conflict is None

    @property
    def merge_mode(self) -> MergeMode | None:
        if not self.valid or not self.commits:
            return None
        signed = all(c.signer is not None for c in self.commits)
        return "fast-forward" if signed and self.up_to_date else "squash"

    def as_dict(self) -> dict[str, object]:
        return {
            "branch": self.branch,
            "head": self.head,
            "base": self.base,
            "valid": self.valid,
            "problems": [p.as_dict() for p in self.problems],
            "conflict": self.conflict,
            "commits": [c.as_dict() for c in self.commits],
            "up_to_date": self.up_to_date,
            "merge": self.merge_mode,
            "plan": self.plan.to_dict() if self.plan is not None else None,
            "summary": self.plan.summary() if self.plan is not None else None,
            "markdown": self.plan.to_markdown() if self.plan is not None else None,
        }


def branch_head(store: Store, branch: str, live: str) -> str:
    if branch == live:
        raise InvalidRequest(f"{branch} is the live branch, not a review branch")
    head = store.branches().get(branch)
    if head is None:
        raise NotFound(f"there is no branch {branch!r}")
    return head


def branch_commits(
    store: Store, head: str, base: str | None, trust: Trust
) -> tuple[BranchCommit, ...]:
    found = []
    for sha in store.new_commits(head, exclude=[base] if base else []):
        commit = store.signed_commit(sha)
        try:
            signer: AllowedSigner | None = trust.verify(commit.payload, commit.signature)
            problem = None
        except DragoError as exc:
            signer, problem = None, exc.message
        found.append(BranchCommit(store.commit_info(sha), signer, problem))
    return tuple(found)


@dataclass(frozen=True)
class Outcome:
    """What merging the branch would make of the live branch: the changes a
    squash commits onto ``base`` and the validated result."""

    changes: Changes
    state: State


def outcome(
    store: Store,
    validator: Validator,
    head: str,
    base: str | None,
    up_to_date: bool,
    bound: Bound | None = None,
) -> Outcome:
    """The result of merging ``head`` into the live branch at ``base``, validated
    by ``validator`` (a dry view: a branch is anyone's push) after ``bound`` let
    its parsed files through.

    ConfigError when it is invalid, Conflict when a file changed on both sides.
    """
    changes = squash_changes(store, head, base)
    if base is None or up_to_date:
        # Fast-forward, or a squash whose changes turn base's tree into head's.
        return Outcome(changes, store.state(head, view=validator, bound=bound))
    return Outcome(changes, validator.validate_changes(store.files(base), changes, bound=bound))


def review_sync(ctx: ServerContext, branch: str, *, plan: Limits | None = None) -> Review:
    store = ctx.store
    head = branch_head(store, branch, ctx.branch)
    base = store.head(ctx.branch)
    commits = branch_commits(store, head, base, ctx.trust)
    up_to_date = base is None or store.is_ancestor(base, head)
    # A review branch is anyone's push: keep nothing of its squash in the server's caches.
    validator = ctx.validator.dry()
    # Nor resolve a topology that would be too much work (413, see topology_size).
    bound = size_bound(ctx.settings.max_topology, lambda: ctx.live.state, f"branch {branch}'s")
    try:
        result = outcome(store, validator, head, base, up_to_date, bound)
    except ConfigError as exc:
        return Review(branch, head, base, commits, up_to_date, tuple(exc.problems))
    except Conflict as exc:
        return Review(branch, head, base, commits, up_to_date, conflict=exc.message)
    found = Review(
        branch, head, base, commits, up_to_date, changes=result.changes, state=result.state
    )
    if plan is None:
        return found
    new = Renderer(validator=validator).render(result.state, head if up_to_date else None)
    return replace(found, plan=plan_configs(ctx.live.snapshot.result, new, plan))


async def review(ctx: ServerContext, branch: str, *, plan: Limits | None = None) -> Review:
    """Validate a review branch and (given ``plan``, the summary's limits) plan it
    against the live revision; a few at a time (``ctx.heavy``), in a worker thread."""
    return await ctx.heavy.run("the review", lambda: review_sync(ctx, branch, plan=plan))


@dataclass(frozen=True)
class Merged:
    mode: MergeMode
    revision: str
    commits: tuple[str, ...]


def squash_message(branch: str, commits: Sequence[BranchCommit]) -> str:
    lines = [f"Merge review branch {branch} (squashed)", ""]
    # Pushed summaries may hold any character: quoted so the server can commit them.
    lines += [
        f"- {c.info.id[:7]} {escape_message_text(c.info.summary)}"
        f" ({escape_message_text(str(c.info.author))})"
        for c in commits
    ]
    return "\n".join(lines) + "\n"


def squash_changes(store: Store, head: str, base: str | None) -> dict[str, bytes | None]:
    """The branch's changes since it left the live branch, applied onto ``base``.

    A file changed on both sides since then is a conflict: rebase the branch.
    """
    if base is None:
        return {f.path: f.data for f in store.files(head)}
    fork = _fork_point(store, head, base)
    changes: dict[str, bytes | None] = {}
    current = {f.path: f.blob_id for f in store.files(base)}
    for change in store.diff(fork, head):
        if fork is not None:
            ours = current.get(change.path)
            if ours != change.old_blob and ours != change.new_blob:
                raise Conflict(
                    f"{change.path} changed on both {store.branch} and the branch; "
                    "rebase the branch onto the live branch"
                )
        changes[change.path] = (
            store.read_blob(change.new_blob) if change.new_blob is not None else None
        )
    return changes


def _fork_point(store: Store, head: str, base: str) -> str | None:
    """The newest commit of ``base``'s history that the branch started from."""
    own = store.new_commits(head, exclude=[base])
    if not own:
        return head
    mine = set(own)
    outside = [p for sha in own for p in store.commit_info(sha).parents if p not in mine]
    return outside[-1] if outside else None


async def merge(
    ctx: ServerContext, branch: str, principal: Principal, *, head: str | None = None
) -> Merged:
    """Merge ``branch`` into the live branch; with ``head``, only if the branch points there."""
    found = await review(ctx, branch)
    if head is not None and found.head != head:
        raise Conflict(
            f"{branch} points at {found.head[:12]}, not at the reviewed {head[:12]}:"
            " review it again"
        )
    if found.conflict is not None:
        raise Conflict(found.conflict)
    if found.problems:
        raise ConfigError(found.problems)
    if not found.commits:
        raise InvalidRequest(f"{branch} brings no commits to {ctx.branch}: nothing to merge")
    ids = tuple(c.info.id for c in found.commits)
    if found.merge_mode == "fast-forward":
        assert found.state is not None  # a valid review has it
        await anyio.to_thread.run_sync(_fast_forward, ctx, found)
        await ctx.live.advance(found.head, found.state)
        return Merged("fast-forward", found.head, ids)
    assert found.changes is not None  # a valid review has them
    revision = await ctx.commit(
        found.changes,
        message=squash_message(branch, found.commits),
        principal=principal,
        base=found.base,
    )
    return Merged("squash", revision, ids)


def _fast_forward(ctx: ServerContext, found: Review) -> None:
    try:
        ctx.store.set_branch(ctx.branch, found.head, old=found.base)
    except Conflict:
        raise Conflict(
            f"{ctx.branch} moved while merging {found.branch}; review again and retry"
        ) from None
