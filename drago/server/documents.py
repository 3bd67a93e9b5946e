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
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, InlineTable, Item, Table

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
    """``text`` without element ``index`` of the array of tables ``key``."""
    doc = parse(path, text)
    array = doc.get(key)
    if not isinstance(array, AoT | list) or not 0 <= index < len(array):
        raise IndexError(index)
    del array[index]
    if len(array) == 0:
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
        if _is_table_data(value) and isinstance(old, Table | InlineTable):
            _merge(old, value, super_table=_is_super(old))
        elif _is_array_of_tables(value) and isinstance(old, AoT):
            _merge_array(old, value)
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


def _merge_array(array: AoT, values: Sequence[Data]) -> None:
    """Update an array of tables element by element, so each keeps its comments."""
    while len(array) > len(values):
        del array[len(array) - 1]
    for index, value in enumerate(values):
        if index < len(array):
            if plain(array[index]) != _plain_data(value):
                _merge(array[index], value, super_table=False)
        else:
            array.append(_table(value))


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
