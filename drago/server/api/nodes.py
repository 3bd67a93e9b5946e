"""``/api/v1/nodes``: the files ``nodes/<node>.toml`` people write.

A node's answer also carries what the server adds: its registered public keys
(``keys/<node>.toml``) and the hash of its desired config. Deleting a node also
deletes its keys file; connections that name it explicitly make the validator
refuse the deletion (422 naming the network file), so edit those first.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from drago.errors import Conflict
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
    new_text,
    write,
)
from drago.server.api.models import (
    CommitMessage,
    Committed,
    NodeCreate,
    NodeList,
    NodeOut,
    NodeSpec,
    NodeWrite,
)
from drago.server.context import ServerContext
from drago.server.endpoint import Principal, endpoint, parse_body

TAGS = ("nodes",)


def registered_keys(snapshot: Snapshot, node: str) -> dict[str, str]:
    keys = snapshot.state().keys.get(node)
    if keys is None:
        return {}
    return {network: entry.public_key for network, entry in sorted(keys.interfaces.items())}


def node_out(ctx: ServerContext, snapshot: Snapshot, name: str) -> NodeOut:
    path = file_path("nodes", name)
    text = snapshot.require("nodes", name)
    return NodeOut(
        name=name,
        path=path,
        revision=snapshot.revision,
        toml=text,
        spec=load_spec(path, text, NodeSpec),
        keys=registered_keys(snapshot, name),
        config_hash=ctx.live.hash_of(name),
    )


@endpoint("read", "List the nodes", response=NodeList, tags=TAGS)
async def list_nodes(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    snapshot = live_snapshot(ctx)
    nodes = await in_thread(lambda: [node_out(ctx, snapshot, n) for n in snapshot.names("nodes")])
    return json_response(
        NodeList(revision=snapshot.revision, nodes=nodes), revision=snapshot.revision
    )


@endpoint(
    "read", "Read a node, its registered keys and its config hash", response=NodeOut, tags=TAGS
)
async def get_node(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    snapshot = live_snapshot(ctx)
    name = name_param(request, "node")
    out = await in_thread(lambda: node_out(ctx, snapshot, name))
    return json_response(out, revision=snapshot.revision)


@endpoint(
    "admin",
    "Create a node (409 when it exists)",
    request=NodeCreate,
    response=NodeOut,
    status_code=201,
    tags=TAGS,
)
async def create_node(request: Request, principal: Principal | None) -> Response:
    body = await parse_body(request, NodeCreate)
    path = file_path("nodes", body.name)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        if snapshot.read(path) is not None:
            raise Conflict(f"node {body.name!r} exists", details={"path": path})
        return {path: new_text(path, None, body.spec, body.toml).encode()}

    done = await write(
        request, principal, change, message=message_or(body.message, f"api: create {path}")
    )
    return await _answer(request, body.name, done, status=201)


@endpoint("admin", "Replace a node's fields", request=NodeWrite, response=NodeOut, tags=TAGS)
async def update_node(request: Request, principal: Principal | None) -> Response:
    name = name_param(request, "node")
    body = await parse_body(request, NodeWrite)
    path = file_path("nodes", name)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        existing = snapshot.require("nodes", name)
        return {path: new_text(path, existing, body.spec, body.toml).encode()}

    done = await write(
        request, principal, change, message=message_or(body.message, f"api: update {path}")
    )
    return await _answer(request, name, done)


@endpoint(
    "admin",
    "Delete a node and its registered keys",
    request=CommitMessage,
    response=Committed,
    tags=TAGS,
)
async def delete_node(request: Request, principal: Principal | None) -> Response:
    name = name_param(request, "node")
    body = await parse_body(request, CommitMessage)
    path = file_path("nodes", name)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        snapshot.require("nodes", name)
        return {path: None, file_path("keys", name): None}

    done = await write(
        request, principal, change, message=message_or(body.message, f"api: delete {path}")
    )
    return json_response(done, revision=done.revision)


async def _answer(request: Request, name: str, done: Committed, *, status: int = 200) -> Response:
    ctx = context(request)
    out = await in_thread(lambda: node_out(ctx, Snapshot(ctx, done.revision or None), name))
    return json_response(out, status=status, revision=done.revision)


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/nodes", list_nodes, methods=["GET"]),
        Route(f"{PREFIX}/nodes", create_node, methods=["POST"]),
        Route(f"{PREFIX}/nodes/{{node}}", get_node, methods=["GET"]),
        Route(f"{PREFIX}/nodes/{{node}}", update_node, methods=["PUT"]),
        Route(f"{PREFIX}/nodes/{{node}}", delete_node, methods=["DELETE"]),
    ]
