"""Desired state -> per-node configs with content hashes, wg-quick export, plans.

- :mod:`drago.render.config`: the rendered config models (the agent imports these);
- :mod:`drago.render.renderer`: the incremental :class:`Renderer`;
- :mod:`drago.render.wgquick`: wg-quick export;
- :mod:`drago.render.plan`: what changes per node between two renders.
"""

from __future__ import annotations

from drago.model.state import State
from drago.render.config import InterfaceConfig, NodeConfig, PeerConfig, PendingPeer
from drago.render.renderer import Renderer
from drago.render.result import RenderResult


def render_state(state: State, revision: str | None = None) -> RenderResult:
    """Render ``state`` once, without keeping a cache."""
    return Renderer().render(state, revision)


__all__ = [
    "InterfaceConfig",
    "NodeConfig",
    "PeerConfig",
    "PendingPeer",
    "RenderResult",
    "Renderer",
    "render_state",
]
