"""``GET /api/v1/nodes/{node}/config``: a node's rendered config, long-polled by hash.

With ``If-None-Match: "<hash>"`` and ``?wait=SECONDS`` the request is held until
the node's hash differs (200 with the new config) or the wait ends (304). The
wait is capped by the ``max_wait`` setting. The token is checked again when the
wait ends: one revoked meanwhile gets 401, never the config. ``?format=wg-quick&network=NET``
returns a wg-quick file for one network (without the private key).
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from drago.errors import InvalidRequest
from drago.render.wgquick import to_wg_quick
from drago.server.api import PREFIX
from drago.server.api.common import context, name_param
from drago.server.endpoint import Principal, endpoint, reauthorize

FORMATS = ("json", "wg-quick")


def parse_etags(header: str | None) -> set[str]:
    """Every entity tag of an ``If-None-Match`` header, without quotes or ``W/``."""
    tags = set()
    for part in (header or "").split(","):
        tag = part.strip().removeprefix("W/").strip().strip('"')
        if tag:
            tags.add(tag)
    return tags


def tag_for(digest: str, fmt: str, network: str | None) -> str:
    """The entity tag of one representation: the hash for JSON; a wg-quick file of one
    network has its own tag, so a client never mixes the two up."""
    return digest if fmt == "json" else f"{digest}.wg-quick.{network}"


def parse_wait(raw: str | None, cap: float) -> float:
    if raw is None or raw == "":
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        raise InvalidRequest(f"wait: {raw!r} is not a number of seconds") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidRequest(f"wait: {raw!r} must be zero or more seconds")
    return min(seconds, cap)


def etag(digest: str) -> str:
    return f'"{digest}"'


@endpoint(
    "node-read",
    "A node's rendered config (long-poll with If-None-Match and ?wait=)",
    query={
        "wait": "seconds to hold the request while the hash equals If-None-Match (capped)",
        "format": "json (default) or wg-quick",
        "network": "the network to export with format=wg-quick",
    },
    tags=("config",),
)
async def get_config(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    node = name_param(request, "node")
    fmt = request.query_params.get("format", "json")
    if fmt not in FORMATS:
        raise InvalidRequest(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    network = request.query_params.get("network")
    if fmt == "wg-quick" and not network:
        raise InvalidRequest("format=wg-quick needs ?network=NETWORK")
    wait = parse_wait(request.query_params.get("wait"), ctx.settings.max_wait)
    known = parse_etags(request.headers.get("if-none-match"))
    digest = ctx.live.require_hash(node)  # NotFound for unknown nodes
    if tag_for(digest, fmt, network) in known or "*" in known:
        changed = await ctx.live.wait_for_change(node, digest, wait)
        if wait > 0:
            await reauthorize(request, principal)  # revoked while held: 401, not the config
        if not changed:
            return Response(status_code=304, headers={"ETag": etag(tag_for(digest, fmt, network))})
    headers = {"Cache-Control": "no-cache"}
    if fmt == "wg-quick":
        config = ctx.live.config(node)
        assert network is not None
        text = to_wg_quick(config, network)  # NotFound without an interface there
        headers["ETag"] = etag(tag_for(config.hash, fmt, network))
        headers["Content-Disposition"] = f'attachment; filename="{node}-{network}.conf"'
        return PlainTextResponse(text, headers=headers)
    digest, document = ctx.live.document(node)
    headers["ETag"] = etag(digest)
    return Response(document, media_type="application/json", headers=headers)


def routes() -> list[BaseRoute]:
    return [Route(f"{PREFIX}/nodes/{{node}}/config", get_config, methods=["GET"])]
