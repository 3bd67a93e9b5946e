"""Structured request logs: one line per request, as logfmt or JSON lines.

Every request is logged at INFO, except the answers of config long-polls
(``GET /api/v1/nodes/{node}/config`` answered 200, 226 or 304): each agent
makes one whenever its config changes and whenever its wait ends, so a fleet of
10,000 agents would write hundreds of lines a second that say only "an agent
polled". Those are DEBUG lines (``drago -v server`` shows them); they are
counted in ``drago_http_requests_total`` like every request, and a config
request that fails (401, 403, 404, 5xx) is an INFO line like any other.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drago.server.endpoint import PRINCIPAL_SCOPE_KEY, Principal
from drago.server.metrics import Metrics

access_log = logging.getLogger("drago.access")

#: Libraries whose INFO lines no operator acts on: dulwich logs both sides' capabilities
#: on every fetch, watchfiles every change it sees under the repository, uvicorn its
#: startup steps (the server prints where it listens itself). Their warnings still show.
QUIET_LIBRARIES = ("dulwich", "watchfiles", "uvicorn.error")


#: A logfmt value that needs no quotes (when also printable): no space, quote, ``=``
#: or backslash, and not empty.
BARE = re.compile(r'[^ "=\\]+')


def quote(text: str) -> str:
    """``text`` as a JSON string of printable ASCII: control characters (DEL, NUL,
    ESC, ...), line and paragraph separators and every other non-ASCII character
    are escaped, so a value can never start a second line or a terminal sequence."""
    return json.dumps(text).replace("\x7f", "\\u007f")


def logfmt_value(text: str) -> str:
    if text.isprintable() and BARE.fullmatch(text):
        return text
    return quote(text)


def logfmt(fields: Mapping[str, object]) -> str:
    """``key=value`` pairs; a value that is empty, holds a space, quote, ``=`` or
    backslash, or any character that is not printable is a quoted JSON string."""
    return " ".join(
        f"{key}={logfmt_value('' if value is None else str(value))}"
        for key, value in fields.items()
    )


def format_line(fields: Mapping[str, object], style: str) -> str:
    """One line: logfmt, or a JSON object whose strings escape every non-printable character."""
    if style == "json":
        return json.dumps(fields, separators=(",", ":"), default=str).replace("\x7f", "\\u007f")
    return logfmt(fields)


def configure_access_log(stream: TextIO, *, verbose: bool = False) -> None:
    """Write request lines to ``stream`` as they are (no level or logger prefix);
    ``verbose``: config long-poll answers too (DEBUG)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.handlers[:] = [handler]
    access_log.setLevel(logging.DEBUG if verbose else logging.INFO)
    access_log.propagate = False


def quiet_libraries() -> None:
    """Keep INFO for drago's own lines: the libraries of QUIET_LIBRARIES log warnings up."""
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def user_agent(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"user-agent":
            return bytes(value).decode("latin-1")
    return None


def log_line(line: str, level: int = logging.INFO) -> None:
    """Hand one request line to the access log's handlers. The caller is always the
    middleware, so the record is made directly: ``Logger.info`` would walk the stack
    to find it, for every request."""
    record = access_log.makeRecord(access_log.name, level, __file__, 0, line, (), None)
    access_log.handle(record)


#: The statuses of a config long-poll that answered as it should: a full config,
#: a delta, or "not modified" when the wait ended.
POLL_ANSWERS = frozenset({200, 226, 304})
CONFIG_PATH = re.compile(r"/api/v1/nodes/[^/]+/config")


def level_of(method: str, path: str, status: int) -> int:
    """DEBUG for the answer of a config long-poll, INFO for every other request."""
    if method == "GET" and CONFIG_PATH.fullmatch(path):
        return poll_level(status)
    return logging.INFO


def poll_level(status: int) -> int:
    """The level of a config request's line: DEBUG when it answered as a poll does."""
    return logging.DEBUG if status in POLL_ANSWERS else logging.INFO


class RequestLog:
    """What every request leaves behind once answered: its count in
    ``drago_http_requests_total`` (by status class) and its log line (config
    long-poll answers at DEBUG, see :func:`level_of`). Shared by
    :class:`RequestLogMiddleware` and the config long-poll's own path
    (:mod:`drago.server.configpoll`)."""

    def __init__(self, *, style: str, metrics: Metrics) -> None:
        self.style = style
        self.by_class = {f"{c}xx": metrics.requests.labels(status=f"{c}xx") for c in range(1, 6)}

    def record(
        self, scope: Scope, status: int, sent: int, started: float, level: int | None = None
    ) -> None:
        """Count and log one answered request (``started``: its ``time.perf_counter()``;
        ``level``: its line's, when the caller knows it, else :func:`level_of`)."""
        counter = self.by_class.get(f"{status // 100}xx")
        if counter is not None:
            counter.inc()
        if level is None:
            level = level_of(scope["method"], scope["path"], status)
        if not access_log.isEnabledFor(level):
            return
        client = scope.get("client")
        fields = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1") or None,
            "status": status,
            "bytes": sent,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "client": client[0] if client else None,
            "ua": user_agent(scope),
        }
        principal = scope.get(PRINCIPAL_SCOPE_KEY)
        if isinstance(principal, Principal):
            fields["token"] = principal.token_id
        log_line(format_line(fields, self.style), level)


class RequestLogMiddleware:
    """Logs method, path, query, status, bytes sent, duration, client and user agent
    of every HTTP request: one line each, whatever the request holds (config
    long-poll answers at DEBUG, see :func:`level_of`)."""

    def __init__(self, app: ASGIApp, *, style: str, metrics: Metrics) -> None:
        self.app = app
        self.log = RequestLog(style=style, metrics=metrics)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0

        async def send_logged(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        finally:
            self.log.record(scope, status, sent, started)
