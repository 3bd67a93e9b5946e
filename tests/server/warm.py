"""Imported once by the fork server of :mod:`tests.server.forked`: everything a
``drago server`` start would otherwise import, including what is imported lazily
(the API modules, uvicorn's protocol and loop implementations, anyio's backend)."""

from __future__ import annotations

import anyio._backends._asyncio  # noqa: F401
import tomlkit  # noqa: F401
import uvicorn.lifespan.on
import uvicorn.loops.auto
import uvicorn.protocols.http.auto
import uvicorn.protocols.websockets.auto  # noqa: F401

import drago.cli.main
import drago.cli.server
from drago.server.app import app_routes

drago.cli.main.build_parser()
app_routes()
