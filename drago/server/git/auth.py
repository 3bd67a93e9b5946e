"""Who may use git over HTTP: HTTP Basic with a token as the password.

Any user name is accepted. Admin tokens may clone, fetch and push; reader
tokens may clone and fetch; node tokens have no git access.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

import anyio.to_thread
from starlette.requests import Request

from drago.errors import Forbidden, Unauthorized
from drago.server.endpoint import Principal, Role, TokenAuthenticator

Service = Literal["git-upload-pack", "git-receive-pack"]
SERVICES: tuple[Service, ...] = ("git-upload-pack", "git-receive-pack")


def basic_password(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep and password else None


async def authorize_git(
    request: Request, tokens: TokenAuthenticator, service: Service
) -> Principal:
    """The principal of the request if it may use ``service``; 401 or 403 otherwise.

    The token look-up reads the database: it runs in a worker thread, like the API's,
    so a busy database never stalls the event loop (and every held long-poll with it).
    """
    secret = basic_password(request)
    if secret is None:
        raise Unauthorized("git needs a token: use it as the password (http://x:TOKEN@host/...)")
    principal = await anyio.to_thread.run_sync(tokens.authenticate, secret)
    if principal is None:
        raise Unauthorized("invalid or revoked token")
    if principal.role is Role.node:
        raise Forbidden("node tokens have no git access")
    if service == "git-receive-pack" and principal.role is not Role.admin:
        raise Forbidden(f"a {principal.role} token may clone and fetch but not push")
    return principal
