"""Fixtures for in-process server tests: a data directory initialised from the
example repository, the app, and an httpx client over the ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from drago.server.app import Opened, create_app, open_context
from drago.server.context import ServerContext
from drago.server.endpoint import Role
from drago.server.settings import Settings
from tests.server.git.conftest import alice, git_server  # noqa: F401 (review tests push)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Harness:
    """A running in-process server: its context, a client and an admin secret."""

    opened: Opened
    client: httpx.AsyncClient
    admin: str

    @property
    def ctx(self) -> ServerContext:
        return self.opened.ctx

    def token(self, role: Role, node: str | None = None, **identity: str) -> str:
        _, secret = self.ctx.tokens.create(role, node=node, **identity)
        return secret

    @staticmethod
    def auth(secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def server_settings(tmp_path: Path, example_repo: Path) -> Settings:
    return Settings(data=tmp_path / "data", init_from=example_repo, max_wait=5.0, max_body=4096)


@pytest.fixture
async def harness(server_settings: Settings) -> AsyncIterator[Harness]:
    opened = open_context(server_settings)
    assert opened.bootstrap_secret is not None
    app = create_app(opened.ctx)
    await opened.ctx.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://drago.test") as client:
            yield Harness(opened, client, opened.bootstrap_secret)
    finally:
        await opened.ctx.stop()
