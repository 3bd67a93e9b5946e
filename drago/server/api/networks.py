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

from drago.model import documents
from drago.model.names import file_path
from drago.model.topology import PeerMap
from drago.server.api import PREFIX
from drago.server.api.common import Snapshot, json_response, load_spec
from drago.server.api.files import FileResource
from drago.server.api.keys import keys_text
from drago.server.api.models import (
    CommitMessage,
    Committed,
    NetworkCreate,
    NetworkList,
    NetworkOut,
    NetworkWrite,
)
from drago.server.api.specs import NetworkSpec
from drago.server.context import ServerContext
from drago.server.endpoint import Principal, endpoint

TAGS = ("networks",)


def network_out(
    ctx: ServerContext, snapshot: Snapshot, name: str, *, links: bool = True
) -> NetworkOut:
    path = file_path("networks", name)
    text = snapshot.require("networks", name)
    state = snapshot.state()
    return NetworkOut(
        name=name,
        path=path,
        revision=snapshot.revision,
        toml=text,
        spec=load_spec(path, text, NetworkSpec),
        members=state.members(name),
        links=links_of(ctx.validator.peers(state, name)) if links else None,
    )


def links_of(peers: PeerMap) -> list[list[str]]:
    """Each connected pair of ``peers`` once, as [a, b] with a < b, sorted."""
    pairs = {(a, b) if a < b else (b, a) for a, row in peers.items() for b in row}
    return [list(pair) for pair in sorted(pairs)]


def network_summary(ctx: ServerContext, snapshot: Snapshot, name: str) -> NetworkOut:
    """A network as the list shows it: without its (possibly huge) list of links."""
    return network_out(ctx, snapshot, name, links=False)


NETWORKS = FileResource("networks", "network", network_out, listed=network_summary)


@endpoint("read", "List the networks", response=NetworkList, tags=TAGS)
async def list_networks(request: Request, principal: Principal | None) -> Response:
    revision, networks = await NETWORKS.read_all(request)
    return json_response(NetworkList(revision=revision, networks=networks), revision=revision)


@endpoint("read", "Read a network", response=NetworkOut, tags=TAGS)
async def get_network(request: Request, principal: Principal | None) -> Response:
    return await NETWORKS.get(request)


@endpoint(
    "admin",
    "Create a network (409 when it exists)",
    request=NetworkCreate,
    response=NetworkOut,
    status_code=201,
    tags=TAGS,
)
async def create_network(request: Request, principal: Principal | None) -> Response:
    return await NETWORKS.create(request, principal, NetworkCreate)


@endpoint(
    "admin", "Replace a network's fields", request=NetworkWrite, response=NetworkOut, tags=TAGS
)
async def update_network(request: Request, principal: Principal | None) -> Response:
    return await NETWORKS.update(request, principal, NetworkWrite)


@endpoint(
    "admin",
    "Delete a network",
    request=CommitMessage,
    response=Committed,
    query={"cascade": "true: also remove the nodes' interfaces and keys for this network"},
    tags=TAGS,
)
async def delete_network(request: Request, principal: Principal | None) -> Response:
    cascade = request.query_params.get("cascade", "false").lower() in ("1", "true", "yes")
    return await NETWORKS.delete(request, principal, also=_leave if cascade else None)


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


def routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/networks", list_networks, methods=["GET"]),
        Route(f"{PREFIX}/networks", create_network, methods=["POST"]),
        Route(f"{PREFIX}/networks/{{network}}", get_network, methods=["GET"]),
        Route(f"{PREFIX}/networks/{{network}}", update_network, methods=["PUT"]),
        Route(f"{PREFIX}/networks/{{network}}", delete_network, methods=["DELETE"]),
    ]
