"""An in-process server on a temporary data directory initialised from example-repo,
with one token per kind of caller, and helpers to call the API as any of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from drago.server.app import create_app, open_context
from drago.server.context import ServerContext
from drago.server.endpoint import Role
from drago.server.settings import Settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Api:
    """The app, its context, and a client; ``as_`` names the caller's token."""

    ctx: ServerContext
    client: httpx.AsyncClient
    secrets: dict[str, str] = field(default_factory=dict)

    def secret(self, who: str) -> str:
        """Secret of ``admin``, ``reader``, or ``node:<name>`` (created on first use)."""
        if who not in self.secrets:
            role, _, node = who.partition(":")
            _, self.secrets[who] = self.ctx.tokens.create(
                Role(role), node=node or None, name=f"{who} token", email=f"{role}@example.org"
            )
        return self.secrets[who]

    async def call(
        self, method: str, url: str, *, as_: str | None = "admin", **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.secret(as_)}"
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.call("GET", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.call("PUT", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.call("POST", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.call("DELETE", url, **kwargs)

    def head(self) -> str:
        head = self.ctx.store.head(self.ctx.branch)
        assert head is not None
        return head

    def text(self, path: str, rev: str | None = None) -> str | None:
        for item in self.ctx.store.files(rev or self.head()):
            if item.path == path:
                return item.data.decode()
        return None


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Api]:
    """An app on ``settings``, started, with an in-process client."""
    opened = open_context(settings)
    app = create_app(opened.ctx)
    await opened.ctx.start()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://drago.test") as client:
            yield Api(opened.ctx, client)
    finally:
        await opened.ctx.stop()


@pytest.fixture
async def api(tmp_path: Path, example_repo: Path) -> AsyncIterator[Api]:
    async with serving(
        Settings(data=tmp_path / "data", init_from=example_repo, max_wait=2.0)
    ) as api:
        yield api
