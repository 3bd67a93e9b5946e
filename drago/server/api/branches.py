"""Review branches: list them, see what one would change, merge it into the live branch."""

from __future__ import annotations

from typing import Literal

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from drago.server.api import PREFIX
from drago.server.api.common import context
from drago.server.api.models import PlanOut, ProblemOut
from drago.server.api.plan_summary import NODE_QUERY, plan_limits
from drago.server.endpoint import Principal, endpoint, parse_body
from drago.server.review import merge, review


class BranchOut(BaseModel):
    name: str
    head: str = Field(description="commit the branch points to")
    live: bool = Field(description="true for the live branch (main)")


class BranchList(BaseModel):
    live_branch: str
    branches: list[BranchOut]


class BranchCommitOut(BaseModel):
    id: str
    summary: str
    author: str
    signed_by: str | None = Field(description="principal of the trusted signer, if any")
    signature_problem: str | None


class ReviewOut(BaseModel):
    branch: str
    head: str
    base: str | None = Field(description="the live branch head compared with")
    valid: bool
    problems: list[ProblemOut] = Field(description="validation problems (path, key, message)")
    conflict: str | None = Field(
        description="why the branch's changes do not apply to the live branch (rebase it)"
    )
    commits: list[BranchCommitOut] = Field(description="commits the branch brings, oldest first")
    up_to_date: bool = Field(description="the live branch head is an ancestor of the branch")
    merge: Literal["fast-forward", "squash"] | None = Field(
        description="how POST .../merge would merge it (null: it cannot be merged)"
    )
    plan: PlanOut | None = Field(description="per-node changes against the live revision")
    summary: str | None
    markdown: str | None = Field(description="the plan as Markdown, for a pull request comment")


class MergeRequest(BaseModel):
    """Optional body of a merge (an empty body merges the branch's current head)."""

    model_config = ConfigDict(extra="forbid")

    head: str | None = Field(
        None,
        pattern="^[0-9a-f]{40}$",
        description="merge only if the branch still points at this commit (the one reviewed)",
    )


class MergeOut(BaseModel):
    mode: Literal["fast-forward", "squash"]
    revision: str = Field(description="the live branch head after the merge")
    commits: list[str] = Field(description="the branch's commits that were merged")


@endpoint("read", "List branches", response=BranchList, tags=("branches",))
async def list_branches(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    heads = await anyio.to_thread.run_sync(ctx.store.branches)
    branches = [
        BranchOut(name=name, head=head, live=name == ctx.branch) for name, head in heads.items()
    ]
    body = BranchList(live_branch=ctx.branch, branches=branches)
    return JSONResponse(body.model_dump(mode="json"))


@endpoint(
    "read",
    "Validate a review branch and plan its per-node changes against the live revision",
    response=ReviewOut,
    query=NODE_QUERY,
    tags=("branches",),
)
async def branch_plan(request: Request, principal: Principal | None) -> Response:
    limits = plan_limits(request)
    found = await review(context(request), request.path_params["name"], plan=limits)
    body = ReviewOut.model_validate(found.as_dict())
    return JSONResponse(body.model_dump(mode="json"))


@endpoint(
    "admin",
    "Merge a review branch: fast-forward if every commit is trusted-signed, else squash",
    request=MergeRequest,
    response=MergeOut,
    tags=("branches",),
)
async def merge_branch(request: Request, principal: Principal | None) -> Response:
    assert principal is not None  # admin endpoints always have one
    asked = await parse_body(request, MergeRequest)
    merged = await merge(context(request), request.path_params["name"], principal, head=asked.head)
    body = MergeOut(mode=merged.mode, revision=merged.revision, commits=list(merged.commits))
    return JSONResponse(body.model_dump(mode="json"))


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/branches", list_branches, methods=["GET"]),
        Route(f"{PREFIX}/branches/{{name:path}}/plan", branch_plan, methods=["GET"]),
        Route(f"{PREFIX}/branches/{{name:path}}/merge", merge_branch, methods=["POST"]),
    ]
