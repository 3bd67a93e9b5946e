"""``/api/v1/networks/{network}/connections``: the ``[[connections]]`` of a network file.

A connection is addressed by its position in the file (0-based). Positions move
when one is deleted, so clients that edit by index should send ``If-Match``.
"""

from __future__ import annotations

import tomllib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from drago.errors import InvalidRequest, NotFound
from drago.model import documents
from drago.model.names import file_path
from drago.server.api import PREFIX
from drago.server.api.common import (
    Snapshot,
    context,
    in_thread,
    json_response,
    live_snapshot,
    load_spec,
    message_or,
    name_param,
    write,
)
from drago.server.api.models import (
    CommitMessage,
    Committed,
    ConnectionCommitted,
    ConnectionList,
    ConnectionOut,
    ConnectionWrite,
)
from drago.server.api.specs import NetworkSpec, spec_data
from drago.server.endpoint import Principal, endpoint, parse_body

TAGS = ("connections",)


def _index(request: Request) -> int:
    raw = str(request.path_params["index"])
    if not raw.isdigit() or len(raw) > 6:
        raise InvalidRequest(f"index: {raw!r} is not a connection position (0, 1, ...)")
    return int(raw)


def _connections(text: str) -> tuple[dict[str, Any], list[Any]]:
    data = tomllib.loads(text)
    connections = data.get("connections", [])
    if not isinstance(connections, list):
        connections = []
    return data, connections


def _existing(
    snapshot: Snapshot, network: str, index: int
) -> tuple[str, dict[str, Any], list[Any]]:
    """The network file's text, data and connections; NotFound without connection ``index``."""
    text = snapshot.require("networks", network)
    data, connections = _connections(text)
    if index >= len(connections):
        raise NotFound(
            f"network {network!r} has no connection {index} (it has {len(connections)})",
            details={"path": file_path("networks", network), "index": index},
        )
    return text, data, connections


@endpoint("read", "List a network's connections", response=ConnectionList, tags=TAGS)
async def list_connections(request: Request, principal: Principal | None) -> Response:
    network = name_param(request, "network")
    snapshot = live_snapshot(context(request))
    path = file_path("networks", network)
    spec = await in_thread(
        lambda: load_spec(path, snapshot.require("networks", network), NetworkSpec)
    )
    found = spec_data(spec).get("connections", [])
    items = [
        ConnectionOut.model_validate({"index": i, "connection": c}) for i, c in enumerate(found)
    ]
    body = ConnectionList(network=network, revision=snapshot.revision, connections=items)
    return json_response(body, revision=snapshot.revision)


@endpoint(
    "admin",
    "Add a connection at the end of a network's connections",
    request=ConnectionWrite,
    response=ConnectionCommitted,
    status_code=201,
    tags=TAGS,
)
async def add_connection(request: Request, principal: Principal | None) -> Response:
    network = name_param(request, "network")
    body = await parse_body(request, ConnectionWrite)
    path = file_path("networks", network)
    position: list[int] = []

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        text = snapshot.require("networks", network)
        data, connections = _connections(text)
        position[:] = [len(connections)]
        data["connections"] = [*connections, spec_data(body.connection)]
        return {path: documents.update(path, text, data).encode()}

    default = f"api: add a connection to {path}"
    done = await write(request, principal, change, message=message_or(body.message, default))
    out = ConnectionCommitted(**done.model_dump(), index=position[0])
    return json_response(out, status=201, revision=done.revision)


@endpoint(
    "admin",
    "Replace a connection",
    request=ConnectionWrite,
    response=ConnectionCommitted,
    tags=TAGS,
)
async def update_connection(request: Request, principal: Principal | None) -> Response:
    network = name_param(request, "network")
    index = _index(request)
    body = await parse_body(request, ConnectionWrite)
    path = file_path("networks", network)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        text, data, connections = _existing(snapshot, network, index)
        connections[index] = spec_data(body.connection)
        data["connections"] = connections
        return {path: documents.update(path, text, data).encode()}

    default = f"api: update connection {index} of {path}"
    done = await write(request, principal, change, message=message_or(body.message, default))
    out = ConnectionCommitted(**done.model_dump(), index=index)
    return json_response(out, revision=done.revision)


@endpoint("admin", "Delete a connection", request=CommitMessage, response=Committed, tags=TAGS)
async def delete_connection(request: Request, principal: Principal | None) -> Response:
    network = name_param(request, "network")
    index = _index(request)
    body = await parse_body(request, CommitMessage)
    path = file_path("networks", network)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        text, _, _ = _existing(snapshot, network, index)
        return {path: documents.remove_array_item(path, text, "connections", index).encode()}

    default = f"api: delete connection {index} of {path}"
    done = await write(request, principal, change, message=message_or(body.message, default))
    return json_response(done, revision=done.revision)


def routes() -> list[BaseRoute]:
    base = f"{PREFIX}/networks/{{network}}/connections"
    return [
        Route(base, list_connections, methods=["GET"]),
        Route(base, add_connection, methods=["POST"]),
        Route(f"{base}/{{index}}", update_connection, methods=["PUT"]),
        Route(f"{base}/{{index}}", delete_connection, methods=["DELETE"]),
    ]
