"""Small helpers shared by the server platform tests."""

from __future__ import annotations

from drago.server.context import ServerContext
from drago.server.endpoint import Principal, Role

TESTER = Principal("test", "Test Person", "test@example.org", Role.admin)


def read(ctx: ServerContext, path: str) -> bytes:
    """The live revision's bytes of ``path``."""
    revision = ctx.live.revision
    assert revision is not None
    for f in ctx.store.files(revision):
        if f.path == path:
            return f.data
    raise AssertionError(f"{path} not in {revision}")


async def edit(
    ctx: ServerContext,
    path: str,
    old: str,
    new: str,
    *,
    base: str | None = None,
    principal: Principal = TESTER,
) -> str:
    """Commit a text replacement in ``path`` through the context."""
    text = read(ctx, path).decode()
    assert old in text, f"{old!r} not in {path}"
    return await ctx.commit(
        {path: text.replace(old, new).encode()},
        message=f"test: edit {path}",
        principal=principal,
        base=base,
    )
