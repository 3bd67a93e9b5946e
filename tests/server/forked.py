"""``drago server`` processes forked from a process that has already imported drago.

Importing drago, starlette, uvicorn, pydantic and dulwich costs about 0.6 s of
CPU per start; a test that starts the server hundreds of times forks each one
from a preloaded multiprocessing fork server instead (a few milliseconds).
Each server is still its own process running ``drago server``'s entry point
from argument parsing on, with its own data directory lock, and is killed for
real. Its stdout and stderr go to a log file the test can read.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import sys
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

LISTENING = re.compile(r"listening on (https?://\S+)")

#: What the fork server imports once, so that the servers it forks need not.
PRELOAD = ["tests.server.warm"]


def _serve(argv: list[str], log: str) -> None:
    """The forked process: output to ``log``, then ``drago`` with ``argv``."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    from drago.cli.main import main

    sys.exit(main(argv))


class ForkedServer:
    def __init__(self, process: BaseProcess, log: Path) -> None:
        self.process = process
        self.log = log
        self.url = ""

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_listening(self, timeout: float = 30) -> ForkedServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = LISTENING.search(self.output)
            if found:
                self.url = found.group(1)
                return self
            if not self.process.is_alive():
                break
            time.sleep(0.005)
        self.kill()
        raise RuntimeError(f"drago server did not start:\n{self.output}")

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join(10)

    def terminate(self) -> int | None:
        """SIGTERM (a clean shutdown); returns the exit code."""
        if self.process.is_alive():
            assert self.process.pid is not None
            os.kill(self.process.pid, signal.SIGTERM)
        self.process.join(15)
        if self.process.is_alive():
            self.kill()
        return self.process.exitcode


class ServerForker:
    """Starts ``drago server`` processes from a fork server that preloaded drago."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)

    def start(self, data: Path, log: Path, *extra: str) -> ForkedServer:
        argv = ["server", "--data", str(data), "--listen", "127.0.0.1:0", *extra]
        process = self._context.Process(target=_serve, args=(argv, str(log)), daemon=True)
        process.start()
        return ForkedServer(process, log)
