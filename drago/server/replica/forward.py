"""Writes through a replica: sent to the primary with the caller's credentials.

:class:`ForwardWrites` is the replica's innermost middleware: every request
that would change the desired state (API writes, key registrations, merges,
token changes, ``git push``) goes to the primary unchanged but for hop-by-hop
headers: the body streams through (the replica's own body limits applied on
the way), the caller's ``Authorization`` goes with it, and the caller gets the
primary's answer. On a successful answer the replica first syncs from the
primary and renders what it fetched, so the caller reads its write here at once.

What a replica writes itself (status reports go to the shared runtime
database) and what only reads (dry-run validation, clone and fetch) are
served here. The primary not answering is a 503 (:class:`PrimaryUnavailable`)
that says so; the answer is bounded in size, the exchange in time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from drago.errors import DragoError, PayloadTooLarge, PrimaryUnavailable
from drago.server.errors import drago_error_response
from drago.server.metrics import Metrics

log = logging.getLogger("drago.server.replica")

READS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Requests with a writing method that a replica serves itself.
LOCAL = (
    ("PUT", re.compile(r"/api/v1/nodes/[^/]+/status")),  # the shared runtime database
    ("POST", re.compile(r"/api/v1/validate")),  # a dry run
    ("POST", re.compile(r"/repo\.git/git-upload-pack")),  # clone and fetch
)
#: Headers of one hop only (RFC 9110 7.6.1), and what httpx sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "host",
        "content-length",
    }
)
#: The largest answer of the primary a replica passes on (held until the sync).
MAX_ANSWER = 64 << 20
#: Connect, write and read timeouts of a forwarded request (s).
TIMEOUT = httpx.Timeout(120.0, connect=5.0, pool=10.0)

Sync = Callable[[], Awaitable[bool]]


def forwarded(method: str, path: str, query: str) -> bool:
    """Whether a replica sends this request to the primary."""
    if method in READS:
        # The push's ref advertisement comes from where the push goes.
        return path == "/repo.git/info/refs" and "service=git-receive-pack" in query
    return not any(method == m and pattern.fullmatch(path) for m, pattern in LOCAL)


class Forwarder:
    def __init__(
        self, client: httpx.AsyncClient, metrics: Metrics, *, url: str, sync: Sync
    ) -> None:
        """``client``: an HTTP client for the primary at ``url`` (its base URL);
        ``sync``: fetch from the primary and make its revision live here."""
        self._client = client
        self._metrics = metrics
        self._url = url
        self._sync = sync

    def target(self, scope: Scope) -> httpx.URL:
        """The primary's URL for a request: its base URL followed by the request's
        path exactly as received (raw, so ``//host/...`` or ``%2F`` cannot make the
        primary see another path than the one this replica routed) and query."""
        base = httpx.URL(self._url)
        raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query: bytes = scope.get("query_string", b"")
        return base.copy_with(
            raw_path=base.raw_path.rstrip(b"/") + raw + (b"?" + query if query else b"")
        )

    async def forward(self, request: Request) -> Response:
        headers = [
            (k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        length = request.headers.get("content-length")
        if length is not None and length.isdigit():
            headers.append((b"content-length", length.encode()))
        outgoing = self._client.build_request(
            request.method,
            self.target(request.scope),
            headers=headers,
            content=request.stream(),
            timeout=TIMEOUT,
        )
        try:
            answer = await self._client.send(outgoing, stream=True)
        except httpx.TimeoutException:
            self._metrics.forwarded_writes.labels(outcome="down").inc()
            raise PrimaryUnavailable(self._unavailable("did not answer in time")) from None
        except httpx.TransportError as exc:
            self._metrics.forwarded_writes.labels(outcome="down").inc()
            raise PrimaryUnavailable(
                self._unavailable(f"is unreachable ({exc.__class__.__name__})")
            ) from None
        try:
            body = await self._read(answer)
        except httpx.HTTPError:
            self._metrics.forwarded_writes.labels(outcome="down").inc()
            raise PrimaryUnavailable(self._unavailable("broke off its answer")) from None
        finally:
            await answer.aclose()
        status = answer.status_code
        outcome = "ok" if status < 400 else "refused" if status < 500 else "failed"
        self._metrics.forwarded_writes.labels(outcome=outcome).inc()
        if request.method not in READS and status < 300 and not await self._sync():
            # The write happened: answering an error would make the caller retry
            # it. It is live here as soon as the primary answers the follower.
            log.warning(
                "%s %s: written on the primary, not yet live here", request.method, request.url.path
            )
        kept = [
            (k, v) for k, v in answer.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        response = Response(body, status_code=status)
        response.raw_headers = [*kept, (b"content-length", str(len(body)).encode())]
        return response

    async def _read(self, answer: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in answer.aiter_raw():
            size += len(chunk)
            if size > MAX_ANSWER:
                raise PayloadTooLarge(f"the primary's answer is larger than {MAX_ANSWER} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _unavailable(self, what: str) -> str:
        return (
            f"this server is a replica and writes go to the primary {self._url}, which {what}; "
            "reads are served from the last revision. Retry later, or promote a replica "
            "(docs/scaling.md)"
        )


class ForwardWrites:
    """Middleware: :func:`forwarded` requests go to the primary, the rest to ``app``."""

    def __init__(self, app: ASGIApp, *, forwarder: Forwarder) -> None:
        self.app = app
        self.forwarder = forwarder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not forwarded(
            scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.forwarder.forward(request)
        except DragoError as exc:
            response = drago_error_response(exc)
        await response(scope, receive, send)
