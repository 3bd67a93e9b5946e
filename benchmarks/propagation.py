"""Commit -> agents: how long until 100 long-polling agents hold the new config.

Builds a 101-node full mesh (100 agents plus one node ``src``), starts ``drago
server`` on it, and runs 100 simulated agents in a separate process: each holds
``GET /api/v1/nodes/{node}/config`` with its hash and ``?wait=``, and re-polls as
soon as an answer arrives. Each round registers a new public key for ``src``
through the API (one commit that changes every agent's config) and records, per
agent, the time from sending the write to receiving the new config.

    python benchmarks/propagation.py [--agents 100] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import multiprocessing.connection
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from longpoll import Server, cpu_seconds, raise_fd_limit, request, start_server


def random_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def node_name(i: int) -> str:
    return f"n{i:03d}"


def write_mesh(root: Path, agents: int) -> None:
    """A network where every node peers with every other, all keys registered."""
    for sub in ("networks", "nodes", "keys"):
        (root / sub).mkdir(parents=True)
    (root / "networks" / "mesh.toml").write_text(
        'address_range = "10.50.0.0/16"\nlisten_port = 51820\npersistent_keepalive = 25\n\n'
        '[[connections]]\nbetween = ["role=member", "role=member"]\n'
    )
    names = ["src"] + [node_name(i) for i in range(agents)]
    for i, name in enumerate(names, start=1):
        (root / "nodes" / f"{name}.toml").write_text(
            f'endpoint = "{name}.example.net"\nlabels = {{ role = "member" }}\n\n'
            f'[interfaces.mesh]\naddress = "10.50.{i // 250}.{i % 250 + 1}/16"\n'
        )
        (root / "keys" / f"{name}.toml").write_text(
            f'[interfaces.mesh]\npublic_key = "{random_key()}"\n'
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


# -- the agents' process --------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection with just enough parsing for this benchmark."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        lines = [f"GET {path} HTTP/1.1", "Host: drago"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        parsed = {}
        for line in header_lines:
            if ":" in line:
                key, value = line.split(":", 1)
                parsed[key.strip().lower()] = value.strip()
        length = int(parsed.get("content-length", "0"))
        body = await self.reader.readexactly(length) if length else b""
        return status, parsed, body


async def _agent(
    address: tuple[str, int],
    node: str,
    token: str,
    arrivals: list[tuple[str, float]],
    ready: list[str],
) -> None:
    conn = Connection(*await asyncio.open_connection(*address))
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/nodes/{node}/config"
    _, got, _ = await conn.get(path, headers)
    etag = got["etag"]
    ready.append(node)
    while True:
        status, got, body = await conn.get(path + "?wait=60", {**headers, "If-None-Match": etag})
        if status == 200:
            json.loads(body)  # an agent parses what it gets
            arrivals.append((node, time.monotonic()))
            etag = got["etag"]


def agents_main(
    conn: multiprocessing.connection.Connection, url: str, tokens: dict[str, str]
) -> None:
    raise_fd_limit()
    host, port = url.split("//", 1)[1].rsplit(":", 1)

    async def run() -> None:
        arrivals: list[tuple[str, float]] = []
        ready: list[str] = []
        tasks = [
            asyncio.create_task(_agent((host, int(port)), node, token, arrivals, ready))
            for node, token in tokens.items()
        ]
        while len(ready) < len(tokens):
            await asyncio.sleep(0.05)
        conn.send("ready")
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            conn.send(list(arrivals))
            arrivals.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run())


# -- the benchmark --------------------------------------------------------------------


def make_tokens(server: Server, nodes: list[str]) -> dict[str, str]:
    tokens = {}
    for node in nodes:
        status, _, body = request(server, "POST", "/api/v1/tokens", {"role": "node", "node": node})
        assert status == 201, body
        tokens[node] = json.loads(body)["secret"]
    return tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    raise_fd_limit()
    tmp = Path(tempfile.mkdtemp(prefix="drago-propagation-"))
    write_mesh(tmp / "repo", args.agents)
    server = start_server(tmp / "data", "--max-wait", "60", repo=tmp / "repo")
    proc: mp.Process | None = None
    try:
        nodes = [node_name(i) for i in range(args.agents)]
        tokens = make_tokens(server, nodes)
        parent, child = mp.Pipe()
        proc = mp.Process(target=agents_main, args=(child, server.url, tokens))
        proc.start()
        assert parent.recv() == "ready"
        time.sleep(0.5)
        latencies: list[float] = []
        commits: list[float] = []
        missing = 0
        cpu_before = cpu_seconds(server.proc.pid)
        for _ in range(args.rounds):
            started = time.monotonic()
            status, _, body = request(
                server, "PUT", "/api/v1/nodes/src/keys/mesh", {"public_key": random_key()}
            )
            commits.append(time.monotonic() - started)
            assert status == 200, body
            deadline = time.monotonic() + 10
            got: dict[str, float] = {}
            while len(got) < len(nodes) and time.monotonic() < deadline:
                time.sleep(0.2)
                parent.send("report")
                for node, at in parent.recv():
                    got.setdefault(node, at)
            missing += len(nodes) - len(got)
            latencies += [at - started for at in got.values()]
            time.sleep(0.2)
        server_cpu = cpu_seconds(server.proc.pid) - cpu_before
        parent.send("stop")
        proc.join(10)
        result = {
            "agents": args.agents,
            "rounds": args.rounds,
            "samples": len(latencies),
            "missing": missing,
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
            "api_commit_p50_ms": round(statistics.median(commits) * 1000, 1),
            "server_cpu_ms_per_round": round(server_cpu / args.rounds * 1000, 1),
            "load_average": os.getloadavg()[0],
        }
        print(json.dumps(result, indent=2))
        return 0
    finally:
        if proc is not None and proc.is_alive():
            proc.kill()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
