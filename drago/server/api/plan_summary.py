"""Per-node plans in API answers: summaries of bounded size.

A plan in an answer (validate, a revision, a review branch) lists at most
:data:`PLAN_NODES` affected nodes (fewer once their rendered configs add up to
:data:`PLAN_BYTES`) and at most :data:`PLAN_CHANGES` changes per node, with
what it left out: ``more_nodes`` names the other affected nodes (with their
status; ``omitted_nodes`` counts them), ``omitted_changes`` per listed node
counts its changes not shown, ``counts`` has every status's total.
``?node=NAME`` asks for one node's full plan instead. Either way the answer's
size and the work behind it are bounded by the render, not by the number of
nodes times their peers.
"""

from __future__ import annotations

from starlette.requests import Request

from drago.errors import ConfigError, InvalidRequest
from drago.model.names import name_problem
from drago.model.state import State
from drago.model.validate import Bound, Validator
from drago.render.configdiff import Limits, plan_configs
from drago.render.renderer import Renderer
from drago.render.result import RenderResult
from drago.server.api.common import Snapshot
from drago.server.api.models import PlanOut
from drago.server.context import ServerContext

#: Most affected nodes a plan in an API answer lists (in name order).
PLAN_NODES = 25
#: Most changes a plan in an API answer lists per node.
PLAN_CHANGES = 25
#: Once the rendered configs compared for a plan's listed nodes add up to this
#: many bytes, it lists no further node (in a 2,000-node mesh a node's config is
#: about 300 kB, so about 14 nodes are listed).
PLAN_BYTES = 4 << 20

#: The query parameter of every endpoint that answers with a plan.
NODE_QUERY = {
    "node": f"only this node's plan, with all its changes (default: the first {PLAN_NODES}"
    f" affected nodes, fewer once their configs add up to {PLAN_BYTES >> 20} MiB, with at"
    f" most {PLAN_CHANGES} changes each; the others are named in more_nodes)"
}


def plan_limits(request: Request) -> Limits:
    """The summary limits, or one node's full plan with ``?node=NAME``."""
    node = request.query_params.get("node")
    if node is None:
        return Limits(nodes=PLAN_NODES, changes=PLAN_CHANGES, budget=PLAN_BYTES)
    problem = name_problem(node)
    if problem is not None:
        raise InvalidRequest(f"node: {problem}", details={"field": "node"})
    return Limits(only=node)


def rendered(
    ctx: ServerContext,
    revision: str | None,
    renderer: Renderer,
    validator: Validator,
    bound: Bound | None = None,
) -> RenderResult | None:
    """The render of ``revision``: the live one as it is, another one validated by
    ``validator`` (a view: the state is not kept) and rendered by ``renderer``
    (which then renders a similar state incrementally); ``bound`` may refuse it.

    None when the revision is not a valid state (nothing to compare with).
    """
    snapshot = ctx.live.snapshot
    if revision is not None and revision == snapshot.revision:
        return snapshot.result
    try:
        state = Snapshot(ctx, revision).state(view=validator, bound=bound)
    except ConfigError:
        return None
    return renderer.render(state, revision)


def plan_between(
    ctx: ServerContext,
    old: str | None,
    new: State,
    limits: Limits,
    validator: Validator,
    bound: Bound | None = None,
) -> PlanOut | None:
    """What ``new`` changes per node against the state at revision ``old``, as a
    summary within ``limits``; None when ``old`` is not a valid state. ``validator``
    is the one that validated ``new`` (a dry view, which keeps its content to
    itself); it validates ``old`` too when that is not live (refused by ``bound``)."""
    renderer = Renderer(validator=validator)
    before = rendered(ctx, old, renderer, validator, bound)
    if before is None:
        return None
    return PlanOut.model_validate(plan_configs(before, renderer.render(new), limits).to_dict())
