"""Which repository paths drago reads, which it ignores, and which it rejects.

``networks/<name>.toml``, ``nodes/<name>.toml`` and ``keys/<name>.toml`` are the
data. Documentation (``*.md``), Git's own dotfiles and the reserved ``.drago/``
folder are ignored. Anything else is an error, as are symlinks and submodules.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from drago.model.names import FOLDERS, name_problem
from drago.model.state import MODE_SUBMODULE, MODE_SYMLINK
from drago.model.suggest import closest

#: Top-level files that are allowed and ignored (besides ``*.md``).
IGNORED_TOP_FILES = frozenset({".gitignore", ".gitattributes", ".editorconfig", "LICENSE"})
#: Top-level folders reserved for later use (change policy), ignored today.
RESERVED_FOLDERS = frozenset({".drago"})


@dataclass(frozen=True, slots=True)
class DataPath:
    """A path that holds data: its folder (``networks``, ``nodes``, ``keys``) and name."""

    folder: str
    name: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A path drago accepts but does not read (documentation, dotfiles)."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A path that must not be in a drago repository, and why."""

    message: str


PathRole = DataPath | Ignored | Rejected


def _is_doc(name: str) -> bool:
    return name.endswith(".md") and len(name) > 3


@functools.lru_cache(maxsize=65536)
def classify(path: str, mode: int) -> PathRole:
    """What ``path`` (with Git file ``mode``) is to drago (pure, so cached)."""
    if mode == MODE_SYMLINK:
        return Rejected("symlinks are not allowed in a drago repository")
    if mode == MODE_SUBMODULE:
        return Rejected("submodules are not allowed in a drago repository")
    parts = path.split("/")
    if "\\" in path or any(part in {"", ".", ".."} for part in parts):
        return Rejected("invalid path (empty parts, `.`, `..` and backslashes are not allowed)")
    top = parts[0]
    if top in RESERVED_FOLDERS and len(parts) > 1:
        return Ignored()
    if len(parts) == 1:
        if top in IGNORED_TOP_FILES or _is_doc(top):
            return Ignored()
        if top in FOLDERS:
            return Rejected(f"`{top}` must be a folder")
        return Rejected(
            "unknown file: a drago repository holds networks/, nodes/ and keys/"
            + _folder_hint(top.removesuffix(".toml"))
        )
    if top not in FOLDERS:
        return Rejected(
            f"unknown folder `{top}/`: a drago repository holds networks/, nodes/ and keys/"
            + _folder_hint(top)
        )
    filename = parts[-1]
    if _is_doc(filename) and len(parts) == 2:
        return Ignored()
    if len(parts) > 2:
        return Rejected(f"nested folders are not allowed: use {top}/<name>.toml")
    if not filename.endswith(".toml"):
        return Rejected(f"only <name>.toml files belong in {top}/")
    name = filename[: -len(".toml")]
    problem = name_problem(name)
    if problem:
        return Rejected(f"invalid file name: {problem}")
    return DataPath(top, name)


def _folder_hint(word: str) -> str:
    match = closest(word, FOLDERS)
    return f" (did you mean `{match}/`?)" if match else ""
