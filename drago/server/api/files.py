"""A resource that is one TOML file in a folder: ``networks/<network>.toml`` and
``nodes/<node>.toml``.

Both are read (404 when the file is missing), created (409 when it exists),
replaced (fields applied to the existing text, or the whole text) and deleted the
same way; the answer to a create or a replace is the file read at the revision that
holds the write. What differs is the answer's model (``out``) and, on delete, the
other files that go with the file (``also``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from drago.errors import Conflict
from drago.model.names import file_path
from drago.server.api.common import (
    Changes,
    Snapshot,
    context,
    in_thread,
    json_response,
    live_snapshot,
    message_or,
    name_param,
    new_text,
    write,
)
from drago.server.api.models import (
    CommitMessage,
    Committed,
    FileOut,
    NetworkCreate,
    NetworkWrite,
    NodeCreate,
    NodeWrite,
)
from drago.server.context import ServerContext
from drago.server.endpoint import Principal, parse_body

Out = TypeVar("Out", bound=FileOut)
#: The request bodies of a create and of a replace.
Create = TypeVar("Create", NetworkCreate, NodeCreate)
Write = TypeVar("Write", NetworkWrite, NodeWrite)


@dataclass
class FileResource(Generic[Out]):
    folder: str  #: the files are ``<folder>/<name>.toml``
    kind: str  #: the path parameter holding the name, and the word for one file in messages
    out: Callable[[ServerContext, Snapshot, str], Out]  #: the answer for one file
    #: the answer for one file in the list (default: ``out``)
    listed: Callable[[ServerContext, Snapshot, str], Out] | None = None

    async def read_all(self, request: Request) -> tuple[str | None, list[Out]]:
        """The live revision and the answer for every file of the folder."""
        ctx = context(request)
        snapshot = live_snapshot(ctx)
        out = self.listed or self.out
        outs = await in_thread(lambda: [out(ctx, snapshot, n) for n in snapshot.names(self.folder)])
        return snapshot.revision, outs

    async def get(self, request: Request) -> Response:
        ctx = context(request)
        snapshot = live_snapshot(ctx)
        name = name_param(request, self.kind)
        out = await in_thread(lambda: self.out(ctx, snapshot, name))
        return json_response(out, revision=snapshot.revision)

    async def create(
        self, request: Request, principal: Principal | None, model: type[Create]
    ) -> Response:
        body = await parse_body(request, model)
        path = file_path(self.folder, body.name)

        def change(snapshot: Snapshot) -> Changes:
            if snapshot.read(path) is not None:
                raise Conflict(f"{self.kind} {body.name!r} exists", details={"path": path})
            return {path: new_text(path, None, body.spec, body.toml).encode()}

        done = await write(
            request, principal, change, message=message_or(body.message, f"api: create {path}")
        )
        return await self._answer(request, body.name, done, status=201)

    async def update(
        self, request: Request, principal: Principal | None, model: type[Write]
    ) -> Response:
        name = name_param(request, self.kind)
        body = await parse_body(request, model)
        path = file_path(self.folder, name)

        def change(snapshot: Snapshot) -> Changes:
            existing = snapshot.require(self.folder, name)
            return {path: new_text(path, existing, body.spec, body.toml).encode()}

        done = await write(
            request, principal, change, message=message_or(body.message, f"api: update {path}")
        )
        return await self._answer(request, name, done)

    async def delete(
        self,
        request: Request,
        principal: Principal | None,
        also: Callable[[Snapshot, str], Changes] | None = None,
    ) -> Response:
        """Delete the file, and make the changes ``also`` names in the same commit."""
        name = name_param(request, self.kind)
        body = await parse_body(request, CommitMessage)
        path = file_path(self.folder, name)

        def change(snapshot: Snapshot) -> Changes:
            snapshot.require(self.folder, name)
            return {path: None, **(also(snapshot, name) if also else {})}

        done = await write(
            request, principal, change, message=message_or(body.message, f"api: delete {path}")
        )
        return json_response(done, revision=done.revision)

    async def _answer(
        self, request: Request, name: str, done: Committed, *, status: int = 200
    ) -> Response:
        ctx = context(request)
        out = await in_thread(lambda: self.out(ctx, Snapshot(ctx, done.revision or None), name))
        return json_response(out, status=status, revision=done.revision)
