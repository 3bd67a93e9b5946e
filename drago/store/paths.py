"""Repository paths as the store accepts them in a change set."""

from __future__ import annotations

from drago.errors import InvalidRequest


def split_path(path: str) -> tuple[str, ...]:
    """The segments of a relative repository path, or InvalidRequest.

    Rejected: empty paths, absolute paths, empty segments (``a//b``, a trailing
    slash), ``.`` and ``..`` segments, backslashes, NUL bytes and ``.git``.
    """
    if not path:
        raise InvalidRequest("empty path")
    if path.startswith("/"):
        raise InvalidRequest(f"{path!r}: absolute paths are not allowed")
    if "\\" in path or "\0" in path:
        raise InvalidRequest(f"{path!r}: backslashes and NUL bytes are not allowed")
    segments = tuple(path.split("/"))
    for segment in segments:
        if segment == "":
            raise InvalidRequest(f"{path!r}: empty path segment")
        if segment in {".", ".."}:
            raise InvalidRequest(f"{path!r}: '.' and '..' are not allowed")
        if segment.lower() == ".git":
            raise InvalidRequest(f"{path!r}: '.git' is not allowed")
    return segments
