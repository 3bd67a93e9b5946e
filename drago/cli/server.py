"""``drago server --data DIR [--listen HOST:PORT] [--init-from PATH]``: run the server.

Settings come from flags, then ``DRAGO_*`` environment variables, then the TOML
file of ``--config`` (see :mod:`drago.server.settings`). The server owns DIR
while it runs (a second server on DIR is refused) and, before serving, clears
what a previous owner killed mid-write left in the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from drago.server.app import Opened, create_app, open_context
from drago.server.coalesce import HttpProtocol
from drago.server.datadir import DataDir, Owner
from drago.server.git.quarantine import sweep
from drago.server.logs import configure_access_log, quiet_libraries
from drago.server.process import FreezeRenders, tune_process
from drago.server.runtime.url import redacted
from drago.server.settings import Settings, load_settings
from drago.store.recovery import remove_leftovers

log = logging.getLogger("drago.server")


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "server",
        help="run the drago server (REST API, git over HTTP, web UI)",
        description="Serve the repository of DIR over the REST API, git and the web UI. "
        "The first start creates DIR. Flags win over DRAGO_* variables, which win over "
        "the --config file.",
    )
    parser.add_argument("--data", type=Path, help="data directory (created on first start)")
    parser.add_argument("--config", type=Path, help="TOML settings file (or DRAGO_CONFIG)")
    parser.add_argument("--listen", help="HOST:PORT (default 127.0.0.1:8080; port 0: any)")
    parser.add_argument("--init-from", type=Path, help="import this directory on first start")
    parser.add_argument(
        "--database",
        help="PostgreSQL URL (postgresql://USER@HOST/DB) for tokens, node status and trusted "
        "signers, shared by servers (or DRAGO_DATABASE; default: DIR/runtime.sqlite)",
    )
    parser.add_argument("--branch", help="the live branch (default main)")
    parser.add_argument("--max-wait", type=float, help="longest long-poll in seconds (60)")
    parser.add_argument("--max-body", type=int, help="largest API request body in bytes")
    parser.add_argument("--max-push", type=int, help="largest git push body in bytes")
    parser.add_argument("--max-fetch", type=int, help="largest git clone/fetch body in bytes")
    parser.add_argument("--git-concurrency", type=int, help="git requests served at once (8)")
    parser.add_argument("--git-wait", type=float, help="wait for a git turn, then 503 (10 s)")
    parser.add_argument(
        "--git-io-timeout", type=float, help="drop a git client stalled this long (30 s)"
    )
    parser.add_argument("--tls-cert", type=Path, help="TLS certificate (PEM)")
    parser.add_argument("--tls-key", type=Path, help="TLS private key (PEM)")
    parser.add_argument("--public-url", help="URL to print for people (behind a proxy)")
    parser.add_argument("--log-format", choices=("logfmt", "json"), help="request log lines")
    parser.add_argument("--shutdown-timeout", type=float, help="grace period on SIGTERM (3 s)")
    parser.add_argument(
        "--replica-of",
        metavar="URL",
        help="serve as a replica of the primary at URL (its token: DRAGO_REPLICA_TOKEN, "
        "or one the replica makes in the shared database); see docs/scaling.md",
    )
    parser.add_argument(
        "--replica-fetch-interval", type=float, help="a replica fetches at least this often (10 s)"
    )
    parser.set_defaults(run=run)


FLAG_NAMES = (
    "data", "listen", "init_from", "database", "branch", "max_wait", "max_body", "max_push",
    "max_fetch",
    "git_concurrency", "git_wait", "git_io_timeout",
    "tls_cert", "tls_key", "public_url", "log_format", "shutdown_timeout",
    "replica_of", "replica_fetch_interval",
)  # fmt: skip


def settings_from(args: argparse.Namespace) -> Settings:
    flags = {name: getattr(args, name) for name in FLAG_NAMES}
    return load_settings(flags, os.environ, args.config)


class DragoServer(uvicorn.Server):
    """uvicorn, plus: print where to reach us once listening; release long-polls on exit."""

    def __init__(self, config: uvicorn.Config, opened: Opened) -> None:
        super().__init__(config)
        self.opened = opened
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)
        if self.started:
            announce(self.opened, self.bound_port())

    def bound_port(self) -> int:
        for server in getattr(self, "servers", []):
            for sock in server.sockets or ():
                return int(sock.getsockname()[1])
        return self.opened.ctx.settings.port

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.opened.ctx.live.close)


def announce(opened: Opened, port: int) -> None:
    ctx = opened.ctx
    base = ctx.settings.base_url(port)
    lines = [
        f"drago server listening on {base}",
        f"  web UI:  {base}/",
        f"  API:     {base}/api/v1",
        f"  git:     {base}/repo.git",
        f"  data:    {ctx.datadir.root}",
        f"  runtime: {runtime_place(ctx.settings)}",
        f"  live:    {ctx.branch} at {(ctx.live.revision or 'no commits yet')[:12]}",
    ]
    if ctx.settings.replica_of is not None:
        lines.append(f"  replica of {ctx.settings.replica_of} (writes are forwarded there)")
    if opened.imported:
        lines.append(f"  imported {ctx.settings.init_from} as {opened.imported[:12]}")
    if opened.bootstrap_secret:
        lines.append(f"  bootstrap admin token: {opened.bootstrap_secret}")
        lines.append(f"  (saved in {ctx.datadir.bootstrap_token}, readable by you only)")
    elif ctx.datadir.bootstrap_token.exists():
        lines.append(f"  bootstrap admin token: in {ctx.datadir.bootstrap_token}")
    print("\n".join(lines), flush=True)


def runtime_place(settings: Settings) -> str:
    """Where tokens, status and signers live, for people (no password)."""
    if settings.database is None:
        return str(DataDir(settings.data).database)
    return redacted(settings.database)


def take_ownership(datadir: DataDir) -> Owner:
    """Own DIR (Conflict if another server does), then clear a crashed owner's leftovers.

    Each file or directory removed is logged at WARNING: it is evidence of a
    crash, and nothing a finished write needs (see :mod:`drago.store.recovery`).
    """
    datadir.check_existing()
    datadir.ensure_root()
    owner = datadir.own()
    if datadir.repo.is_dir():

        def removed(path: Path) -> None:
            log.warning("removed %s (left by an interrupted write)", path)

        for path in remove_leftovers(datadir.repo):
            removed(path)
        sweep(datadir.repo, older_than=0, report=removed)
    return owner


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    tune_process()
    configure_access_log(sys.stderr, verbose=args.verbose)
    if not args.verbose:
        quiet_libraries()
    owner = take_ownership(DataDir(settings.data))
    opened = open_context(settings)
    opened.ctx.live.on_swap.append(FreezeRenders())
    app = create_app(opened.ctx)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout)),
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        http=HttpProtocol,  # one write per answer (drago.server.coalesce)
    )
    server = DragoServer(config, opened)
    try:
        server.run()
    finally:
        owner.release()
    return 0 if server.started else 1


__all__ = ["DragoServer", "register", "run", "settings_from", "take_ownership"]
