"""A real ``drago server`` process for e2e tests: started on a free port, stopped by SIGTERM."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

LISTENING = re.compile(r"listening on (https?://\S+)")
ENTRY = "from drago.cli.main import entry; entry()"


def drago_command(*args: str) -> list[str]:
    return [sys.executable, "-c", ENTRY, *args]


class ServerProcess:
    def __init__(self, data: Path, *extra: str) -> None:
        self.data = data
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.output: list[str] = []
        #: extra environment variables of the process
        self.env: dict[str, str] = {}

    def start(self, timeout: float = 30) -> ServerProcess:
        cmd = drago_command(
            "server", "--data", str(self.data), "--listen", "127.0.0.1:0", *self.extra
        )
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buffer = b""
        deadline = time.monotonic() + timeout
        settle: float | None = None  # read a little more after the listening line
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while time.monotonic() < (settle or deadline):
                if not sel.select(timeout=0.1):
                    if self.proc.poll() is not None:
                        break
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                buffer += chunk
                found = LISTENING.search(buffer.decode(errors="replace"))
                if found and settle is None:
                    self.url = found.group(1)
                    settle = time.monotonic() + 0.3
        self.output = buffer.decode(errors="replace").splitlines(keepends=True)
        if not self.url:
            self.stop()
            raise RuntimeError("drago server did not start:\n" + "".join(self.output))
        return self

    @property
    def bootstrap(self) -> str:
        return (self.data / "bootstrap-token").read_text().strip()

    def terminate(self, timeout: float = 10) -> float:
        """SIGTERM; returns the seconds until the process exited."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout)
        took = time.monotonic() - started
        self._close_pipe()
        return took

    def _close_pipe(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            self._close_pipe()
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._close_pipe()
