from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

from drago.server.app import create_app, open_context
from drago.server.context import ServerContext
from drago.server.endpoint import Role
from drago.server.git import RefWatcher
from drago.server.settings import Settings
from drago.signing import PublicKey, TrustedSigners
from tests.server.git.gitenv import GitUser


@dataclass
class GitServer:
    ctx: ServerContext
    port: int
    admin: str
    reader: str
    node: str
    app: Starlette
    #: The uvicorn server (``force_exit``: stop without waiting for held requests).
    server: uvicorn.Server | None = None

    def url(self, token: str | None = None) -> str:
        auth = f"x:{token}@" if token else ""
        return f"http://{auth}127.0.0.1:{self.port}/repo.git"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def trust(self, user: GitUser) -> None:
        key, _ = PublicKey.from_line(user.pubkey.read_text())
        TrustedSigners(self.ctx.datadir.allowed_signers, None).add(user.email, key)


def serve(
    ctx: ServerContext, *, watcher: bool = True
) -> tuple[uvicorn.Server, threading.Thread, int]:
    """Serve ``ctx`` on a free loopback port in a thread; ``watcher``: whether the
    app factory must have installed the repository watcher (a replica has none)."""
    app = create_app(ctx)
    watchers = [h for h in ctx.on_startup if isinstance(getattr(h, "__self__", None), RefWatcher)]
    assert len(watchers) == int(watcher), "the app factory installs one watcher on a primary"
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


@contextlib.contextmanager
def running_git_server(data: Path, example_repo: Path, **settings: Any) -> Iterator[GitServer]:
    """A server on a free port over a new data directory, with these settings."""
    options: dict[str, Any] = {"max_push": 8 << 20, **settings}
    opened = open_context(Settings(data=data, init_from=example_repo, **options))
    ctx = opened.ctx
    assert opened.bootstrap_secret is not None
    _, reader = ctx.tokens.create(Role.reader, name="reader", email="reader@example.com")
    _, node = ctx.tokens.create(Role.node, node="fra-1")
    server, thread, port = serve(ctx)
    try:
        app = server.config.app
        assert isinstance(app, Starlette)
        yield GitServer(ctx, port, opened.bootstrap_secret, reader, node, app, server)
    finally:
        server.should_exit = True
        thread.join(10)
        ctx.store.close()


@pytest.fixture
def git_server(tmp_path: Path, example_repo: Path) -> Iterator[GitServer]:
    with running_git_server(tmp_path / "data", example_repo) as server:
        yield server


@pytest.fixture
def alice(tmp_path: Path) -> GitUser:
    return GitUser.create(tmp_path / "alice", "alice@example.com")
