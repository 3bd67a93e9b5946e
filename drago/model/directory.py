"""Read a working tree (a checkout, or any folder) as repository files.

Nothing outside the root is ever read: symlinks are not followed but reported
with Git's symlink mode (their target as content, as Git stores them), so the
validator rejects them; nested Git checkouts are reported as submodules; ``.git``
at the root is skipped. Sockets, FIFOs and devices are never opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from drago.errors import InvalidRequest
from drago.model.load import MAX_FILE_SIZE
from drago.model.state import MODE_EXEC, MODE_FILE, MODE_SUBMODULE, MODE_SYMLINK, SourceFile


def _read_regular(path: str) -> bytes:
    """The file's bytes, but never more than one byte past the size limit: the
    loader rejects a file that big without us reading all of it."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        return handle.read(MAX_FILE_SIZE + 1)


def _walk(root: str, rel: str, out: list[SourceFile]) -> None:
    with os.scandir(os.path.join(root, rel) if rel else root) as entries:
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            if not rel and entry.name == ".git":
                continue
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                target = os.fsencode(os.readlink(entry.path))
                out.append(SourceFile(path, target, MODE_SYMLINK))
            elif stat.S_ISDIR(info.st_mode):
                if os.path.lexists(os.path.join(entry.path, ".git")):
                    out.append(SourceFile(path, b"", MODE_SUBMODULE))
                else:
                    _walk(root, path, out)
            elif stat.S_ISREG(info.st_mode):
                mode = MODE_EXEC if info.st_mode & 0o111 else MODE_FILE
                out.append(SourceFile(path, _read_regular(entry.path), mode))


def read_directory(path: Path) -> list[SourceFile]:
    """Every file under ``path`` (``/``-separated relative paths, sorted),
    without ``.git``; blob ids are left None (the loader computes them)."""
    if not path.is_dir():
        raise InvalidRequest(f"{path} is not a directory")
    out: list[SourceFile] = []
    _walk(os.fspath(path), "", out)
    out.sort(key=lambda f: f.path)
    return out
