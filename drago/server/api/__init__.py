"""The REST API under ``/api/v1``: one module per resource, collected here.

Each module of this package exposes ``def routes() -> list[BaseRoute]`` whose
routes carry their full path (``f"{PREFIX}/networks"``) and are built with
:func:`drago.server.endpoint.endpoint`, so the OpenAPI document and the
authorization test can read every route's declaration from the app's route list.

:func:`routes` names every module explicitly (the type checker sees each one; a
missing module is an error). A new module adds its line there.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

PREFIX = "/api/v1"


def routes() -> list[BaseRoute]:
    """Every route of the REST API, in the order they are matched (more specific
    paths first where two patterns could match the same URL)."""
    # Imported here, not above: every module imports PREFIX from this package.
    from drago.server.api import (
        branches,
        config,
        connections,
        keys,
        meta,
        networks,
        nodes,
        openapi,
        revisions,
        signers,
        status,
        tokens,
        validate,
    )

    return [
        *meta.routes(),
        *config.routes(),
        *status.routes(),
        *tokens.routes(),
        *keys.routes(),
        *connections.routes(),
        *networks.routes(),
        *nodes.routes(),
        *revisions.routes(),
        *validate.routes(),
        *signers.routes(),
        *branches.routes(),
        *openapi.routes(),
    ]
