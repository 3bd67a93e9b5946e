"""Network namespace fixtures: namespaces, veth links, a bridge hub, processes.

Everything a :class:`Lab` creates is torn down by :meth:`Lab.close`, even when
a test fails: processes are killed by process group, every process still inside
a namespace is killed (wireguard-go keeps a namespace alive otherwise), the
namespaces are deleted and leftover UAPI sockets removed. Names start with the
prefix given to the lab so that parallel runs never collide.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

UAPI_DIR = Path("/var/run/wireguard")


def netns_unavailable() -> str | None:
    """Why namespace tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "wireguard-go", "wg"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


def run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=30)


@dataclass
class Namespace:
    name: str

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", self.name, *cmd, check=check)

    def pids(self) -> list[int]:
        out = run("ip", "netns", "pids", self.name, check=False).stdout
        return [int(p) for p in out.split()]


@dataclass
class Lab:
    """Namespaces, links and processes of one test, cleaned up by :meth:`close`."""

    prefix: str
    namespaces: list[Namespace] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ifnames: list[str] = field(default_factory=list)

    def namespace(self, suffix: str) -> Namespace:
        ns = Namespace(f"{self.prefix}-{suffix}")
        run("ip", "netns", "add", ns.name)
        self.namespaces.append(ns)
        ns.run("ip", "link", "set", "lo", "up")
        return ns

    def hub(self, subnet: str = "172.31.250") -> Namespace:
        """A namespace with a bridge at ``SUBNET.1/24`` that :meth:`attach` plugs into."""
        hub = self.namespace("hub")
        hub.run("ip", "link", "add", "br0", "type", "bridge")
        hub.run("ip", "addr", "add", f"{subnet}.1/24", "dev", "br0")
        hub.run("ip", "link", "set", "br0", "up")
        self._subnet = subnet
        self._next_host = 2
        return hub

    def attach(self, hub: Namespace, ns: Namespace) -> str:
        """Plug ``ns`` into the hub's bridge; its address there (no prefix)."""
        host = self._next_host
        self._next_host += 1
        inside, outside = f"eth{host}", f"v{host}"
        run(
            "ip",
            "link",
            "add",
            inside,
            "netns",
            ns.name,
            "type",
            "veth",
            "peer",
            outside,
            "netns",
            hub.name,
        )
        hub.run("ip", "link", "set", outside, "master", "br0")
        hub.run("ip", "link", "set", outside, "up")
        address = f"{self._subnet}.{host}"
        ns.run("ip", "addr", "add", f"{address}/24", "dev", inside)
        ns.run("ip", "link", "set", inside, "up")
        return address

    def spawn(
        self,
        cmd: Sequence[str],
        ns: Namespace | None = None,
        *,
        log: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``cmd`` (inside ``ns`` when given) in its own process group."""
        argv = ["ip", "netns", "exec", ns.name, *cmd] if ns else list(cmd)
        out = log.open("ab") if log else subprocess.DEVNULL
        try:
            process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **(env or {})},
            )
        finally:
            if not isinstance(out, int):
                out.close()
        self.processes.append(process)
        return process

    def wireguard_go(self, ns: Namespace, ifname: str) -> subprocess.Popen[bytes]:
        """Start wireguard-go for ``ifname`` in ``ns`` and wait for its UAPI socket."""
        self.ifnames.append(ifname)
        process = self.spawn(["wireguard-go", "-f", ifname], ns, env={"WG_PROCESS_FOREGROUND": "1"})
        sock = UAPI_DIR / f"{ifname}.sock"
        deadline = time.monotonic() + 10
        while not sock.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"wireguard-go {ifname} did not start")
            time.sleep(0.02)
        return process

    def track_ifname(self, ifname: str) -> None:
        """Remember a UAPI socket to remove at cleanup (devices started by others)."""
        self.ifnames.append(ifname)

    @staticmethod
    def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def close(self) -> None:
        for process in reversed(self.processes):
            try:
                self.stop(process)
            except (OSError, subprocess.SubprocessError):
                pass
        for ns in reversed(self.namespaces):
            for pid in ns.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.05)
        for ns in reversed(self.namespaces):
            run("ip", "netns", "del", ns.name, check=False)
        for ifname in self.ifnames:
            (UAPI_DIR / f"{ifname}.sock").unlink(missing_ok=True)
        self.namespaces.clear()
        self.processes.clear()


def new_prefix(tag: str) -> str:
    """A namespace prefix unique to this run: ``dga-TAG-xxxx``."""
    return f"dga-{tag}-{secrets.token_hex(2)}"


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A :class:`Lab` whose namespaces and processes vanish after the test."""
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    the_lab = Lab(new_prefix(request.node.name[:4].strip("_").lower() or "t"))
    try:
        yield the_lab
    finally:
        the_lab.close()
