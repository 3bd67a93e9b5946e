"""Bridges between an ASGI request/response and dulwich's blocking protocol in a thread.

:class:`ThreadReader` lets a worker thread read the request body (gunzipped
when ``Content-Encoding: gzip``, counted against a limit after inflating, and
never inflated more than one byte past it); :class:`ThreadWriter`
lets it write the response in batches; :class:`ThreadedResponse` runs the
blocking work in one of git's own threads (:mod:`drago.server.git.turns`) and
streams what it writes as it writes it; a request that fails before any output
gets the API's JSON error (400 for a malformed request, without a traceback in
the log).

Every wait on the client has a deadline (``git_io_timeout``): a body chunk
that does not come in time ends the work with 408, an answer the client does
not take in time drops the request; either way the thread is freed.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.abc import ObjectSendStream
from dulwich.errors import GitProtocolError
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from drago.errors import Busy, DragoError, InvalidRequest, PayloadTooLarge, RequestTimeout
from drago.server.errors import drago_error_response, error_response
from drago.server.git.pace import ClientPace
from drago.server.git.turns import GitTurns

log = logging.getLogger("drago.server.git")

BATCH = 64 << 10


class ThreadReader:
    """The request body, read from a worker thread started by anyio."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        gzip: bool,
        limit: int,
        timeout: float,
        what: str = "push",
        setting: str = "max_push",
        pace: ClientPace | None = None,
    ) -> None:
        self._chunks = chunks
        self._pace = pace
        self._inflate = zlib.decompressobj(wbits=31) if gzip else None
        self._limit = limit
        self._timeout = timeout
        self._what = what
        self._setting = setting
        self._seen = 0
        self._buffer = bytearray()
        self._eof = False

    async def _next(self) -> bytes | None:
        started = time.monotonic()
        try:
            with anyio.fail_after(self._timeout):
                chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise RequestTimeout(
                f"no request data for {self._timeout:g} s (git_io_timeout)",
                details={"timeout_seconds": self._timeout},
            ) from None
        pace = self._pace
        if pace is not None and not pace.record(time.monotonic() - started, len(chunk)):
            raise RequestTimeout(
                f"request data too slow: {pace.describe()}",
                details={"min_rate": pace.min_rate, "waited_seconds": round(pace.waited, 1)},
            )
        return chunk

    def _fill(self) -> None:
        chunk = anyio.from_thread.run(self._next)
        if chunk is None:
            self._eof = True
            if self._inflate is not None:
                self._take_in(self._inflate.flush())
            return
        if self._inflate is None:
            self._take_in(chunk)
            return
        # Never inflate more than one byte past the limit at once: a small
        # chunk can expand a thousandfold.
        pending = chunk
        while pending:
            try:
                data = self._inflate.decompress(pending, self._limit - self._seen + 1)
            except zlib.error as exc:
                raise InvalidRequest(f"bad gzip request body: {exc}") from None
            self._take_in(data)
            pending = self._inflate.unconsumed_tail
            if not data:
                break  # no progress (cannot happen while below the limit)

    def _take_in(self, data: bytes) -> None:
        self._seen += len(data)
        if self._seen > self._limit:
            raise PayloadTooLarge(
                f"{self._what} larger than the limit of {self._limit} bytes ({self._setting})",
                details={"limit_bytes": self._limit},
            )
        self._buffer += data

    def read(self, size: int) -> bytes:
        """Exactly ``size`` bytes, or fewer at the end of the body."""
        while len(self._buffer) < size and not self._eof:
            self._fill()
        return self._take(size)

    def recv(self, size: int) -> bytes:
        """At least one byte (at most ``size``), or b"" at the end of the body."""
        while not self._buffer and not self._eof:
            self._fill()
        return self._take(size)

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


class ThreadWriter:
    """Collects what the thread writes and hands it to the event loop in batches."""

    def __init__(self, stream: ObjectSendStream[bytes]) -> None:
        self._stream = stream
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= BATCH:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            data, self._buffer = bytes(self._buffer), bytearray()
            anyio.from_thread.run(self._stream.send, data)


Work = Callable[[ThreadWriter], None]

#: What a client sending a malformed request gets (dulwich's wording stays in the log).
MALFORMED = "malformed git request: not a valid smart HTTP request body"


def failure_response(exc: BaseException) -> Response:
    """The answer for the exception that ended a git request's work, logged.

    A client's fault (a malformed request, an error of ours) is logged without
    a traceback; anything else is a server bug.
    """
    if isinstance(exc, DragoError):
        log.info("git request refused: %s", exc.message)
        return drago_error_response(exc)
    if isinstance(exc, GitProtocolError | ValueError):
        log.info("malformed git request: %s", exc)
        return drago_error_response(InvalidRequest(MALFORMED))
    log.error("git request failed: %s", exc, exc_info=exc)
    return error_response(500, "internal_error", "internal server error (see the server log)")


class Stalled(Exception):
    """The client did not take part of the answer within the deadline."""


class ThreadedResponse(Response):
    """An ASGI response whose body a blocking function writes from a worker thread.

    The work waits for a turn of ``turns`` (503 when none comes) and runs in its
    threads; each send to the client has ``timeout`` seconds. ``after`` runs once
    the work is done and its turn given back, before the response ends (a client
    waiting for the end of the response sees its effects).
    """

    def __init__(
        self,
        work: Work,
        *,
        media_type: str,
        turns: GitTurns,
        timeout: float,
        after: Callable[[], Awaitable[None]] | None = None,
        pace: ClientPace | None = None,
    ) -> None:
        super().__init__(media_type=media_type)
        self.work = work
        self.turns = turns
        self.timeout = timeout
        self.after = after
        self.pace = pace
        self.stream_headers = [
            (b"content-type", media_type.encode("latin-1")),
            (b"cache-control", b"no-cache, max-age=0, must-revalidate"),
            (b"expires", b"Fri, 01 Jan 1980 00:00:00 GMT"),
            (b"pragma", b"no-cache"),
        ]

    @staticmethod
    def _start(status: int, headers: list[tuple[bytes, bytes]]) -> Message:
        return {"type": "http.response.start", "status": status, "headers": headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_in_time(message: Message) -> None:
            started = time.monotonic()
            try:
                with anyio.fail_after(self.timeout):
                    await send(message)
            except TimeoutError:
                raise Stalled(
                    f"git client took no data for {self.timeout:g} s (git_io_timeout)"
                ) from None
            pace = self.pace
            moved = len(message.get("body", b""))
            if pace is not None and not pace.record(time.monotonic() - started, moved):
                raise Stalled(f"git client too slow: {pace.describe()}")

        try:
            try:
                async with self.turns.turn():
                    await self._stream(send_in_time)
            except Busy as exc:
                log.info("git request refused: %s", exc.message)
                error = drago_error_response(exc)
                await send_in_time(self._start(error.status_code, error.raw_headers))
                await send_in_time({"type": "http.response.body", "body": error.body})
                return
            finally:
                if self.after is not None:
                    await self.after()  # also for a dropped client: a push went through
            await send_in_time({"type": "http.response.body", "body": b"", "more_body": False})
        except Stalled as exc:
            # The answer cannot be ended cleanly: the server closes the connection.
            log.info("%s: request dropped", exc)

    async def _stream(self, send: Send) -> None:
        """Run the work, sending what it writes; its error if it fails before any output."""
        sender, receiver = anyio.create_memory_object_stream[bytes](16)
        failure: list[BaseException] = []

        def run() -> None:
            writer = ThreadWriter(sender)
            self.work(writer)
            writer.flush()

        async def worker() -> None:
            async with sender:
                try:
                    await self.turns.run(run)
                except Exception as exc:
                    failure.append(exc)

        started = False
        stalled = False
        async with anyio.create_task_group() as group:
            group.start_soon(worker)
            async with receiver:  # closed on a stall: the thread's next write fails
                try:
                    async for chunk in receiver:
                        if not started:
                            started = True
                            await send(self._start(200, self.stream_headers))
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except Stalled:
                    stalled = True
        if stalled:
            raise Stalled
        if not started and not failure:
            await send(self._start(200, self.stream_headers))
        elif failure:
            error = failure_response(failure[0])
            if not started:
                await send(self._start(error.status_code, error.raw_headers))
                await send({"type": "http.response.body", "body": error.body, "more_body": True})
