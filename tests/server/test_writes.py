"""The server's HTTP protocol sends an answer's head and body in one write."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.server import ServerState

from drago.server.writes import CoalescingHttpProtocol, CoalescingTransport

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder(asyncio.Transport):
    """What the socket would have been asked to do."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.calls.append(("writelines", [bytes(d) for d in list_of_data]))

    def close(self) -> None:
        self.calls.append(("close", None))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8080)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def test_a_write_followed_by_another_goes_out_with_it() -> None:
    sent = Recorder()
    transport = CoalescingTransport(sent, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"body")
    assert sent.calls == [("writelines", [b"HTTP/1.1 200 OK\r\n\r\n", b"body"])]
    await asyncio.sleep(0)
    assert len(sent.calls) == 1  # nothing left behind


async def test_a_lone_write_goes_out_at_the_end_of_the_loop_iteration() -> None:
    sent = Recorder()
    transport = CoalescingTransport(sent, asyncio.get_running_loop())
    transport.write(b"one")
    assert sent.calls == []
    await asyncio.sleep(0)
    assert sent.calls == [("write", b"one")]


async def test_close_sends_what_is_held_first_and_order_is_kept() -> None:
    sent = Recorder()
    transport = CoalescingTransport(sent, asyncio.get_running_loop())
    transport.write(b"a")
    transport.write(b"b")
    transport.write(b"c")
    transport.close()
    await asyncio.sleep(0)
    assert sent.calls == [("writelines", [b"a", b"b"]), ("write", b"c"), ("close", None)]


async def test_uvicorn_answers_with_one_write() -> None:
    async def hello(request: Request) -> Response:
        return Response(b'{"hash":"abc"}', media_type="application/json")

    config = uvicorn.Config(Starlette(routes=[Route("/x", hello)]), http=CoalescingHttpProtocol)
    config.load()
    protocol = CoalescingHttpProtocol(config=config, server_state=ServerState(), app_state={})
    sent = Recorder()
    protocol.connection_made(sent)
    protocol.data_received(b"GET /x HTTP/1.1\r\nHost: drago\r\n\r\n")
    for _ in range(20):
        await asyncio.sleep(0)
    assert [kind for kind, _ in sent.calls] == ["writelines"]
    head, body = sent.calls[0][1]
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and body == b'{"hash":"abc"}'
    protocol.connection_lost(None)
