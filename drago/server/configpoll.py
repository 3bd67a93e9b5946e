"""The config long-poll's own way through the server.

A fleet's agents hold ``GET /api/v1/nodes/{node}/config?wait=`` all the time,
and a commit that changes every config wakes all of them at once: the server's
cost per answer is then what the last agent waits. Through the application
(routing, Starlette's request and response objects, four middlewares each
wrapping ``send``) an answer and the poll that follows it cost about twice what
the answer itself does. :class:`ConfigPolls` answers the common case directly
on ASGI: the same authorization, wait, token re-check, shared bodies
(:meth:`drago.server.live.LiveState.answer`), headers (``nosniff`` included),
log line and request count as the route in :mod:`drago.server.api.config`.

The route stays the reference. :meth:`ConfigPolls.take` hands a request back
to the application, before anything is sent, whenever it is not the plain
case: another method or query parameter, a bad ``wait``, a body, a root path,
a missing, unknown or refused token, an unknown node. Only what can go wrong
after the wait is answered here: a token revoked meanwhile (401), a node
removed meanwhile (404), an unexpected error (500), with the route's error
bodies.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from starlette.types import Message, Receive, Scope, Send

from drago.errors import DragoError, InvalidRequest, Unauthorized
from drago.model.names import name_problem
from drago.server.api.config import accepts_gzip, parse_etags, parse_wait, wants_delta
from drago.server.context import ServerContext
from drago.server.endpoint import PRINCIPAL_SCOPE_KEY, Principal, parse_bearer, refusal
from drago.server.errors import drago_error_response, error_response
from drago.server.live import LiveState
from drago.server.logs import RequestLog, logfmt_value, poll_level
from drago.server.nosniff import NOSNIFF
from drago.server.recheck import TokenAuthentication, TokenRecheck

log = logging.getLogger("drago.server")

#: The route's path (``{node}`` as Starlette matches it: anything but ``/``).
PATH = re.compile(r"/api/v1/nodes/([^/]+)/config")
#: Headers that frame a request body: such a request goes the application's way
#: (its body limit).
BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})
#: The request headers a poll's answer depends on.
READ_HEADERS = frozenset({b"authorization", b"if-none-match", b"a-im", b"accept-encoding"})
#: A query of ``wait`` alone, without escapes: read without parsing.
PLAIN_WAIT = re.compile(rb"wait=([0-9.]*)")


@dataclass(frozen=True, slots=True)
class Poll:
    """What a plain config request asks."""

    node: str
    secret: str
    wait: float
    known: frozenset[str]
    delta: bool
    compress: bool


def parse_poll(scope: Scope, max_wait: float) -> Poll | None:
    """The poll ``scope`` asks for, or None when the application must answer it."""
    if scope["type"] != "http" or scope["method"] != "GET" or scope.get("root_path"):
        return None
    match = PATH.fullmatch(scope["path"])
    if match is None:
        return None
    node = match.group(1)
    if name_problem(node) is not None:
        return None
    wait_raw = None
    query: bytes = scope.get("query_string", b"")
    if query:
        plain = PLAIN_WAIT.fullmatch(query)  # as agents send it: no parsing to do
        if plain is not None:
            wait_raw = plain.group(1).decode()
        else:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if len(pairs) != 1 or pairs[0][0] != "wait":
                return None  # another parameter (format, network), or several
            wait_raw = pairs[0][1]
    try:
        wait = parse_wait(wait_raw, max_wait)
    except InvalidRequest:
        return None
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in READ_HEADERS:
            if name not in found:  # the first of repeated headers, as Starlette reads them
                found[name] = value.decode("latin-1")
        elif name in BODY_HEADERS:
            return None
    secret = parse_bearer(found.get(b"authorization"))
    if secret is None:
        return None
    return Poll(
        node=node,
        secret=secret,
        wait=wait,
        known=frozenset(parse_etags(found.get(b"if-none-match"))),
        delta=wants_delta(found.get(b"a-im")),
        compress=accepts_gzip(found.get(b"accept-encoding")),
    )


class ConfigPolls:
    """Answers plain config requests (:func:`parse_poll`) without the application."""

    def __init__(
        self,
        ctx: ServerContext,
        *,
        authentication: TokenAuthentication,
        recheck: TokenRecheck,
        request_log: RequestLog,
    ) -> None:
        """``ctx``: the server's context (its settings and live state are read per
        request, as the route reads them)."""
        self.ctx = ctx
        self.authentication = authentication
        self.recheck = recheck
        self.request_log = request_log
        self._tag_fallbacks = ctx.metrics.delta_fallbacks.labels(reason="tags")

    async def take(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer ``scope`` when it is a plain config request; False (nothing
        sent) when the application must answer it."""
        poll = parse_poll(scope, self.ctx.settings.max_wait)
        if poll is None:
            return False
        started = time.perf_counter()
        try:
            principal = await self.authentication.principal(poll.secret)
        except Exception:  # e.g. the database is away: the route answers that, in its words
            return False
        if principal is None or refusal("node-read", principal, poll.node) is not None:
            return False  # the route answers 401 or 403, in its words
        live = self.ctx.live
        digest = live.hash_of(poll.node)
        if digest is None:
            return False  # the route answers 404
        scope[PRINCIPAL_SCOPE_KEY] = principal  # for the request log
        status, sent = 500, 0

        async def sending(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            else:
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self._answer(live, poll, principal, digest, sending)
        except DragoError as exc:  # after the wait: a revoked token, a removed node
            await drago_error_response(exc)(scope, receive, sending)  # nosniff included
        except Exception:
            log.exception("unexpected error on GET %s", logfmt_value(scope["path"]))
            if status == 500 and not sent:
                response = error_response(
                    500, "internal_error", "internal server error (see the server log)"
                )
                await response(scope, receive, sending)
            raise
        finally:
            self.request_log.record(scope, status, sent, started, poll_level(status))
        return True

    async def _answer(
        self, live: LiveState, poll: Poll, principal: Principal, digest: str, send: Send
    ) -> None:
        known = poll.known
        if digest in known or "*" in known:
            changed = await live.wait_for_change(poll.node, digest, poll.wait)
            if poll.wait > 0 and not await self.recheck.valid(principal.token_id):
                raise Unauthorized("the token was revoked while the request waited")
            if not changed:
                headers = ((b"etag", f'"{digest}"'.encode()), NOSNIFF)
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        base = None
        if poll.delta:
            if len(known) == 1 and "*" not in known:
                base = next(iter(known))
            else:
                self._tag_fallbacks.inc()
        body = live.answer(poll.node, base, compress=poll.compress)
        await send({"type": "http.response.start", "status": body.status, "headers": body.head})
        await send({"type": "http.response.body", "body": body.data})


__all__ = [
    "BODY_HEADERS",
    "PATH",
    "PLAIN_WAIT",
    "READ_HEADERS",
    "ConfigPolls",
    "Poll",
    "parse_poll",
]
