"""Differences between two trees: changed files, and a text diff of one file."""

from __future__ import annotations

import difflib

from drago.store.objects import Entry, ObjectReader
from drago.store.records import FileChange
from drago.store.trees import FileLister


def diff_trees(
    reader: ObjectReader, lister: FileLister, old: str | None, new: str | None
) -> list[FileChange]:
    """Every file added, modified or deleted from ``old`` to ``new`` (None: empty).

    Subtrees with the same id on both sides are skipped without reading them.
    """
    changes: list[FileChange] = []
    _diff(reader, lister, old, new, "", changes)
    return sorted(changes, key=lambda c: c.path)


def _diff(
    reader: ObjectReader,
    lister: FileLister,
    old: str | None,
    new: str | None,
    prefix: str,
    out: list[FileChange],
) -> None:
    if old == new:
        return
    old_entries = reader.tree(old) if old is not None else {}
    new_entries = reader.tree(new) if new is not None else {}
    for name in old_entries.keys() | new_entries.keys():
        before, after = old_entries.get(name), new_entries.get(name)
        if before == after:
            continue
        path = prefix + name
        if before is not None and after is not None and before.is_tree and after.is_tree:
            _diff(reader, lister, before.sha, after.sha, path + "/", out)
            continue
        if before is not None and after is not None and not before.is_tree and not after.is_tree:
            out.append(FileChange(path, "modified", before.sha, after.sha))
            continue
        if before is not None:
            for sub, entry in _files(lister, path, before):
                out.append(FileChange(sub, "deleted", entry.sha, None))
        if after is not None:
            for sub, entry in _files(lister, path, after):
                out.append(FileChange(sub, "added", None, entry.sha))


def _files(lister: FileLister, path: str, entry: Entry) -> list[tuple[str, Entry]]:
    if not entry.is_tree:
        return [(path, entry)]
    return [(f"{path}/{sub}", e) for sub, e in lister.files(entry.sha)]


def unified_text_diff(path: str, old: bytes | None, new: bytes | None) -> str:
    """A ``git diff``-like unified diff of one file; "" when nothing changed."""
    if old == new:
        return ""
    try:
        old_text = old.decode("utf-8") if old is not None else ""
        new_text = new.decode("utf-8") if new is not None else ""
    except UnicodeDecodeError:
        return f"Binary files a/{path} and b/{path} differ\n"
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True),
        new_text.splitlines(keepends=True),
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
