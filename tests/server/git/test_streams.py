"""Request bodies of git requests: bounded gunzip, and malformed requests answered 400."""

from __future__ import annotations

import gzip
import logging
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread
import httpx
import pytest
from starlette.types import Message

from drago.errors import PayloadTooLarge, RequestTimeout
from drago.server.git.pace import ClientPace
from drago.server.git.streams import (
    BATCH,
    MALFORMED,
    ThreadedResponse,
    ThreadReader,
    ThreadWriter,
)
from drago.server.git.turns import GitTurns
from tests.server.git.conftest import GitServer

MIB = 1 << 20


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped (about a thousandth of that)."""
    deflate = zlib.compressobj(9, wbits=31)
    block = bytes(MIB)
    return b"".join(deflate.compress(block) for _ in range(size // MIB)) + deflate.flush()


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def read_all(reader: ThreadReader) -> bytes:
    out = bytearray()
    while data := reader.recv(MIB):
        out += data
    return bytes(out)


def test_gzip_body_is_never_inflated_far_past_the_limit() -> None:
    bomb = gzip_bomb(64 * MIB)
    assert len(bomb) < MIB  # one chunk of the request

    async def main() -> None:
        reader = ThreadReader(chunks(bomb), gzip=True, limit=MIB, timeout=10)
        with pytest.raises(PayloadTooLarge):
            await anyio.to_thread.run_sync(read_all, reader)

    tracemalloc.start()
    try:
        anyio.run(main)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MIB


def test_gzip_body_up_to_the_limit_is_read_whole() -> None:
    data = bytes(range(256)) * (4 * MIB // 256)
    packed = gzip.compress(data)

    async def main() -> bytes:
        halves = packed[: len(packed) // 2], packed[len(packed) // 2 :]
        reader = ThreadReader(chunks(*halves), gzip=True, limit=len(data), timeout=10)
        return await anyio.to_thread.run_sync(read_all, reader)

    assert anyio.run(main) == data


def pkt(line: bytes) -> bytes:
    return f"{len(line) + 4:04x}".encode() + line


ONE = b"1" * 40
MALFORMED_BODIES = {
    "garbage-upload": ("git-upload-pack", b"this is not a pkt-line stream at all"),
    "garbage-receive": ("git-receive-pack", b"\xff\xfe\x00garbage"),
    "no-capabilities": ("git-upload-pack", pkt(b"want " + ONE + b"\n") + b"0000" + pkt(b"done\n")),
    "empty": ("git-receive-pack", b""),
    "truncated": ("git-upload-pack", pkt(b"want " + ONE)[:20]),
}


@pytest.mark.e2e
@pytest.mark.parametrize("case", sorted(MALFORMED_BODIES))
def test_malformed_request_is_a_400_json_error_without_traceback(
    git_server: GitServer, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    service, body = MALFORMED_BODIES[case]
    with caplog.at_level(logging.INFO, logger="drago.server.git"):
        response = httpx.post(
            f"{git_server.base}/repo.git/{service}",
            content=body,
            headers={"content-type": f"application/x-{service}-request"},
            auth=("x", git_server.admin),
            timeout=30,
        )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "error": {"code": "invalid_request", "message": MALFORMED, "details": None}
    }
    records = [r for r in caplog.records if r.name == "drago.server.git"]
    assert records and all(r.levelno == logging.INFO and r.exc_info is None for r in records)


@pytest.mark.e2e
def test_gzip_bomb_push_is_refused_as_too_large(git_server: GitServer) -> None:
    response = httpx.post(
        f"{git_server.base}/repo.git/git-receive-pack",
        content=gzip_bomb(64 * MIB),
        headers={
            "content-type": "application/x-git-receive-pack-request",
            "content-encoding": "gzip",
        },
        auth=("x", git_server.admin),
        timeout=30,
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"]["details"] == {"limit_bytes": git_server.ctx.settings.max_push}


def test_a_client_that_takes_no_answer_is_dropped_and_its_thread_freed() -> None:
    turns = GitTurns(1, wait=0)
    written: list[int] = []

    def work(writer: ThreadWriter) -> None:
        for _ in range(64):  # 4 MiB: more than the batches the stream holds
            writer.write(bytes(BATCH))
            written.append(BATCH)

    messages: list[Message] = []
    afterwards: list[int] = []

    async def send(message: Message) -> None:
        messages.append(message)
        if message["type"] == "http.response.body":
            await anyio.sleep_forever()  # the client reads nothing more

    async def receive() -> Message:
        await anyio.sleep_forever()
        raise AssertionError

    async def main() -> None:
        async def after() -> None:
            afterwards.append(turns.busy)

        response = ThreadedResponse(
            work,
            media_type="application/x-git-receive-pack-result",
            turns=turns,
            timeout=0.3,
            after=after,
        )
        with anyio.fail_after(5):
            await response({"type": "http"}, receive, send)

    started = time.monotonic()
    anyio.run(main)
    assert time.monotonic() - started < 3
    assert turns.busy == 0
    assert 0 < sum(written) < 64 * BATCH  # the work ended early, its thread freed
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert messages[0]["status"] == 200
    assert afterwards == [0]  # what a push did still takes effect, after the turn ended


def test_a_trickling_body_ends_with_408_naming_git_min_rate() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        while True:
            await anyio.sleep(0.05)
            yield b"x"

    def read_all(reader: ThreadReader) -> None:
        while reader.recv(1 << 16):
            pass

    async def main() -> None:
        pace = ClientPace(min_rate=1000, grace=0.2)
        reader = ThreadReader(trickle(), gzip=False, limit=MIB, timeout=10, pace=pace)
        with pytest.raises(RequestTimeout, match="git_min_rate"):
            await anyio.to_thread.run_sync(read_all, reader)
        assert 0.2 <= pace.waited < 1

    anyio.run(main)
