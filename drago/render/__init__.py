"""Desired state -> per-node configs with content hashes, wg-quick export, plans.

- :mod:`drago.render.config`: the rendered config models (the agent imports these);
- :mod:`drago.render.renderer`: the incremental :class:`Renderer`;
- :mod:`drago.render.wgquick`: wg-quick export;
- :mod:`drago.render.configdiff`: what changes per node between two renders.
"""

from __future__ import annotations

from drago.model.state import State
from drago.model.validate import Validator
from drago.render.config import InterfaceConfig, NodeConfig, PeerConfig, PendingPeer
from drago.render.configdiff import ConfigChange, NodePlan, Plan, plan_configs
from drago.render.renderer import Renderer
from drago.render.result import RenderResult
from drago.render.wgquick import to_wg_quick


def render_state(
    state: State, revision: str | None = None, *, validator: Validator | None = None
) -> RenderResult:
    """Render ``state`` once, without keeping a cache (``validator``: the one
    that validated ``state``, which already resolved its peer lists)."""
    return Renderer(validator=validator).render(state, revision)


__all__ = [
    "ConfigChange",
    "InterfaceConfig",
    "NodeConfig",
    "NodePlan",
    "PeerConfig",
    "PendingPeer",
    "Plan",
    "RenderResult",
    "Renderer",
    "plan_configs",
    "render_state",
    "to_wg_quick",
]
