"""Git requests can never starve the API: own turns, deadlines on the client, max_fetch."""

from __future__ import annotations

import base64
import gzip
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from drago.server.git.turns import GitTurns
from tests.server.git.conftest import GitServer, running_git_server

pytestmark = pytest.mark.e2e

MIB = 1 << 20

#: More than anyio's default worker-thread pool (40 threads).
STALLED = 48


def turns(server: GitServer) -> GitTurns:
    found: GitTurns = server.app.state.git_turns
    return found


def stalled_upload_pack(server: GitServer, token: str) -> socket.socket:
    """A clone request that declares 100,000 body bytes, sends a few, then stalls."""
    auth = base64.b64encode(f"x:{token}".encode()).decode()
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(
        (
            "POST /repo.git/git-upload-pack HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Basic {auth}\r\n"
            "Content-Type: application/x-git-upload-pack-request\r\n"
            "Content-Length: 100000\r\n\r\n0032want "
        ).encode()
    )
    return sock


@pytest.fixture
def stalled_clients() -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    try:
        yield socks
    finally:
        for sock in socks:
            sock.close()


def wait_until(condition: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_stalled_git_clients_leave_token_checks_answering(
    tmp_path: Path, example_repo: Path, stalled_clients: list[socket.socket]
) -> None:
    # Deadlines far away: only the turns keep the API's threads free.
    with running_git_server(
        tmp_path / "data", example_repo, git_io_timeout=300, git_wait=300
    ) as server:
        for _ in range(STALLED):
            stalled_clients.append(stalled_upload_pack(server, server.reader))
        wait_until(lambda: turns(server).busy == server.ctx.settings.git_concurrency)
        time.sleep(0.5)  # the others wait for a turn (holding no thread)
        started = time.monotonic()
        response = httpx.get(
            f"{server.base}/api/v1/whoami",
            headers={"Authorization": f"Bearer {server.reader}"},
            timeout=8,
        )
        took = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert response.json()["role"] == "reader"
        assert took < 3, f"whoami took {took:.1f} s with {STALLED} stalled git clients"
        assert turns(server).busy == server.ctx.settings.git_concurrency


def test_a_git_request_beyond_the_turns_gets_503_after_the_wait(
    tmp_path: Path, example_repo: Path, stalled_clients: list[socket.socket]
) -> None:
    with running_git_server(
        tmp_path / "data", example_repo, git_concurrency=1, git_wait=0.3, git_io_timeout=300
    ) as server:
        stalled_clients.append(stalled_upload_pack(server, server.reader))
        wait_until(lambda: turns(server).busy == 1)
        response = httpx.get(
            f"{server.url()}/info/refs?service=git-upload-pack",
            auth=("x", server.reader),
            timeout=8,
        )
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "busy"
        assert "(git_concurrency)" in error["message"]
        assert "retry later" in error["message"]
        stalled_clients.pop().close()
        wait_until(lambda: turns(server).busy == 0)
        again = httpx.get(
            f"{server.url()}/info/refs?service=git-upload-pack",
            auth=("x", server.reader),
            timeout=8,
        )
        assert again.status_code == 200


def test_a_stalled_request_body_is_dropped_after_the_io_timeout(
    tmp_path: Path, example_repo: Path, stalled_clients: list[socket.socket]
) -> None:
    with running_git_server(tmp_path / "data", example_repo, git_io_timeout=0.5) as server:
        sock = stalled_upload_pack(server, server.reader)
        stalled_clients.append(sock)
        sock.settimeout(10)
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed without an answer: {answer!r}"
            answer += chunk
        took = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert 0.4 < took < 5
        wait_until(lambda: turns(server).busy == 0)


def test_a_trickling_request_body_is_dropped_once_too_slow(
    tmp_path: Path, example_repo: Path, stalled_clients: list[socket.socket]
) -> None:
    """One byte before every io deadline would hold a turn for ever: git_min_rate
    ends it once the server has waited git_io_timeout on the client."""
    with running_git_server(
        tmp_path / "data", example_repo, git_io_timeout=0.5, git_min_rate=1000
    ) as server:
        sock = stalled_upload_pack(server, server.reader)
        stalled_clients.append(sock)
        sock.settimeout(0.2)
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer:
            assert time.monotonic() - started < 10, "the trickle was never cut off"
            try:
                sock.sendall(b"0")  # well within git_io_timeout, far below the rate
            except OSError:
                pass
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            assert chunk, f"connection closed without an answer: {answer!r}"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert time.monotonic() - started > 0.5  # the grace period was given
        wait_until(lambda: turns(server).busy == 0)


def pkt(line: str) -> bytes:
    return b"%04x" % (len(line) + 4) + line.encode()


def haves(server: GitServer, size: int) -> bytes:
    """A clone request of the live head with about ``size`` bytes of ``have`` lines."""
    head = server.ctx.store.head(server.ctx.branch)
    assert head is not None
    want = pkt(f"want {head} multi_ack_detailed side-band-64k ofs-delta thin-pack\n") + b"0000"
    line = pkt("have " + "1" * 40 + "\n")
    return want + line * (size // len(line)) + pkt("done\n")


def post_upload_pack(
    server: GitServer, body: bytes | Iterator[bytes], **headers: str
) -> httpx.Response:
    return httpx.post(
        f"{server.url()}/git-upload-pack",
        content=body,
        headers={"content-type": "application/x-git-upload-pack-request", **headers},
        auth=("x", server.reader),
        timeout=30,
    )


@pytest.mark.parametrize("declared", [True, False])
def test_a_clone_request_over_max_fetch_is_413(git_server: GitServer, declared: bool) -> None:
    body = haves(git_server, 5 * MIB)
    assert len(body) < git_server.ctx.settings.max_push  # only max_fetch refuses it
    response = post_upload_pack(git_server, body if declared else iter([body]))
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert "(max_fetch)" in error["message"]
    assert error["details"] == {"limit_bytes": git_server.ctx.settings.max_fetch}


def test_a_gzipped_clone_request_is_counted_inflated_against_max_fetch(
    git_server: GitServer,
) -> None:
    packed = gzip.compress(haves(git_server, 5 * MIB))
    assert len(packed) < MIB
    response = post_upload_pack(git_server, packed, **{"content-encoding": "gzip"})
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["message"] == (
        f"fetch request larger than the limit of {4 * MIB} bytes (max_fetch)"
    )


def test_a_clone_request_under_max_fetch_is_served(git_server: GitServer) -> None:
    response = post_upload_pack(git_server, iter([haves(git_server, 2 * MIB)]))
    assert response.status_code == 200, response.text
    assert b"PACK" in response.content
