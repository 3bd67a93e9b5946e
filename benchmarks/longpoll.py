"""Idle long-polls: N agents hold ``GET /api/v1/nodes/{node}/config?wait=`` open.

Starts ``drago server`` on the example repository, opens N long-polls from a
separate client process (raw asyncio sockets, so the client stays cheap), waits
until the server holds them all (``drago_longpoll_waiters``), then measures the
server process while idle: resident memory (RSS) and CPU time. Finally it
registers a new key for a node that every polled node peers with and measures
how long until every held request has its 200 answer.

    python benchmarks/longpoll.py [--clients 10000] [--idle 20]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import multiprocessing.connection
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example-repo"
ENTRY = "from drago.cli.main import entry; entry()"
#: Nodes whose configs all contain fra-1 as a peer (core mesh and offices).
POLLED = ("nyc-1", "sgp-1", "ber-gw", "muc-1")
CHANGED = ("fra-1", "backbone")  # registering this key wakes every polled node


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    data: Path

    @property
    def token(self) -> str:
        return (self.data / "bootstrap-token").read_text().strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(data: Path, *extra: str, repo: Path = EXAMPLE) -> Server:
    cmd = [sys.executable, "-c", ENTRY, "server", "--data", str(data), "--listen", "127.0.0.1:0",
           "--init-from", str(repo), *extra]  # fmt: skip
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


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def register_key(server: Server, node: str, network: str) -> int:
    key = base64.b64encode(os.urandom(32)).decode()
    status, _, _ = request(server, "PUT", f"/api/v1/nodes/{node}/keys/{network}",
                           {"public_key": key})  # fmt: skip
    return status


# -- the client process ------------------------------------------------------------


@dataclass
class Tally:
    sent: int = 0
    ok: list[float] | None = None
    other: int = 0


async def _hold(host: str, port: int, raw: bytes, gate: asyncio.Semaphore, tally: Tally) -> None:
    async with gate:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(raw)
        await writer.drain()
        tally.sent += 1
    status_line = await reader.readline()
    if b" 200 " in status_line:
        assert tally.ok is not None
        tally.ok.append(time.monotonic())
    else:
        tally.other += 1
    writer.close()


def client_main(
    conn: multiprocessing.connection.Connection,
    url: str,
    token: str,
    etags: dict[str, str],
    count: int,
    wait: int,
) -> None:
    """Open ``count`` long-polls, report "connected", then the answer times."""
    raise_fd_limit()
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    raws = [
        (
            f"GET /api/v1/nodes/{node}/config?wait={wait} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token}\r\nIf-None-Match: {etag}\r\n\r\n"
        ).encode()
        for node, etag in etags.items()
    ]

    async def run() -> None:
        gate = asyncio.Semaphore(200)
        tally = Tally(ok=[])
        tasks = [
            asyncio.create_task(_hold(host, int(port), raws[i % len(raws)], gate, tally))
            for i in range(count)
        ]
        while tally.sent < count:
            await asyncio.sleep(0.05)
        conn.send("connected")
        cpu = time.process_time()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = sum(1 for r in results if isinstance(r, BaseException))
        conn.send((tally.ok, tally.other + errors, time.process_time() - cpu))

    asyncio.run(run())


# -- the benchmark -----------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle measurement")
    args = parser.parse_args()
    limit = raise_fd_limit()
    if limit < args.clients + 500:
        print(f"open-file limit {limit} is too low for {args.clients} clients", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="drago-longpoll-"))
    server = start_server(tmp / "data", "--max-wait", "3600")
    client: mp.Process | None = None
    try:
        etags = {}
        for node in POLLED:
            _, headers, _ = request(server, "GET", f"/api/v1/nodes/{node}/config")
            etags[node] = headers["etag"]
        pid = server.proc.pid
        base_rss = rss_kib(pid)
        parent, child = mp.Pipe()
        client = mp.Process(
            target=client_main, args=(child, server.url, server.token, etags, args.clients, 3000)
        )
        started = time.monotonic()
        client.start()
        assert parent.recv() == "connected"
        while metric(server, "drago_longpoll_waiters") < args.clients:
            time.sleep(0.2)
        connect_s = time.monotonic() - started
        time.sleep(1.0)
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(args.idle)
        cpu1, t1 = cpu_seconds(pid), time.monotonic()
        held_rss = rss_kib(pid)
        waiters = metric(server, "drago_longpoll_waiters")
        woke_at = time.monotonic()
        cpu2 = cpu_seconds(pid)
        status = register_key(server, *CHANGED)
        answered, failed, client_cpu = parent.recv()
        wake_cpu = cpu_seconds(pid) - cpu2
        client.join(30)
        result = {
            "clients": args.clients,
            "held": int(waiters),
            "connect_s": round(connect_s, 1),
            "rss_idle_mib": round(base_rss / 1024, 1),
            "rss_held_mib": round(held_rss / 1024, 1),
            "kib_per_poll": round((held_rss - base_rss) / max(args.clients, 1), 1),
            "idle_cpu_percent": round(100 * (cpu1 - cpu0) / (t1 - t0), 2),
            "commit_status": status,
            "all_answered_s": round(max(answered) - woke_at, 2) if answered else None,
            "wake_server_cpu_s": round(wake_cpu, 2),
            "wake_client_cpu_s": round(client_cpu, 2),
            "answered": len(answered),
            "not_200": failed,
            "load_average": os.getloadavg()[0],
        }
        print(json.dumps(result, indent=2))
        return 0
    finally:
        if client is not None and client.is_alive():
            client.kill()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
