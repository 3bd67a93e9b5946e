"""Canonical formatting of repository files that keeps every comment.

Canonical means: keys in the order of ``docs/schema.md`` (the order of the
schema's fields; unknown keys last, in their order), ``key = value`` with one
space around ``=``, double-quoted strings, arrays on one line unless long (or
commented), one blank line before each table header, at most one blank line
anywhere, two spaces before an inline comment, a single trailing newline.
Interface tables keep the order they were written in; ``keys/`` files written
by the server (:func:`dump_keys_file`) are sorted by network.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from tomlkit.exceptions import ParseError
from tomlkit.items import Array, Item, String

from drago.errors import ConfigError, Problem
from drago.model.directory import read_directory
from drago.model.messages import known_keys
from drago.model.paths import DataPath, classify
from drago.model.schema import FILE_MODELS, KeysFile
from drago.model.state import MODE_EXEC, MODE_FILE
from drago.model.tomltree import Entry, Section, parse_tree

#: Arrays longer than this on one line are written one item per line.
MAX_LINE = 100
_BARE_KEY = re.compile(r"\A[A-Za-z0-9_-]+\Z")
_STRINGS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _string(value: str) -> str:
    # JSON's escapes are TOML's, except that TOML also forbids a raw DEL.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = ", ".join(f"{toml_key(k)} = {_scalar(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    # dates and times: TOML spells them as Python's isoformat does.
    return str(value.isoformat())


def _float(value: float) -> str:
    if value != value:
        return "nan"
    if value in {float("inf"), float("-inf")}:
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _has_comment(item: Array) -> bool:
    return "#" in _STRINGS.sub("", item.as_string())


def _value(value: Any, prefix: int) -> str:
    if isinstance(value, Array) and _has_comment(value):
        return str(value.as_string()).strip()
    if isinstance(value, String) and value.type.is_multiline() and "\n" in value:
        return str(value.as_string())  # a multi-line description stays readable
    plain = value.unwrap() if isinstance(value, Item) else value
    text = _scalar(plain)
    if isinstance(plain, list) and plain and prefix + len(text) > MAX_LINE:
        lines = "".join(f"    {_scalar(v)},\n" for v in plain)
        return f"[\n{lines}]"
    return text


def _ordered(items: list[str], order: list[str]) -> list[str]:
    rank = {key: i for i, key in enumerate(order)}
    return sorted(items, key=lambda k: rank.get(k, len(rank)))


def _comments(lines: list[str], out: list[str]) -> None:
    for line in lines:
        if line == "":
            if out and out[-1] != "":
                out.append("")
        else:
            out.append(line)


def _entry(entry: Entry, out: list[str]) -> None:
    _comments(entry.comments, out)
    line = f"{toml_key(entry.key)} = "
    line += _value(entry.value, len(line))
    out.append(line + (f"  {entry.inline}" if entry.inline else ""))


def _header(path: list[str], array: bool) -> str:
    name = ".".join(toml_key(p) for p in path)
    return f"[[{name}]]" if array else f"[{name}]"


def _section(
    section: Section,
    path: list[str],
    loc: list[int | str],
    model: type[BaseModel] | None,
    out: list[str],
    *,
    array: bool = False,
) -> None:
    order = known_keys(model, loc) if model is not None else []
    if path and (section.explicit or section.entries or section.comments or array):
        if out and out[-1] != "":
            out.append("")
        _comments(section.comments, out)
        out.append(_header(path, array) + (f"  {section.inline}" if section.inline else ""))
    by_key = {e.key: e for e in section.entries}
    written = list(by_key)
    previous: str | None = None
    for key in _ordered(written, order):
        entry = by_key[key]
        # A blank line above an entry stays only while it follows the same entry.
        moved = previous is None or written.index(key) != written.index(previous) + 1
        if moved:
            while entry.comments and entry.comments[0] == "":
                entry.comments.pop(0)
        _entry(entry, out)
        previous = key
    children = list(section.tables) + [k for k in section.arrays if k not in section.tables]
    for key in _ordered(children, order):
        if key in section.tables:
            _section(section.tables[key], [*path, key], [*loc, key], model, out)
        for index, child in enumerate(section.arrays.get(key, [])):
            _section(child, [*path, key], [*loc, key, index], model, out, array=True)


def _render(tree: Section, model: type[BaseModel] | None) -> str:
    out: list[str] = []
    _comments(tree.comments, out)
    if out:
        out.append("")
    _section(tree, [], [], model, out)
    if tree.trailing:
        out.append("")
        _comments(tree.trailing, out)
    while out and out[-1] == "":
        out.pop()
    while out and out[0] == "":
        out.pop(0)
    return "\n".join(line.rstrip() for line in out) + "\n" if out else ""


def _model_for(path: str) -> type[BaseModel] | None:
    role = classify(path, MODE_FILE)
    return FILE_MODELS[role.folder] if isinstance(role, DataPath) else None


def format_text(path: str, text: str) -> str:
    """``text`` (the content of repository file ``path``) in canonical form.

    Raises :class:`ConfigError` when ``text`` is not valid TOML."""
    try:
        before = tomllib.loads(text)
        tree = parse_tree(text)
    except (tomllib.TOMLDecodeError, ParseError) as exc:
        raise ConfigError.single(path, "", f"invalid TOML: {exc}") from exc
    except RecursionError as exc:
        raise ConfigError.single(path, "", "invalid TOML: nested too deeply") from exc
    formatted = _render(tree, _model_for(path))
    if _canonical(tomllib.loads(formatted)) != _canonical(before):
        raise ConfigError.single(path, "", "cannot be formatted without changing its data")
    return formatted


def _canonical(value: Any) -> str:
    """A comparable form of parsed TOML (key order ignored, NaN equal to NaN)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_canonical(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical(v) for v in value) + "]"
    return f"{type(value).__name__}:{value!r}"


def dump_keys_file(keys: KeysFile) -> str:
    """The canonical text of a ``keys/<node>.toml`` file (networks sorted)."""
    blocks = [
        f"[interfaces.{toml_key(network)}]\npublic_key = {_string(entry.public_key)}\n"
        for network, entry in sorted(keys.interfaces.items())
    ]
    return "\n".join(blocks)


def format_directory(root: Path, check: bool) -> list[str]:
    """Format every ``networks/``, ``nodes/`` and ``keys/`` file under ``root``;
    the paths that changed (or, with ``check``, would change; nothing is written).

    Files that are not valid TOML raise one :class:`ConfigError` listing them
    all, and then nothing is written."""
    changes: dict[str, str] = {}
    problems: list[Problem] = []
    for source in read_directory(root):
        if source.mode not in {MODE_FILE, MODE_EXEC}:
            continue
        if not isinstance(classify(source.path, source.mode), DataPath):
            continue
        try:
            text = source.data.decode("utf-8")
            formatted = format_text(source.path, text)
        except UnicodeDecodeError:
            problems.append(Problem(source.path, "", "not UTF-8 text"))
            continue
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if formatted != text:
            changes[source.path] = formatted
    if problems:
        raise ConfigError(problems)
    if not check:
        for path, text in changes.items():
            _write(root / path, text)
    return sorted(changes)


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically, keeping its permissions."""
    mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
