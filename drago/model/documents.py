"""Edit TOML files people wrote without destroying their comments or key order.

The API and the UI change repository files by giving the new content as plain
data (what the file should say). :func:`update` applies that data to the
existing text with tomlkit, touching only what differs: unchanged keys keep
their text (and their comments), changed values are replaced in place, removed
keys disappear, and new keys are added at the end of their table. A value that
is equal keeps its original spelling, so ``address = "10.20.0.1/16" # gw``
survives an update that leaves the address alone.

Plain data follows TOML's types: strings, integers, floats, booleans, lists and
string-keyed mappings; ``None`` means "no such key" (TOML has no null).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Comment, InlineTable, Item, Key, Null, Table, Whitespace

from drago.errors import ConfigError

Data = Mapping[str, Any]


def parse(path: str, text: str) -> tomlkit.TOMLDocument:
    """Parse ``text`` (the file at ``path``); syntax errors name the file."""
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError.single(path, "", f"not valid TOML: {exc}") from None


def plain(value: Any) -> Any:
    """The plain Python value of a tomlkit item (or of plain data)."""
    if isinstance(value, Item | Container):
        return value.unwrap()
    return value


def create(data: Data) -> str:
    """A new file holding ``data`` (keys in the given order, ``None`` values left out)."""
    doc = tomlkit.document()
    _merge(doc, data, super_table=False)
    return tomlkit.dumps(doc)


def update(path: str, text: str, data: Data) -> str:
    """``text`` changed so that it holds exactly ``data``, keeping what did not change."""
    doc = parse(path, text)
    _merge(doc, data, super_table=False)
    return tomlkit.dumps(doc)


def remove_array_item(path: str, text: str, key: str, index: int) -> str:
    """``text`` without element ``index`` of the array of tables ``key``; the comment
    block above that element goes with it, every other element keeps its own."""
    doc = parse(path, text)
    array = doc.get(key)
    if not isinstance(array, AoT) or not 0 <= index < len(array):
        raise IndexError(index)
    kept = [table for i, table in enumerate(array) if i != index]
    _rearrange(doc, array, kept)
    if not kept:
        del doc[key]
    return tomlkit.dumps(doc)


def _clean(data: Data) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _is_table_data(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_array_of_tables(value: Any) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) > 0
        and all(isinstance(v, Mapping) for v in value)
    )


def _merge(container: Container | Table | InlineTable, data: Data, *, super_table: bool) -> None:
    """Make ``container`` hold ``data``: remove, replace and add only what differs."""
    new = _clean(data)
    for key in [k for k in container if k not in new]:
        del container[key]
    for key, value in new.items():
        if key not in container:
            _add(container, key, _item(value, as_table=super_table))
            continue
        old = container[key]
        if plain(old) == _plain_data(value):
            continue
        if _is_table_data(value) and _clean(value) and isinstance(old, Table | InlineTable):
            # (an emptied group table would lose its header: it is replaced instead)
            _merge(old, value, super_table=_is_super(old))
        elif _is_array_of_tables(value) and isinstance(old, AoT):
            _merge_array(container, key, value)
        else:
            container[key] = _item(value, as_table=isinstance(old, Table))


def _add(container: Container | Table | InlineTable, key: str, item: Any) -> None:
    """Add a new key at the end of its table: a plain value goes after the last plain
    value (before the comments that introduce the first sub-table), tables at the end."""
    body = container if isinstance(container, Container) else container.value
    if isinstance(container, InlineTable) or isinstance(item, Table | AoT):
        container[key] = item
        return
    last_value = None
    has_tables = False
    for existing, value in body.body:
        if isinstance(value, Table | AoT):
            has_tables = True
        elif existing is not None:
            last_value = existing
    if last_value is not None:
        body._insert_after(last_value, key, item)
    elif has_tables:
        body._insert_at(0, key, item)
    else:
        container[key] = item


def _merge_array(parent: Container | Table | InlineTable, key: str, values: Sequence[Data]) -> None:
    """Update an array of tables element by element, so each keeps its comments: an
    element equal to a new value is reused as is (wherever it moves), the others are
    updated in place of the old element most like them, and what is left is added."""
    array = parent[key]
    old = list(array)
    wanted = [_plain_data(v) for v in values]
    blocks = _detach(parent, array)
    tables: list[Table] = []
    for value, want, index in zip(
        values, wanted, _pair([plain(t) for t in old], wanted), strict=True
    ):
        if index is None:
            tables.append(_table(value))
            continue
        table = old[index]
        if plain(table) != want:
            _merge(table, value, super_table=False)
        tables.append(table)
    _place(array, tables, blocks)


def _is_super(table: Table | InlineTable) -> bool:
    """True for a table that only groups sub-tables (``[interfaces.backbone]``)."""
    if isinstance(table, InlineTable):
        return False
    values = list(table.values())
    return bool(values) and all(isinstance(v, Table) for v in values)


def _plain_data(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain_data(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain_data(v) for v in value]
    return value


def _item(value: Any, *, as_table: bool) -> Any:
    """A tomlkit item for ``value``: tables for nested groups, inline tables for maps."""
    if _is_table_data(value):
        nested = any(_is_table_data(v) for v in value.values())
        if as_table or nested:
            return _table(value)
        inline = tomlkit.inline_table()
        for key, sub in _clean(value).items():
            inline[key] = _item(sub, as_table=False)
        return inline
    if _is_array_of_tables(value):
        array = tomlkit.aot()
        for sub in value:
            array.append(_table(sub))
        return array
    if isinstance(value, list | tuple):
        return [_plain_data(v) for v in value]
    return value


def _table(value: Data) -> Table:
    clean = _clean(value)
    groups_only = bool(clean) and all(_is_table_data(v) for v in clean.values())
    table = tomlkit.table(is_super_table=groups_only)
    _merge(table, clean, super_table=groups_only)
    return table


# Comments of arrays of tables
# ----------------------------
# tomlkit keeps the comment lines above ``[[key]]`` element i+1 at the end of element i
# (for element 0: at the end of whatever precedes the array). Each element's *leading
# block* is taken out of there before elements are removed or moved and put back above
# the element afterwards. Of the comment and blank lines between two things, those
# before the first blank line end the thing above and stay with it (a note directly
# under a value); from the first blank line on they belong to what follows. Without any
# blank line, all of them belong to what follows.


@dataclass
class _Blocks:
    """The leading blocks taken out of an array of tables, and where the first goes back."""

    front: Container  # the block above the first element goes into this body ...
    front_at: int  # ... at this index
    leads: dict[int, tuple[Table, list[Item]]]  # element table (by id) and its block
    trailer: list[Item]  # what ends the last element but belongs to what follows


def _pair(old: list[Any], new: list[Any]) -> list[int | None]:
    """For each new value, the old element it continues (None: a new element). Equal
    values first, then the most similar of the rest, then nothing."""
    free = list(range(len(old)))
    pairs: list[int | None] = [None] * len(new)
    for at, want in enumerate(new):
        match = next((i for i in free if old[i] == want), None)
        if match is not None:
            pairs[at] = match
            free.remove(match)
    for at, want in enumerate(new):
        if pairs[at] is None and free:
            best = max(free, key=lambda i: (_likeness(old[i], want), -i))
            pairs[at] = best
            free.remove(best)
    return pairs


def _likeness(old: Any, new: Any) -> int:
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return 0
    return sum(1 for key, value in old.items() if key in new and new[key] == value)


def _rearrange(parent: Container | Table | InlineTable, array: AoT, tables: list[Table]) -> None:
    """Make ``array`` hold ``tables`` (some of its elements, in any order), moving each
    element's leading comment block with it."""
    _place(array, tables, _detach(parent, array))


def _detach(parent: Container | Table | InlineTable, array: AoT) -> _Blocks | None:
    """Take the leading blocks out of ``array`` (None if it is not where expected)."""
    if isinstance(parent, InlineTable) or len(array) == 0:
        return None
    body = parent if isinstance(parent, Container) else parent.value
    position = next((i for i, (_, item) in enumerate(body.body) if item is array), None)
    if position is None:
        return None
    front, stop = _last_lines(body, position)
    front_at, first = _take(front, stop)
    leads = {id(array[0]): (array[0], first)}
    trailer: list[Item] = []
    for index, table in enumerate(array):
        lines = _take(*_last_lines(table.value, len(table.value.body)))[1]
        if index + 1 < len(array):
            leads[id(array[index + 1])] = (array[index + 1], lines)
        else:
            trailer = lines
    return _Blocks(front, front_at, leads, trailer)


def _place(array: AoT, tables: list[Table], blocks: _Blocks | None) -> None:
    """Make ``array`` hold ``tables`` and put the leading blocks back above them."""
    indents = [table.trivia.indent for table in tables]
    del array[:]
    for table, indent in zip(tables, indents, strict=True):
        array.append(table)
        table.trivia.indent = indent  # appending may change it; keep the original text
    if blocks is None:
        return
    above = [_block(blocks, table, first=at == 0) for at, table in enumerate(tables)]
    _splice(blocks.front, blocks.front_at, blocks.front_at, above[0] if tables else blocks.trailer)
    for at in range(1, len(tables)):
        _append_lines(tables[at - 1], above[at])
    if tables:
        _append_lines(tables[-1], blocks.trailer)


def _block(blocks: _Blocks, table: Table, *, first: bool) -> list[Item]:
    entry = blocks.leads.get(id(table))
    if entry is not None and entry[0] is table:
        return entry[1]
    return [] if first else [Whitespace("\n")]  # a new element: a blank line above it


def _append_lines(table: Table, lines: list[Item]) -> None:
    body, end = _last_lines(table.value, len(table.value.body))
    if end > 0:
        last = body.body[end - 1][1]
        if not isinstance(last, Whitespace) and "\n" not in last.trivia.trail:
            last.trivia.trail += "\n"  # it ended the file; now something follows
    _splice(body, end, end, lines)


def _is_line(key: Key | None, item: Item) -> bool:
    """A comment, blank space or removed entry: what may stand between two tables."""
    return key is None and isinstance(item, Comment | Whitespace | Null)


def _last_lines(body: Container, stop: int) -> tuple[Container, int]:
    """The body and index where the lines just before ``body.body[stop]`` end: those
    after a sub-table are stored at the end of that sub-table."""
    while True:
        start = stop
        while start > 0 and _is_line(*body.body[start - 1]):
            start -= 1
        if start == 0 or any(not isinstance(item, Null) for _, item in body.body[start:stop]):
            return body, stop
        last = body.body[start - 1][1]
        if isinstance(last, Table):
            body = last.value
        elif isinstance(last, AoT) and len(last) > 0:
            body = last[-1].value
        else:
            return body, stop
        stop = len(body.body)


def _take(body: Container, stop: int) -> tuple[int, list[Item]]:
    """Cut out the lines ending at ``stop`` that belong to what follows; the index where
    they were and the lines (without removed entries)."""
    start = stop
    while start > 0 and _is_line(*body.body[start - 1]):
        start -= 1
    split = next((i for i in range(start, stop) if _is_blank(body.body[i][1])), start)
    lines = [item for _, item in body.body[split:stop] if not isinstance(item, Null)]
    _splice(body, split, stop, [])
    return split, lines


def _is_blank(item: Item) -> bool:
    return isinstance(item, Whitespace) and "\n" in item.as_string()


def _splice(body: Container, start: int, stop: int, lines: list[Item]) -> None:
    """Replace ``body.body[start:stop]`` (lines only) with ``lines``, keeping the key index."""
    body.body[start:stop] = [(None, line) for line in lines]
    shift = len(lines) - (stop - start)
    if shift == 0:
        return
    index = body._map  # tomlkit has no public way to insert key-less lines
    for key, at in index.items():
        if isinstance(at, tuple):
            index[key] = tuple(i + shift if i >= stop else i for i in at)
        elif at >= stop:
            index[key] = at + shift
