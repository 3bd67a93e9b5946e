"""``POST /api/v1/validate``: a dry run of a change set; never commits.

The changes are applied to the files of ``base`` (default: the branch head) and
checked by the same validator as every write; a valid result comes with the
per-node plan it would cause, as a summary (:mod:`drago.server.api.plan_summary`).
Validation and planning run through the server's :class:`WorkLimit` (a few at
a time, in a worker thread): any reader can send a large change set. One whose
topology could exceed ``max_topology`` (and the base's own) is refused with
413 before it is resolved.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from drago.errors import ConfigError
from drago.server.api import PREFIX
from drago.server.api.common import Snapshot, context, json_response
from drago.server.api.models import ProblemOut, ValidateRequest, ValidateResult
from drago.server.api.plan_summary import NODE_QUERY, plan_between, plan_limits
from drago.server.api.topology_size import size_bound
from drago.server.endpoint import Principal, endpoint, parse_body


@endpoint(
    "read",
    "Validate a change set without committing it; problems and the per-node plan",
    request=ValidateRequest,
    response=ValidateResult,
    query=NODE_QUERY,
    tags=("validate",),
)
async def validate(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    limits = plan_limits(request)
    body = await parse_body(request, ValidateRequest)
    changes = {
        path: None if text is None else text.encode("utf-8") for path, text in body.changes.items()
    }

    def run() -> ValidateResult:
        base = ctx.store.resolve(body.base) if body.base else ctx.store.head(ctx.branch)
        files = ctx.store.files(base) if base else []
        # The request's files are seen once: keep nothing of them in the server's caches.
        validator = ctx.validator.dry()
        bound = size_bound(ctx.settings.max_topology, Snapshot(ctx, base).state, "the changes'")
        try:
            state = validator.validate_changes(files, changes, bound=bound)
        except ConfigError as exc:
            problems = [ProblemOut(**p.as_dict()) for p in exc.problems]
            return ValidateResult(valid=False, base=base, problems=problems, plan=None)
        plan = plan_between(ctx, base, state, limits, validator)
        return ValidateResult(valid=True, base=base, problems=[], plan=plan)

    return json_response(await ctx.heavy.run("the validation", run))


def routes() -> list[BaseRoute]:
    return [Route(f"{PREFIX}/validate", validate, methods=["POST"])]
