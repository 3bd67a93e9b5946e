"""The REST API under ``/api/v1``: one module per resource, collected here.

Each module of this package exposes ``def routes() -> list[BaseRoute]`` whose
routes carry their full path (``f"{PREFIX}/networks"``) and are built with
:func:`drago.server.endpoint.endpoint`, so the OpenAPI document and the
authorization test can read every route's declaration from the app's route list.

:func:`routes` collects the modules listed in :data:`MODULES` that exist;
modules written later only need a line there.
"""

from __future__ import annotations

import importlib
import importlib.util

from starlette.routing import BaseRoute

PREFIX = "/api/v1"

#: API modules in the order their routes are matched (more specific paths first
#: where two patterns could match the same URL).
MODULES: tuple[str, ...] = (
    "meta",
    "config",
    "status",
    "tokens",
    "keys",
    "connections",
    "networks",
    "nodes",
    "revisions",
    "validate",
    "signers",
    "branches",
    "openapi",
)


def routes() -> list[BaseRoute]:
    """Every route of the REST API, from each module of :data:`MODULES` that exists."""
    collected: list[BaseRoute] = []
    for name in MODULES:
        qualified = f"{__name__}.{name}"
        if importlib.util.find_spec(qualified) is None:
            continue
        module = importlib.import_module(qualified)
        collected.extend(module.routes())
    return collected
