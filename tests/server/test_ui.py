"""Serving the built UI: the SPA fallback, asset caching, and the page shown without a build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from drago.server import ui
from drago.server.errors import EXCEPTION_HANDLERS

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def build(dist: Path) -> None:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=app></div>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "favicon.ico").write_bytes(b"ico")


async def api_ok(request: object) -> JSONResponse:
    return JSONResponse({"ok": True})


def client_for(dist: Path) -> httpx.AsyncClient:
    app = Starlette(
        routes=[Route("/api/v1/whoami", api_ok), *ui.routes(dist)],
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ui")


@pytest.fixture
async def built(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    build(tmp_path / "dist")
    async with client_for(tmp_path / "dist") as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/nodes/fra-1", "/networks/backbone/topology", "/history"])
async def test_app_paths_answer_index_without_caching(built: httpx.AsyncClient, path: str) -> None:
    r = await built.get(path)
    assert r.status_code == 200
    assert r.text.startswith("<!doctype html>")
    assert r.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in r.headers["content-security-policy"]


async def test_hashed_assets_are_cached_for_a_year(built: httpx.AsyncClient) -> None:
    r = await built.get("/assets/index-abc123.js")
    assert r.status_code == 200
    assert r.text == "console.log(1)"
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    missing = await built.get("/assets/index-nope.js")
    assert missing.status_code == 404


async def test_root_files_are_served_as_themselves(built: httpx.AsyncClient) -> None:
    r = await built.get("/favicon.ico")
    assert r.content == b"ico"


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api", "/repo.git/info/refs", "/metrics"])
async def test_server_paths_never_fall_back_to_the_app(built: httpx.AsyncClient, path: str) -> None:
    r = await built.get(path)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_api_routes_listed_first_still_answer(built: httpx.AsyncClient) -> None:
    r = await built.get("/api/v1/whoami")
    assert r.json() == {"ok": True}


async def test_paths_outside_the_build_are_not_served(
    built: httpx.AsyncClient, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"]:
        r = await built.get(path)
        assert "secret" not in r.text


async def test_without_a_build_the_root_explains_how_to_build(tmp_path: Path) -> None:
    async with client_for(tmp_path / "missing") as client:
        r = await client.get("/")
        assert r.status_code == 503
        assert "text/html" in r.headers["content-type"]
        assert "npm ci" in r.text and "pip install" in r.text
        asset = await client.get("/assets/index-abc123.js")
        assert asset.status_code == 404


async def test_a_build_made_while_running_is_served_without_restart(tmp_path: Path) -> None:
    async with client_for(tmp_path / "dist") as client:
        assert (await client.get("/")).status_code == 503
        build(tmp_path / "dist")
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/assets/index-abc123.js")).status_code == 200
