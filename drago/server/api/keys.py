"""``/api/v1/nodes/{node}/keys``: public keys the node's agent registers, per network.

The server writes ``keys/<node>.toml`` in canonical form (networks sorted, one
``[interfaces.<network>]`` table each). Registration is idempotent: the same key
again answers 200 with the current revision and commits nothing.
"""

from __future__ import annotations

import tomllib

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from drago.errors import ConfigError, NotFound
from drago.model.format import dump_keys_file
from drago.model.names import file_path
from drago.model.schema import KeyEntry, KeysFile
from drago.server.api import PREFIX
from drago.server.api.common import (
    Snapshot,
    context,
    in_thread,
    json_response,
    live_snapshot,
    message_or,
    name_param,
    write,
)
from drago.server.api.models import CommitMessage, Committed, KeysOut, KeyWrite
from drago.server.api.nodes import registered_keys
from drago.server.endpoint import Principal, endpoint, parse_body

TAGS = ("keys",)


def keys_text(keys: dict[str, str]) -> str:
    """The canonical text of a keys file."""
    tables = {network: {"public_key": key} for network, key in keys.items()}
    return dump_keys_file(KeysFile.model_validate({"interfaces": tables}))


def _keys_in(snapshot: Snapshot, node: str) -> dict[str, str]:
    """The keys in the node's keys file as written (empty when there is none)."""
    text = snapshot.text(file_path("keys", node))
    if text is None:
        return {}
    tables = tomllib.loads(text).get("interfaces", {})
    return {
        network: str(entry["public_key"])
        for network, entry in tables.items()
        if isinstance(entry, dict) and "public_key" in entry
    }


def _check_key(node: str, network: str, key: str) -> None:
    try:
        KeyEntry(public_key=key)
    except ValidationError as exc:
        message = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError.single(
            file_path("keys", node), f"interfaces.{network}.public_key", message
        ) from None


@endpoint("node-read", "List a node's registered public keys", response=KeysOut, tags=TAGS)
async def get_keys(request: Request, principal: Principal | None) -> Response:
    node = name_param(request, "node")
    snapshot = live_snapshot(context(request))
    await in_thread(lambda: snapshot.require("nodes", node))
    body = KeysOut(
        node=node,
        revision=snapshot.revision,
        path=file_path("keys", node),
        keys=registered_keys(snapshot, node),
    )
    return json_response(body, revision=snapshot.revision)


@endpoint(
    "node-write",
    "Register the node's public key for a network (idempotent)",
    request=KeyWrite,
    response=Committed,
    tags=TAGS,
)
async def put_key(request: Request, principal: Principal | None) -> Response:
    node = name_param(request, "node")
    network = name_param(request, "network")
    body = await parse_body(request, KeyWrite)
    _check_key(node, network, body.public_key)
    path = file_path("keys", node)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        snapshot.require("nodes", node)
        keys = _keys_in(snapshot, node)
        if keys.get(network) == body.public_key:
            return {}
        keys[network] = body.public_key
        return {path: keys_text(keys).encode()}

    default = f"keys: register {node} {network}"
    done = await write(request, principal, change, message=message_or(body.message, default))
    return json_response(done, revision=done.revision)


@endpoint(
    "admin",
    "Remove the node's public key for a network",
    request=CommitMessage,
    response=Committed,
    tags=TAGS,
)
async def delete_key(request: Request, principal: Principal | None) -> Response:
    node = name_param(request, "node")
    network = name_param(request, "network")
    body = await parse_body(request, CommitMessage)
    path = file_path("keys", node)

    def change(snapshot: Snapshot) -> dict[str, bytes | None]:
        keys = _keys_in(snapshot, node)
        if network not in keys:
            raise NotFound(f"node {node!r} has no key for network {network!r}")
        del keys[network]
        return {path: keys_text(keys).encode() if keys else None}

    default = f"keys: remove {node} {network}"
    done = await write(request, principal, change, message=message_or(body.message, default))
    return json_response(done, revision=done.revision)


def routes() -> list[BaseRoute]:
    base = f"{PREFIX}/nodes/{{node}}/keys"
    return [
        Route(base, get_keys, methods=["GET"]),
        Route(f"{base}/{{network}}", put_key, methods=["PUT"]),
        Route(f"{base}/{{network}}", delete_key, methods=["DELETE"]),
    ]
