"""One write per answer: the writes of one event-loop turn go out in one call,
large bodies still reach the real transport (and its flow control) at once, and
a real uvicorn server on :class:`HttpProtocol` answers plain and large requests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import pytest
import uvicorn

from drago.server.coalesce import FLUSH_AT, CoalescingTransport, HttpProtocol

pytestmark = pytest.mark.anyio


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return sum(map(len, self.writes))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1)}.get(name, default)


async def next_turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_the_writes_of_one_turn_are_one_write() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"")
    transport.write(memoryview(b"body"))
    assert real.writes == []
    assert transport.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nbody")
    await next_turn()
    assert real.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody"]
    transport.write(b"next")
    await next_turn()
    assert real.writes[1:] == [b"next"]
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1)


async def test_close_flushes_and_abort_drops() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"last words")
    transport.close()
    assert real.writes == [b"last words"] and real.closed
    other = RecordingTransport()
    aborted = CoalescingTransport(other, asyncio.get_running_loop())
    aborted.write(b"never sent")
    aborted.abort()
    await next_turn()
    assert other.writes == [] and other.aborted


async def test_nothing_is_written_to_a_closing_transport() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"late")
    real.closed = True  # the peer went away before the turn ended
    await next_turn()
    assert real.writes == []


async def test_large_writes_reach_the_transport_at_once() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    chunk = b"x" * 16_384
    for _ in range(10):  # a body streamed without yielding to the loop
        transport.write(chunk)
        assert transport.get_write_buffer_size() - real.get_write_buffer_size() <= FLUSH_AT
    assert real.writes  # flushed before the turn ended
    await next_turn()
    assert b"".join(real.writes) == chunk * 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_real_server_answers_plain_and_streamed_bodies() -> None:
    big = bytes(range(256)) * 40_000  # 10 MB, in 64 KiB chunks

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/big":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for start in range(0, len(big), 65_536):
                chunk = big[start : start + 65_536]
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [(b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello"})

    port = free_port()
    config = uvicorn.Config(app, port=port, http=HttpProtocol, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(3):
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = await reader.readuntil(b"hello")
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and b"content-length: 5" in answer
        writer.write(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        body = bytearray()
        while True:  # chunked: size line, data, CRLF; a last chunk of size 0
            size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += data[:-2]
            await asyncio.sleep(0)  # a slow reader: the server's flow control pauses it
        assert bytes(body) == big
        writer.close()
    finally:
        server.should_exit = True
        await task


async def test_a_complete_answer_leaves_before_the_turn_ends() -> None:
    """The answer is written when complete: a handler that then holds the event
    loop (as thousands of answers built in one turn do) does not delay it."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-length", b"5")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello"})
        time.sleep(1.0)  # the rest of this turn: the loop is busy elsewhere

    port = free_port()
    config = uvicorn.Config(app, port=port, http=HttpProtocol, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    received: list[float] = []

    def client() -> None:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sent = time.monotonic()
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while not data.endswith(b"hello"):
                data += sock.recv(4096)
            received.append(time.monotonic() - sent)

    try:
        while not server.started:
            await asyncio.sleep(0.01)
        thread = threading.Thread(target=client)
        thread.start()
        while thread.is_alive():
            await asyncio.sleep(0.01)
        assert received and received[0] < 0.8, received
    finally:
        server.should_exit = True
        await task


async def test_a_large_body_is_written_as_it_is_after_the_head() -> None:
    real = RecordingTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    body = b"y" * (FLUSH_AT + 1)
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(body)
    assert real.writes == [b"HTTP/1.1 200 OK\r\n\r\n", body]  # in order, the body not joined
    await next_turn()
    assert len(real.writes) == 2
