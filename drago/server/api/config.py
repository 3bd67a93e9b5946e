"""``GET /api/v1/nodes/{node}/config``: a node's rendered config, long-polled by hash.

With ``If-None-Match: "<hash>"`` and ``?wait=SECONDS`` the request is held until
the node's hash differs (200 with the new config) or the wait ends (304). The
wait is capped by the ``max_wait`` setting. The token is checked again when the
wait ends: one revoked meanwhile gets 401, never the config. ``?format=wg-quick&network=NET``
returns a wg-quick file for one network (without the private key).

Deltas (RFC 3229 delta encoding): a client that sends ``A-IM: drago-delta``
and exactly one tag in ``If-None-Match`` may get ``226 IM Used`` with a
:class:`~drago.render.delta.ConfigDelta` from that hash to the current config
(``Delta-Base`` names the base) instead of ``200`` with the whole config: when
a recent render had that hash and the delta is smaller. Without ``A-IM``
(old agents, ``curl``) the answer is always the full config. With
``Accept-Encoding: gzip`` full configs (and deltas above 1 KiB) are sent
compressed. Bodies are built once per hash and shared by every waiter
(:meth:`drago.server.live.LiveState.answer`).
"""

from __future__ import annotations

import math

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from drago.errors import InvalidRequest
from drago.render.delta import DELTA_IM, MEDIA_TYPE, ConfigDelta
from drago.render.wgquick import to_wg_quick
from drago.server.answers import Head, etag
from drago.server.api import PREFIX
from drago.server.api.common import context, name_param
from drago.server.endpoint import OtherAnswer, Principal, endpoint, reauthorize

FORMATS = ("json", "wg-quick")


class PreparedResponse(Response):
    """A response whose status, body and raw headers were prepared before: the
    shared answer bodies of :mod:`drago.server.answers` carry their head, so
    answering a woken long-poll encodes nothing."""

    def __init__(self, status_code: int, body: bytes, head: Head) -> None:
        self.status_code = status_code
        self.body = body
        self.raw_headers = list(head)
        self.background = None


def header_tokens(header: str | None) -> dict[str, float]:
    """The tokens of a list header (``A-IM``, ``Accept-Encoding``), lower case, with
    their ``q`` weight (1 when absent, 0 when malformed)."""
    found: dict[str, float] = {}
    for item in (header or "").split(","):
        token, *params = (piece.strip() for piece in item.split(";"))
        if not token:
            continue
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        found[token.lower()] = weight if math.isfinite(weight) else 0.0
    return found


def wants_delta(header: str | None) -> bool:
    if not header:
        return False
    return header == DELTA_IM or header_tokens(header).get(DELTA_IM, 0.0) > 0


#: Accept-Encoding tokens that accept gzip when no ``q`` weight is given.
GZIP_TOKENS = frozenset({"gzip", "x-gzip", "*"})


def accepts_gzip(header: str | None) -> bool:
    if not header:
        return False
    if ";" not in header:  # no weights, as agents and browsers send it: no parsing
        return any(token.strip().lower() in GZIP_TOKENS for token in header.split(","))
    tokens = header_tokens(header)
    weight = tokens.get("gzip", tokens.get("x-gzip", tokens.get("*", 0.0)))
    return weight > 0


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


@endpoint(
    "node-read",
    "A node's rendered config (long-poll with If-None-Match and ?wait=)",
    query={
        "wait": "seconds to hold the request while the hash equals If-None-Match (capped)",
        "format": "json (default) or wg-quick",
        "network": "the network to export with format=wg-quick",
    },
    headers={
        "If-None-Match": '"<hash>": the config held; 304 (or a wait) while it is current',
        "A-IM": (
            f"{DELTA_IM}: accept a 226 delta against the one If-None-Match hash"
            " (RFC 3229); without it the answer is the full config"
        ),
    },
    answers={
        226: OtherAnswer(
            "IM Used: a delta from the config of hash Delta-Base to the one of hash ETag"
            f" (headers IM: {DELTA_IM}, Delta-Base, ETag)",
            MEDIA_TYPE,
            ConfigDelta,
        ),
        304: OtherAnswer("Not Modified: the node's hash is still the If-None-Match one"),
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
    base = None
    if wants_delta(request.headers.get("a-im")):
        if len(known) == 1 and "*" not in known:
            base = next(iter(known))
        else:
            ctx.metrics.delta_fallbacks.labels(reason="tags").inc()
    body = ctx.live.answer(
        node, base, compress=accepts_gzip(request.headers.get("accept-encoding"))
    )
    return PreparedResponse(body.status, body.data, body.head)


def routes() -> list[BaseRoute]:
    return [Route(f"{PREFIX}/nodes/{{node}}/config", get_config, methods=["GET"])]
