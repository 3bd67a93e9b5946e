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

from drago.model.names import file_path
from drago.server.api import PREFIX
from drago.server.api.common import Snapshot, json_response, load_spec
from drago.server.api.files import FileResource
from drago.server.api.models import (
    CommitMessage,
    Committed,
    NodeCreate,
    NodeList,
    NodeOut,
    NodeWrite,
)
from drago.server.api.specs import NodeSpec
from drago.server.context import ServerContext
from drago.server.endpoint import Principal, endpoint

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


NODES = FileResource("nodes", "node", node_out)


@endpoint("read", "List the nodes", response=NodeList, tags=TAGS)
async def list_nodes(request: Request, principal: Principal | None) -> Response:
    revision, nodes = await NODES.read_all(request)
    return json_response(NodeList(revision=revision, nodes=nodes), revision=revision)


@endpoint(
    "read", "Read a node, its registered keys and its config hash", response=NodeOut, tags=TAGS
)
async def get_node(request: Request, principal: Principal | None) -> Response:
    return await NODES.get(request)


@endpoint(
    "admin",
    "Create a node (409 when it exists)",
    request=NodeCreate,
    response=NodeOut,
    status_code=201,
    tags=TAGS,
)
async def create_node(request: Request, principal: Principal | None) -> Response:
    return await NODES.create(request, principal, NodeCreate)


@endpoint("admin", "Replace a node's fields", request=NodeWrite, response=NodeOut, tags=TAGS)
async def update_node(request: Request, principal: Principal | None) -> Response:
    return await NODES.update(request, principal, NodeWrite)


@endpoint(
    "admin",
    "Delete a node and its registered keys",
    request=CommitMessage,
    response=Committed,
    tags=TAGS,
)
async def delete_node(request: Request, principal: Principal | None) -> Response:
    return await NODES.delete(request, principal, also=_keys_file)


def _keys_file(snapshot: Snapshot, node: str) -> dict[str, bytes | None]:
    """The node's keys file goes with it."""
    return {file_path("keys", node): None}


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/nodes", list_nodes, methods=["GET"]),
        Route(f"{PREFIX}/nodes", create_node, methods=["POST"]),
        Route(f"{PREFIX}/nodes/{{node}}", get_node, methods=["GET"]),
        Route(f"{PREFIX}/nodes/{{node}}", update_node, methods=["PUT"]),
        Route(f"{PREFIX}/nodes/{{node}}", delete_node, methods=["DELETE"]),
    ]
