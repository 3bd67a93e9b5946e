"""Which branch names a push may create.

Git's own rules (``git check-ref-format``) first; then names git accepts in a
ref but that break or confuse the tools that read it back:

- ``HEAD`` (or a last component ``HEAD``): ``refs/heads/HEAD`` makes every
  ``HEAD`` ambiguous, and ``git branch`` refuses the name;
- a component starting with ``-``: read as an option (``git checkout -f``);
- ``@`` alone: git's shorthand for ``HEAD``;
- ``refs/...``: ``refs/heads/refs/heads/main`` shadows the real ``main``;
- 40 or 64 hexadecimal digits: reads as an object id;
- a component that is a Windows device name (``con``, ``aux.txt``, ...) or holds
  ``< > " |``: a clone on Windows cannot write the ref's file.
"""

from __future__ import annotations

import re

from dulwich.refs import Ref, check_ref_format

from drago.model.names import DEVICE_NAMES

HEADS = "refs/heads/"
OBJECT_ID = re.compile(r"\A(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})\Z")
WINDOWS_CHARACTERS = frozenset('<>"|')


def branch_problem(branch: str, *, deleting: bool = False) -> str | None:
    """Why ``refs/heads/<branch>`` may not be pushed, or None when it may.

    A deletion only needs a well-formed ref: a confusing branch made before these
    rules can still be removed.
    """
    if not branch or not check_ref_format(Ref((HEADS + branch).encode("utf-8", "surrogateescape"))):
        return f"{branch!r} breaks git's ref name rules (git check-ref-format)"
    if deleting:
        return None
    parts = branch.split("/")
    if parts[-1] == "HEAD":
        return f"{branch!r}: a branch named HEAD makes HEAD ambiguous"
    if any(part.startswith("-") for part in parts):
        return f"{branch!r}: a name starting with '-' reads as a command-line option"
    if branch == "@":
        return f"{branch!r}: '@' alone is git's shorthand for HEAD"
    if branch.startswith("refs/"):
        return f"{branch!r}: a branch under refs/ shadows the ref it names"
    if OBJECT_ID.match(branch):
        return f"{branch!r} looks like an object id"
    for part in parts:
        if part.split(".")[0].lower() in DEVICE_NAMES:
            return f"{branch!r}: {part!r} is a Windows device name (no file can have it there)"
        if WINDOWS_CHARACTERS & set(part):
            return f"{branch!r}: '<', '>', '\"' and '|' cannot be in a file name on Windows"
    return None
