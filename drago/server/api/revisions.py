"""``/api/v1/revisions``: the history of the live branch, one commit's changes and
plan, and reverting a commit.

``signature`` of a revision is ``server`` (signed by this server's key),
``verified`` (signed by a trusted signer), ``unverified`` (signed, but the
signature does not verify against a trusted key), or ``unsigned``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from drago.errors import ConfigError, Conflict, InvalidRequest
from drago.grammar import escape_message_text
from drago.model.names import file_path
from drago.server.api import PREFIX
from drago.server.api.common import (
    Snapshot,
    context,
    in_thread,
    json_response,
    message_or,
    query_int,
    write,
)
from drago.server.api.models import (
    CommitMessage,
    Committed,
    FileDiff,
    Person,
    ProblemOut,
    RevisionDetail,
    RevisionList,
    RevisionOut,
)
from drago.server.api.plan_summary import NODE_QUERY, plan_between, plan_limits
from drago.server.api.signatures import signature_status
from drago.server.api.topology_size import size_bound
from drago.server.context import ServerContext
from drago.server.endpoint import Principal, endpoint, parse_body
from drago.store import CommitInfo

TAGS = ("revisions",)
MAX_LIMIT = 1000


def revision_out(ctx: ServerContext, info: CommitInfo) -> RevisionOut:
    return RevisionOut(
        id=info.id,
        parents=list(info.parents),
        author=Person(name=info.author.name, email=info.author.email),
        committer=Person(name=info.committer.name, email=info.committer.email),
        time=info.author_time,
        message=info.message,
        paths=list(info.paths or ()),
        signature=signature_status(ctx, info),
    )


def _newer_first(ctx: ServerContext) -> Callable[[CommitInfo, CommitInfo], int]:
    """Order commits newest first: by author time, and by ancestry within one second."""

    def compare(a: CommitInfo, b: CommitInfo) -> int:
        if a.author_time != b.author_time:
            return -1 if a.author_time > b.author_time else 1
        if a.id == b.id:
            return 0
        return 1 if ctx.store.is_ancestor(a.id, b.id) else -1

    return compare


def _history(
    ctx: ServerContext, start: str, paths: list[str | None], limit: int, skip: int
) -> list[CommitInfo]:
    """Newest first; with several paths, the commits that changed any of them."""
    seen: dict[str, CommitInfo] = {}
    for path in paths:
        for info in ctx.store.history(start, path=path, limit=limit + skip):
            seen.setdefault(info.id, info)
    ordered = sorted(seen.values(), key=functools.cmp_to_key(_newer_first(ctx)))
    return [ctx.store.commit_info(c.id) for c in ordered[skip : skip + limit]]


@endpoint(
    "read",
    "History of the live branch, newest first",
    response=RevisionList,
    query={
        "path": "only commits that changed this file (or folder)",
        "node": "only commits that changed this node's node or keys file",
        "limit": f"at most this many (1-{MAX_LIMIT}, default 50)",
        "before": "only commits older than this revision (for paging)",
    },
    tags=TAGS,
)
async def list_revisions(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    params = request.query_params
    limit = query_int(request, "limit", 50, low=1, high=MAX_LIMIT)
    paths: list[str | None] = [None]
    if "node" in params:
        node = params["node"]
        try:
            paths = [file_path("nodes", node), file_path("keys", node)]
        except ValueError as exc:
            raise InvalidRequest(f"node: {exc}") from None
    elif params.get("path"):
        paths = [params["path"].strip("/")]
    before = params.get("before")

    def read() -> list[RevisionOut]:
        start = ctx.store.resolve(before) if before else ctx.store.head(ctx.branch)
        if start is None:
            return []
        found = _history(ctx, start, paths, limit, 1 if before else 0)
        return [revision_out(ctx, info) for info in found]

    revisions = await in_thread(read)
    return json_response(RevisionList(revisions=revisions))


@endpoint(
    "read",
    "One revision: its changed files with unified diffs and the per-node plan",
    response=RevisionDetail,
    query=NODE_QUERY,
    tags=TAGS,
)
async def get_revision(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    rev = str(request.path_params["rev"])
    limits = plan_limits(request)

    def read() -> RevisionDetail:
        info = ctx.store.commit_info(ctx.store.resolve(rev))
        parent = info.parents[0] if info.parents else None
        files = [
            FileDiff(
                path=change.path,
                status=change.status,
                diff=ctx.store.unified_diff(parent, info.id, change.path),
            )
            for change in ctx.store.diff(parent, info.id)
        ]
        problems: list[ProblemOut] = []
        plan = None
        # An old revision is only looked at: keep nothing of it in the server's caches,
        # and refuse one whose topology would be too much work (see topology_size).
        validator = ctx.validator.dry()
        bound = size_bound(
            ctx.settings.max_topology, lambda: ctx.live.state, f"revision {info.id[:12]}'s"
        )
        try:
            state = ctx.store.state(info.id, view=validator, bound=bound)
            plan = plan_between(ctx, parent, state, limits, validator, bound)
        except ConfigError as exc:
            problems = [ProblemOut(**p.as_dict()) for p in exc.problems]
        base = revision_out(ctx, info)
        return RevisionDetail(**base.model_dump(), files=files, plan=plan, problems=problems)

    detail = await ctx.heavy.run("the revision", read)
    return json_response(detail, revision=detail.id)


@endpoint(
    "admin",
    "Revert a revision: a new commit undoing its changes on top of the head",
    request=CommitMessage,
    response=Committed,
    status_code=201,
    tags=TAGS,
)
async def revert_revision(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    rev = str(request.path_params["rev"])
    body = await parse_body(request, CommitMessage)
    info = await in_thread(lambda: ctx.store.commit_info(ctx.store.resolve(rev)))
    parent = info.parents[0] if info.parents else None
    changes = await in_thread(lambda: ctx.store.diff(parent, info.id))

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        inverse: dict[str, bytes | None] = {}
        for item in changes:
            now = snapshot.read(item.path)
            then = ctx.store.read_blob(item.new_blob) if item.new_blob else None
            if now != then:
                raise Conflict(
                    f"{item.path} changed after {info.id[:12]}; the revert does not apply"
                    " cleanly (edit the file instead)",
                    details={"path": item.path, "revision": info.id},
                )
            inverse[item.path] = ctx.store.read_blob(item.old_blob) if item.old_blob else None
        return inverse

    summary = escape_message_text(info.summary)  # a pushed commit's: any character
    default = f'Revert "{summary}"\n\nThis reverts commit {info.id}.'
    done = await write(request, principal, change, message=message_or(body.message, default))
    return json_response(done, status=201, revision=done.revision)


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/revisions", list_revisions, methods=["GET"]),
        Route(f"{PREFIX}/revisions/{{rev}}", get_revision, methods=["GET"]),
        Route(f"{PREFIX}/revisions/{{rev}}/revert", revert_revision, methods=["POST"]),
    ]
