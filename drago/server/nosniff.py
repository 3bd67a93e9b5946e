"""``X-Content-Type-Options: nosniff`` on every HTTP answer of the server."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The raw header pair (as ASGI sends headers). Prepared answers
#: (:mod:`drago.server.answers`) carry it already; the middleware adds it to the rest.
NOSNIFF = (b"x-content-type-options", b"nosniff")


class NoSniffMiddleware:
    """Every HTTP answer says ``X-Content-Type-Options: nosniff`` (API, git, UI, errors):
    a browser never runs a JSON answer or a repository file as a script or page."""

    HEADER = NOSNIFF

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != self.HEADER[0]
                ]
                message = {**message, "headers": [*headers, self.HEADER]}
            await send(message)

        await self.app(scope, receive, send_nosniff)


__all__ = ["NOSNIFF", "NoSniffMiddleware"]
