"""Trusted signers: who may sign commits of the live branch, and the server's own key."""

from __future__ import annotations

import anyio.to_thread
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from drago.server.api import PREFIX
from drago.server.api.common import context
from drago.server.endpoint import Principal, endpoint


class SignerOut(BaseModel):
    principals: list[str]
    key_type: str
    public_key: str = Field(description="TYPE BASE64, as in a .pub file")
    fingerprint: str = Field(description="SHA256:..., as ssh-keygen -l prints it")
    namespaces: list[str] | None
    server: bool = Field(description="true for the server's own signing key")


class SignerList(BaseModel):
    server_key: str | None = Field(description="the server's public key line")
    signers: list[SignerOut]
    allowed_signers: str = Field(description="the list in git's allowed_signers format")


@endpoint("read", "List trusted signers and the server key", response=SignerList, tags=("git",))
async def list_signers(request: Request, principal: Principal | None) -> Response:
    ctx = context(request)
    entries = await anyio.to_thread.run_sync(ctx.trust.entries)  # may read a database
    body = SignerList(
        server_key=ctx.server_key.public_line() if ctx.server_key is not None else None,
        signers=[SignerOut.model_validate(s.as_dict()) for s in entries],
        allowed_signers="".join(f"{s.line()}\n" for s in entries),
    )
    return JSONResponse(body.model_dump(mode="json"))


def routes() -> list[BaseRoute]:
    return [Route(f"{PREFIX}/signers", list_signers, methods=["GET"])]
