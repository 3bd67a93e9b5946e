"""One write per answer: an HTTP connection's writes of one event-loop turn go out together.

An ASGI answer is two messages (the head, then the body) and uvicorn writes
each to the socket as it comes: two system calls, and two segments the client
wakes up for, for every answer. When a commit wakes thousands of long-polls at
once that doubles the server's per-answer system time. :class:`HttpProtocol`
(uvicorn's httptools protocol, given to ``uvicorn.Config(http=...)``) hands
uvicorn a :class:`CoalescingTransport`: the writes of one turn of the event
loop are kept and written together: when the answer is complete, else at the
end of the turn. Nothing waits longer than that turn, a close or an end of
file flushes first, and more than :data:`FLUSH_AT` bytes are written at once,
so the real transport's buffer and
uvicorn's flow control (which pauses a sender on it) see large bodies as before.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Writes kept for the end of the turn are written at once beyond this many bytes.
FLUSH_AT = 64 * 1024


class CoalescingTransport(asyncio.Transport):
    """``transport``, with the writes of one event-loop turn joined into one."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if len(data) > FLUSH_AT:  # a large body: written as it is, never copied into a join
            self.flush()
            if not self._transport.is_closing():
                self._transport.write(data)
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size > FLUSH_AT:
            self.flush()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        """Write what this turn wrote (nothing when the connection is closing)."""
        if not self._pending:
            return
        pending, self._pending, self._size = self._pending, [], 0
        if self._transport.is_closing():
            return
        self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._pending, self._size = [], 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._size

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`CoalescingTransport`, which it
    flushes as soon as an answer is complete: an answer leaves at once, in one
    write, instead of at the end of a turn in which thousands more are built."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports quack like asyncio.Transport without subclassing it
        self._coalescing = CoalescingTransport(cast(asyncio.Transport, transport), self.loop)
        super().connection_made(self._coalescing)

    def on_response_complete(self) -> None:
        self._coalescing.flush()
        super().on_response_complete()


__all__ = ["FLUSH_AT", "CoalescingTransport", "HttpProtocol"]
