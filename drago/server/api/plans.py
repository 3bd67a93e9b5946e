"""Per-node plans between two revisions (or a revision and a proposed state)."""

from __future__ import annotations

from typing import Any

from drago.errors import ConfigError
from drago.model.state import State
from drago.render.plan import plan_configs
from drago.render.renderer import Renderer
from drago.server.api.common import Snapshot
from drago.server.context import ServerContext


def plan_between(ctx: ServerContext, old: str | None, new: State) -> dict[str, Any] | None:
    """What ``new`` changes per node against the state at revision ``old``.

    None when the old revision is not a valid state (nothing to compare with).
    """
    try:
        before = Snapshot(ctx, old).state()
    except ConfigError:
        return None
    renderer = Renderer()
    plan = plan_configs(renderer.render(before, old), renderer.render(new))
    result: dict[str, Any] = plan.to_dict()
    return result
