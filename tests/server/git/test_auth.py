"""Git over HTTP: the token is looked up off the event loop."""

from __future__ import annotations

import base64
import threading

import pytest
from starlette.requests import Request

from drago.errors import Forbidden, Unauthorized
from drago.server.endpoint import Principal, Role
from drago.server.git.auth import authorize_git

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Tokens:
    def __init__(self) -> None:
        self.threads: list[int] = []

    def authenticate(self, secret: str) -> Principal | None:
        self.threads.append(threading.get_ident())
        roles = {"admin": Role.admin, "reader": Role.reader}
        role = roles.get(secret)
        return None if role is None else Principal(secret, secret, f"{secret}@x.org", role)


def request(password: str) -> Request:
    auth = base64.b64encode(f"git:{password}".encode())
    return Request({"type": "http", "headers": [(b"authorization", b"Basic " + auth)]})


async def test_the_token_lookup_runs_in_a_worker_thread() -> None:
    tokens = Tokens()
    principal = await authorize_git(request("admin"), tokens, "git-receive-pack")
    assert principal.role is Role.admin
    assert tokens.threads and threading.get_ident() not in tokens.threads
    with pytest.raises(Forbidden):
        await authorize_git(request("reader"), tokens, "git-receive-pack")
    with pytest.raises(Unauthorized):
        await authorize_git(request("revoked"), tokens, "git-upload-pack")
