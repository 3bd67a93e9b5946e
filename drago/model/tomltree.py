"""A TOML document as a tree of sections and entries that keeps every comment
next to what it describes, so the formatter can reorder keys without losing or
misplacing comments.

Comments are attached to the entry or table header that follows them. TOML
parsers put the comments above a ``[table]`` header at the end of the previous
table; this module moves them to the header they describe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Comment, Item, Table, Whitespace


@dataclass
class Entry:
    """``key = value``, its comment lines above ("" is a blank line) and inline."""

    key: str
    value: Any
    comments: list[str] = field(default_factory=list)
    inline: str = ""


@dataclass
class Section:
    """A table: its entries, its sub-tables, its arrays of tables."""

    comments: list[str] = field(default_factory=list)
    inline: str = ""
    entries: list[Entry] = field(default_factory=list)
    tables: dict[str, Section] = field(default_factory=dict)
    arrays: dict[str, list[Section]] = field(default_factory=dict)
    #: Comments after the last item of the document (only on the root).
    trailing: list[str] = field(default_factory=list)
    #: Whether the source had a ``[header]`` for this table itself.
    explicit: bool = False


def _take(pending: list[str], *, blank_before: bool) -> list[str]:
    """The comment lines collected so far ("" marks one blank line); a leading
    blank is kept only when ``blank_before`` (entries keep their grouping)."""
    taken = list(pending)
    pending.clear()
    if not blank_before:
        while taken and taken[0] == "":
            taken.pop(0)
    return taken


def _inline(item: Item) -> str:
    comment = item.trivia.comment
    return comment.strip() if comment else ""


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _fill(section: Section, container: Container, pending: list[str]) -> None:
    """Add the items of ``container`` to ``section``; comments left over at the
    end stay in ``pending`` for whatever comes next."""
    for key, item in container.body:
        if isinstance(item, Comment):
            pending.append(item.as_string().strip())
            continue
        if isinstance(item, Whitespace):
            if "\n" in item.as_string() and (not pending or pending[-1] != ""):
                pending.append("")
            continue
        assert key is not None
        name = key.key
        if isinstance(item, AoT):
            for table in item.body:
                child = Section(
                    comments=_take(pending, blank_before=False),
                    inline=_inline(table),
                    explicit=True,
                )
                _fill(child, table.value, pending)
                section.arrays.setdefault(name, []).append(child)
            continue
        if isinstance(item, Table) and not key.is_dotted():
            table_section = section.tables.get(name)
            if table_section is None:
                table_section = section.tables[name] = Section()
            if not item.is_super_table():
                table_section.explicit = True
                table_section.comments.extend(_take(pending, blank_before=False))
                table_section.inline = table_section.inline or _inline(item)
            _fill(table_section, item.value, pending)
            continue
        if isinstance(item, Table):
            value: Any = item.unwrap()
            existing = next((e for e in section.entries if e.key == name), None)
            if existing is not None and isinstance(existing.value, dict):
                _merge(existing.value, value)
                continue
            section.entries.append(Entry(name, value, _take(pending, blank_before=True)))
            continue
        section.entries.append(Entry(name, item, _take(pending, blank_before=True), _inline(item)))


def parse_tree(text: str) -> Section:
    """The tree of ``text``; raises ``tomlkit``'s parse errors on invalid TOML."""
    document = tomlkit.parse(text)
    root = Section()
    pending: list[str] = []
    _fill(root, document, pending)
    root.trailing = _take(pending, blank_before=False)
    while root.trailing and root.trailing[-1] == "":
        root.trailing.pop()
    _split_header(root)
    return root


def _first_comments(root: Section) -> list[str] | None:
    if root.entries:
        return root.entries[0].comments
    for child in root.tables.values():
        return child.comments if child.explicit else _first_comments(child)
    for children in root.arrays.values():
        return children[0].comments
    return None


def _split_header(root: Section) -> None:
    """A comment block at the very top followed by a blank line is the file's
    header: it stays on top whatever is reordered below it."""
    comments = _first_comments(root)
    if comments is None:
        return
    while comments and comments[0] == "":
        comments.pop(0)
    if "" not in comments:
        return
    cut = len(comments) - comments[::-1].index("")
    root.comments = comments[: cut - 1]
    del comments[:cut]
