"""A primary and a replica as in-process servers on loopback ports.

Until the runtime database can be shared (PostgreSQL), the replica's context is
given the primary's token and status stores: the replica reads the primary's
tokens as a shared database would let it. The replica trusts the primary's
server key (the commits it makes), as the shared trusted signers will.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from drago.server.app import open_context
from drago.server.context import ServerContext
from drago.signing import PublicKey, TrustedSigners
from tests.server.git.conftest import GitServer, alice, running_git_server, serve  # noqa: F401
from tests.server.git.gitenv import GitUser


@dataclass
class ReplicaServer:
    ctx: ServerContext
    port: int
    server: uvicorn.Server

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, token: str) -> str:
        return f"http://x:{token}@127.0.0.1:{self.port}/repo.git"

    def trust(self, user: GitUser) -> None:
        key, _ = PublicKey.from_line(user.pubkey.read_text())
        TrustedSigners(self.ctx.datadir.allowed_signers, None).add(user.email, key)


def trust_server_key(replica: ServerContext, primary: ServerContext) -> None:
    assert primary.server_key is not None
    key, principal = PublicKey.from_line(primary.server_key.public_line())
    TrustedSigners(replica.datadir.allowed_signers, None).add(principal or "primary", key)


@contextlib.contextmanager
def running_replica(
    primary: GitServer, data: Path, *, trusted: bool = True, **settings: Any
) -> Iterator[ReplicaServer]:
    """A replica of ``primary`` on a free port, sharing its tokens and status."""
    from drago.server.settings import Settings

    options: dict[str, Any] = {"replica_fetch_interval": 30.0, "max_push": 8 << 20, **settings}
    opened = open_context(
        Settings(
            data=data,
            replica_of=primary.base,
            replica_token=SecretStr(primary.reader),
            **options,
        )
    )
    ctx = opened.ctx
    assert opened.bootstrap_secret is None  # a replica makes no admin token
    ctx.tokens = primary.ctx.tokens
    ctx.status = primary.ctx.status
    if trusted:
        trust_server_key(ctx, primary.ctx)
    server, thread, port = serve(ctx, watcher=False)
    try:
        yield ReplicaServer(ctx, port, server)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def primary(tmp_path: Path, example_repo: Path) -> Iterator[GitServer]:
    with running_git_server(tmp_path / "primary", example_repo) as server:
        yield server


@pytest.fixture
def replica(primary: GitServer, tmp_path: Path) -> Iterator[ReplicaServer]:
    with running_replica(primary, tmp_path / "replica") as server:
        yield server


def get(base: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, **kwargs)


NEW_NODE = {
    "name": "ams-1",
    "spec": {
        "description": "Amsterdam gateway",
        "endpoint": "ams-1.example.net",
        "labels": {"role": "core"},
        "interfaces": {"backbone": {"address": "10.20.0.9/16", "routes": ["10.200.0.0/16"]}},
    },
    "message": "add Amsterdam",
}


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.01)
