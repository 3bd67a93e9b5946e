"""The userspace backend: wireguard-go (or boringtun) devices over UAPI.

The backend can start ``wireguard-go -f IFNAME`` itself. The process runs in its
own session so that it (and the tunnel) outlives an agent restart; deleting the
interface's link makes wireguard-go exit, and the backend reaps the processes
it started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO

from drago.agent.backends.base import DeviceUpdate, LinkBackend
from drago.agent.backends.uapi import SOCKET_DIR, UapiSocket
from drago.agent.device import DeviceState
from drago.errors import BackendError

START_TIMEOUT = 10.0


class UserspaceBackend:
    """:class:`~drago.agent.backends.base.WireGuardBackend` speaking UAPI."""

    name = "userspace"

    def __init__(
        self,
        links: LinkBackend,
        wireguard_go: str = "wireguard-go",
        socket_dir: Path = SOCKET_DIR,
        log_dir: Path | None = None,
    ) -> None:
        self.links = links
        self.wireguard_go = wireguard_go
        self.socket_dir = socket_dir
        self.log_dir = log_dir
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def _socket(self, ifname: str) -> UapiSocket:
        return UapiSocket(ifname, self.socket_dir)

    def exists(self, ifname: str) -> bool:
        return self.links.exists(ifname) and self._socket(ifname).reachable()

    def create(self, ifname: str) -> None:
        program = shutil.which(self.wireguard_go)
        if program is None:
            raise BackendError(
                f"{ifname}: cannot start {self.wireguard_go!r}: not found "
                "(install wireguard-go or pass --wireguard-go PATH)"
            )
        log: int | IO[bytes] = subprocess.DEVNULL if self.log_dir is None else self._log(ifname)
        env = {**os.environ, "WG_PROCESS_FOREGROUND": "1"}
        try:
            process = subprocess.Popen(
                [program, "-f", ifname],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        except OSError as exc:
            raise BackendError(f"{ifname}: cannot start {program}: {exc}") from None
        finally:
            if not isinstance(log, int):
                log.close()
        self._processes[ifname] = process
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                del self._processes[ifname]
                raise BackendError(
                    f"{ifname}: {program} exited with status {process.returncode}"
                    + (f" (see {self.log_dir / (ifname + '.log')})" if self.log_dir else "")
                )
            if self._socket(ifname).reachable():
                return
            time.sleep(0.02)
        raise BackendError(f"{ifname}: {program} did not open its UAPI socket in time")

    def _log(self, ifname: str) -> IO[bytes]:
        assert self.log_dir is not None
        self.log_dir.mkdir(parents=True, exist_ok=True)
        return (self.log_dir / f"{ifname}.log").open("ab")

    def delete(self, ifname: str) -> None:
        self.links.delete(ifname)
        process = self._processes.pop(ifname, None)
        if process is not None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def read(self, ifname: str) -> DeviceState:
        return self._socket(ifname).get()

    def apply(self, ifname: str, update: DeviceUpdate) -> None:
        self._socket(ifname).set(update)
