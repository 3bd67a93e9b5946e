"""What the server benchmarks share: a ``drago server`` process, a full-mesh
repository, node tokens, and a cheap keep-alive HTTP client for simulated agents.

Used by ``longpoll.py`` and ``propagation.py``. With ``DRAGO_BENCH_PROFILE=FILE``
in the environment the server runs under ``profiled.py`` (cProfile in every
thread) and writes its merged statistics to FILE when it stops; with
``DRAGO_BENCH_PROFILE_GC_ONLY=1`` as well, it only times garbage collections.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example-repo"
ENTRY = "from drago.cli.main import entry; entry()"
PROFILED = Path(__file__).resolve().parent / "profiled.py"
#: The network of :func:`write_mesh` and the node whose key every round registers.
MESH, SOURCE = "mesh", "src"


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def run_fast(main: Coroutine[Any, Any, None]) -> None:
    """Run a client process's event loop on uvloop when it is installed (a cheaper
    client leaves more of the shared CPUs to the server being measured)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


# -- the server ------------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    data: Path

    @property
    def token(self) -> str:
        return (self.data / "bootstrap-token").read_text().strip()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.url.split("//", 1)[1].rsplit(":", 1)
        return host, int(port)

    def mark_profile(self) -> None:
        """A profiled server (``DRAGO_BENCH_PROFILE``) restarts its main thread's
        statistics here: they then cover the measured phase only."""
        if os.environ.get("DRAGO_BENCH_PROFILE") and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)  # a profiled server writes its statistics first
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(data: Path, *extra: str, repo: Path = EXAMPLE) -> Server:
    """``drago server`` on ``data`` (imported from ``repo``), on a free loopback port."""
    args = ["server", "--data", str(data), "--listen", "127.0.0.1:0", "--init-from", str(repo)]
    profile = os.environ.get("DRAGO_BENCH_PROFILE")
    if profile:
        gc_only = ["--gc-only"] if os.environ.get("DRAGO_BENCH_PROFILE_GC_ONLY") else []
        cmd = [sys.executable, str(PROFILED), *gc_only, profile, *args, *extra]
    else:
        cmd = [sys.executable, "-c", ENTRY, *args, *extra]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"listening on (http\S+)", line)
        if found:
            return Server(proc, found.group(1), data)
    proc.wait()
    raise RuntimeError("the server did not start")


def request(
    server: Server,
    method: str,
    path: str,
    body: object = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {server.token}")
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def metric(server: Server, name: str) -> float:
    _, _, body = request(server, "GET", "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU time of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    return sum(cpu_split(pid))


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# -- the repository and its tokens -----------------------------------------------------


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def node_name(i: int) -> str:
    return f"n{i:03d}"


def write_mesh(root: Path, nodes: int) -> list[str]:
    """A network where ``SOURCE`` and ``nodes`` more nodes all peer with each other,
    every key registered; the names of the ``nodes`` (without ``SOURCE``)."""
    for sub in ("networks", "nodes", "keys"):
        (root / sub).mkdir(parents=True)
    (root / "networks" / f"{MESH}.toml").write_text(
        'address_range = "10.50.0.0/16"\nlisten_port = 51820\npersistent_keepalive = 25\n\n'
        '[[connections]]\nbetween = ["role=member", "role=member"]\n'
    )
    names = [node_name(i) for i in range(nodes)]
    for i, name in enumerate([SOURCE, *names], start=1):
        (root / "nodes" / f"{name}.toml").write_text(
            f'endpoint = "{name}.example.net"\nlabels = {{ role = "member" }}\n\n'
            f'[interfaces.{MESH}]\naddress = "10.50.{i // 250}.{i % 250 + 1}/16"\n'
        )
        (root / "keys" / f"{name}.toml").write_text(
            f'[interfaces.{MESH}]\npublic_key = "{random_key()}"\n'
        )
    return names


def register_source_key(server: Server) -> int:
    """One commit that changes every other node's config of :func:`write_mesh`."""
    status, _, body = request(
        server, "PUT", f"/api/v1/nodes/{SOURCE}/keys/{MESH}", {"public_key": random_key()}
    )
    assert status == 200, body
    return status


def make_tokens(server: Server, nodes: list[str]) -> dict[str, str]:
    """One node token per node (an agent reads only its own config)."""
    tokens = {}
    for node in nodes:
        status, _, body = request(server, "POST", "/api/v1/tokens", {"role": "node", "node": node})
        assert status == 201, body
        tokens[node] = json.loads(body)["secret"]
    return tokens


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


# -- the agents' HTTP client -----------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes  # decoded (gunzipped when sent with Content-Encoding: gzip)
    wire: int  # bytes received: status line, headers and body as sent


class Connection:
    """One keep-alive HTTP/1.1 connection with just enough parsing for the benchmarks.

    :meth:`get` connects again when the server closed the idle connection (as
    uvicorn does after 5 s without a request), like an HTTP client library.
    """

    def __init__(
        self,
        address: tuple[str, int],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.address = address
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, address: tuple[str, int]) -> Connection:
        return cls(address, *await asyncio.open_connection(*address, limit=1 << 20))

    def send(self, path: str, headers: dict[str, str]) -> None:
        lines = [f"GET {path} HTTP/1.1", "Host: drago"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def answer(self) -> Answer:
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        parsed = {}
        for line in header_lines:
            if ":" in line:
                key, value = line.split(":", 1)
                parsed[key.strip().lower()] = value.strip()
        length = int(parsed.get("content-length", "0"))
        raw = await self.reader.readexactly(length) if length else b""
        body = gzip.decompress(raw) if parsed.get("content-encoding") == "gzip" else raw
        return Answer(status, parsed, body, len(head) + length)

    async def _reconnect(self) -> None:
        self.writer.close()
        self.reader, self.writer = await asyncio.open_connection(*self.address, limit=1 << 20)

    async def get(self, path: str, headers: dict[str, str]) -> Answer:
        if self.reader.at_eof():  # closed by the server while idle
            await self._reconnect()
        try:
            self.send(path, headers)
            await self.writer.drain()
            return await self.answer()
        except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise  # cut off in the middle of an answer
        await self._reconnect()  # closed (idle) just as the request went out
        self.send(path, headers)
        await self.writer.drain()
        return await self.answer()

    def close(self) -> None:
        self.writer.close()
