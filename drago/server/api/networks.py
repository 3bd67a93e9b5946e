"""``/api/v1/networks``: the files ``networks/<network>.toml``.

Deleting a network that nodes still join is refused by the validator (422 naming
each node file) unless ``?cascade=true``, which also removes the node files'
``[interfaces.<network>]`` tables and the registered keys for that network, in
the same commit.
"""

from __future__ import annotations

import tomllib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from drago.errors import Conflict
from drago.model.names import file_path
from drago.server import documents
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
    new_text,
    write,
)
from drago.server.api.keys import keys_text
from drago.server.api.models import (
    CommitMessage,
    Committed,
    NetworkCreate,
    NetworkList,
    NetworkOut,
    NetworkSpec,
    NetworkWrite,
)
from drago.server.context import ServerContext
from drago.server.endpoint import Principal, endpoint, parse_body

TAGS = ("networks",)


def network_out(ctx: ServerContext, snapshot: Snapshot, name: str) -> NetworkOut:
    path = file_path("networks", name)
    text = snapshot.require("networks", name)
    members = snapshot.state().members(name)
    return NetworkOut(
        name=name,
        path=path,
        revision=snapshot.revision,
        toml=text,
        spec=load_spec(path, text, NetworkSpec),
        members=members,
    )


@endpoint("read", "List the networks", response=NetworkList, tags=TAGS)
async def list_networks(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    snapshot = live_snapshot(ctx)
    networks = await in_thread(
        lambda: [network_out(ctx, snapshot, n) for n in snapshot.names("networks")]
    )
    body = NetworkList(revision=snapshot.revision, networks=networks)
    return json_response(body, revision=snapshot.revision)


@endpoint("read", "Read a network", response=NetworkOut, tags=TAGS)
async def get_network(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    snapshot = live_snapshot(ctx)
    name = name_param(request, "network")
    out = await in_thread(lambda: network_out(ctx, snapshot, name))
    return json_response(out, revision=snapshot.revision)


@endpoint(
    "admin",
    "Create a network (409 when it exists)",
    request=NetworkCreate,
    response=NetworkOut,
    status_code=201,
    tags=TAGS,
)
async def create_network(request: Request, principal: Principal | None) -> Response:
    body = await parse_body(request, NetworkCreate)
    path = file_path("networks", body.name)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        if snapshot.read(path) is not None:
            raise Conflict(f"network {body.name!r} exists", details={"path": path})
        return {path: new_text(path, None, body.spec, body.toml).encode()}

    done = await write(
        request, principal, change, message=message_or(body.message, f"api: create {path}")
    )
    return await _answer(request, body.name, done, status=201)


@endpoint(
    "admin", "Replace a network's fields", request=NetworkWrite, response=NetworkOut, tags=TAGS
)
async def update_network(request: Request, principal: Principal | None) -> Response:
    name = name_param(request, "network")
    body = await parse_body(request, NetworkWrite)
    path = file_path("networks", name)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        existing = snapshot.require("networks", name)
        return {path: new_text(path, existing, body.spec, body.toml).encode()}

    done = await write(
        request, principal, change, message=message_or(body.message, f"api: update {path}")
    )
    return await _answer(request, name, done)


@endpoint(
    "admin",
    "Delete a network",
    request=CommitMessage,
    response=Committed,
    query={"cascade": "true: also remove the nodes' interfaces and keys for this network"},
    tags=TAGS,
)
async def delete_network(request: Request, principal: Principal | None) -> Response:
    name = name_param(request, "network")
    body = await parse_body(request, CommitMessage)
    cascade = request.query_params.get("cascade", "false").lower() in ("1", "true", "yes")
    path = file_path("networks", name)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        snapshot.require("networks", name)
        changes: dict[str, bytes | None] = {path: None}
        if cascade:
            changes.update(_leave(snapshot, name))
        return changes

    done = await write(
        request, principal, change, message=message_or(body.message, f"api: delete {path}")
    )
    return json_response(done, revision=done.revision)


def _leave(snapshot: Snapshot, network: str) -> dict[str, bytes | None]:
    """Remove ``[interfaces.<network>]`` from the node files and the registered keys."""
    state = snapshot.state()
    changes: dict[str, bytes | None] = {}
    for node in state.members(network):
        path = file_path("nodes", node)
        text = snapshot.require("nodes", node)
        data = tomllib.loads(text)
        del data["interfaces"][network]
        changes[path] = documents.update(path, text, data).encode()
    for node, registered in state.keys.items():
        if network not in registered.interfaces:
            continue
        keys = {n: e.public_key for n, e in registered.interfaces.items() if n != network}
        changes[file_path("keys", node)] = keys_text(keys).encode() if keys else None
    return changes


async def _answer(request: Request, name: str, done: Committed, *, status: int = 200) -> Response:
    ctx = context(request)
    out = await in_thread(lambda: network_out(ctx, Snapshot(ctx, done.revision or None), name))
    return json_response(out, status=status, revision=done.revision)


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/networks", list_networks, methods=["GET"]),
        Route(f"{PREFIX}/networks", create_network, methods=["POST"]),
        Route(f"{PREFIX}/networks/{{network}}", get_network, methods=["GET"]),
        Route(f"{PREFIX}/networks/{{network}}", update_network, methods=["PUT"]),
        Route(f"{PREFIX}/networks/{{network}}", delete_network, methods=["DELETE"]),
    ]
