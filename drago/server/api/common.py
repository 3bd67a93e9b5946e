"""What the resource modules share: the context, path names, reading files at a
revision, and the one way to write (read, change, commit with compare-and-swap).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from typing import TypeVar, cast

import anyio.to_thread
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from drago.errors import ConfigError, Conflict, InvalidRequest, NotFound
from drago.model import documents
from drago.model.names import file_path, name_problem
from drago.model.state import State
from drago.model.validate import Bound, Validator
from drago.server.api.models import Committed
from drago.server.api.specs import spec_data
from drago.server.context import ServerContext, base_revision
from drago.server.endpoint import Principal

#: How often a write without ``If-Match`` is retried when another write wins the race.
RETRIES = 30

Changes = dict[str, bytes | None]
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


async def in_thread(func: Callable[[], T]) -> T:
    """Run blocking store work in a worker thread."""
    return await anyio.to_thread.run_sync(func)


def context(request: Request) -> ServerContext:
    """The server's context of a request: the one way API handlers reach it."""
    return cast(ServerContext, request.app.state.ctx)


def name_param(request: Request, key: str) -> str:
    """A network or node name from the path; 400 when it is not a valid name."""
    value = str(request.path_params[key])
    problem = name_problem(value)
    if problem is not None:
        raise InvalidRequest(f"{key}: {problem}", details={"field": key})
    return value


def query_int(request: Request, key: str, default: int, *, low: int, high: int) -> int:
    raw = request.query_params.get(key)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{key}: {raw!r} is not an integer") from None
    if not low <= value <= high:
        raise InvalidRequest(f"{key}: must be between {low} and {high}")
    return value


def json_response(
    model: BaseModel, *, status: int = 200, revision: str | None = None
) -> JSONResponse:
    headers = {"ETag": f'"{revision}"'} if revision else None
    return JSONResponse(
        model.model_dump(mode="json", exclude_none=False), status_code=status, headers=headers
    )


class Snapshot:
    """The files of one revision (None: the empty repository), read on demand."""

    def __init__(self, ctx: ServerContext, revision: str | None) -> None:
        self.ctx = ctx
        self.revision = revision
        self._read: dict[str, bytes | None] = {}
        self._paths: list[str] | None = None

    def state(self, *, view: Validator | None = None, bound: Bound | None = None) -> State:
        """The validated desired state of this revision (the live one is already
        validated). Another revision is only looked at: it is validated by
        ``view`` (default: a dry view of the server's validator) and not kept,
        after ``bound`` let it through."""
        if self.revision is None:
            return State()
        if self.revision == self.ctx.live.revision:
            return self.ctx.live.state
        return self.ctx.store.state(
            self.revision, view=view or self.ctx.validator.dry(), bound=bound
        )

    def read(self, path: str) -> bytes | None:
        if path not in self._read:
            data: bytes | None = None
            if self.revision is not None:
                try:
                    data = self.ctx.store.read_file(self.revision, path)
                except NotFound:
                    data = None
            self._read[path] = data
        return self._read[path]

    def text(self, path: str) -> str | None:
        data = self.read(path)
        return None if data is None else data.decode("utf-8", errors="replace")

    def paths(self) -> list[str]:
        if self._paths is None:
            listed = self.ctx.store.files(self.revision) if self.revision else []
            self._paths = [f.path for f in listed]
        return self._paths

    def names(self, folder: str) -> list[str]:
        prefix = folder + "/"
        return sorted(
            p[len(prefix) : -len(".toml")]
            for p in self.paths()
            if p.startswith(prefix) and p.endswith(".toml") and "/" not in p[len(prefix) :]
        )

    def require(self, folder: str, name: str) -> str:
        """The text of ``folder/name.toml``; NotFound when there is no such file."""
        text = self.text(file_path(folder, name))
        if text is None:
            singular = folder.removesuffix("s")
            raise NotFound(f"no {singular} {name!r}", details={"path": file_path(folder, name)})
        return text


def live_snapshot(ctx: ServerContext) -> Snapshot:
    return Snapshot(ctx, ctx.live.revision)


def load_spec(path: str, text: str, model: type[M]) -> M:
    """The fields of a (valid) file as an API spec model."""
    try:
        return model.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError.single(path, "", f"cannot be read as {model.__name__}: {exc}") from None


def message_or(message: str | None, default: str) -> str:
    text = (message or "").strip()
    return text if text else default


async def write(
    request: Request,
    principal: Principal | None,
    change: Callable[[Snapshot], Mapping[str, bytes | None]],
    *,
    message: str,
) -> Committed:
    """Apply ``change`` to the files at the base revision and commit the result.

    The base is ``If-Match`` when given (409 when it is not the head); otherwise
    the head, and a write that loses a race to another commit is re-read and
    retried, so no write is ever based on files it did not read. Changes that
    leave a file as it is are dropped; when nothing is left, nothing is committed.
    """
    if principal is None:
        raise InvalidRequest("writes need a token")
    ctx = context(request)
    asked = base_revision(request)
    attempt = 0
    while True:
        attempt += 1
        base = await anyio.to_thread.run_sync(ctx.checked_base, asked)
        snapshot = Snapshot(ctx, base)
        wanted = await anyio.to_thread.run_sync(change, snapshot)
        changes: Changes = {p: d for p, d in wanted.items() if snapshot.read(p) != d}
        if not changes:
            return Committed(revision=base or "", committed=False, paths=[])
        try:
            revision = await ctx.commit(changes, message=message, principal=principal, base=base)
        except Conflict:
            if asked is not None or attempt >= RETRIES:
                raise
            continue
        return Committed(revision=revision, committed=True, paths=sorted(changes))


def encode(text: str) -> bytes:
    return text.encode("utf-8")


def new_text(path: str, existing: str | None, spec: BaseModel | None, toml: str | None) -> str:
    """The file's next text: ``toml`` as given, or ``spec`` applied to the existing
    text (keeping its comments and the order of untouched keys)."""
    if toml is not None:
        return toml
    if spec is None:
        raise InvalidRequest("give exactly one of 'spec' or 'toml'")
    data = spec_data(spec)
    return documents.create(data) if existing is None else documents.update(path, existing, data)
