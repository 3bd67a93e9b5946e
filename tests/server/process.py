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
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []

    def start(self, timeout: float = 30) -> ServerProcess:
        cmd = drago_command(
            "server", "--data", str(self.data), "--listen", "127.0.0.1:0", *self.extra
        )
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not sel.select(timeout=0.2):
                    if self.proc.poll() is not None:
                        break
                    continue
                line = self.proc.stdout.readline()
                if not line:
                    break
                self.output.append(line)
                found = LISTENING.search(line)
                if found:
                    self.url = found.group(1)
                    self._drain_announcement(sel)
                    return self
        self.stop()
        raise RuntimeError("drago server did not start:\n" + "".join(self.output))

    def _drain_announcement(self, sel: selectors.BaseSelector) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while sel.select(timeout=0.3):
            line = self.proc.stdout.readline()
            if not line:
                return
            self.output.append(line)

    @property
    def bootstrap(self) -> str:
        return (self.data / "bootstrap-token").read_text().strip()

    def terminate(self, timeout: float = 10) -> float:
        """SIGTERM; returns the seconds until the process exited."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
