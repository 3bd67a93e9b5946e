"""Parse one repository file into its model, or into problems.

Hostile input never escapes as an exception: oversized files, non-UTF-8 bytes,
TOML syntax errors (with line and column), wrong types, bad values, unknown keys
(with a "did you mean" hint), bad paths, symlinks and submodules all become
:class:`~drago.errors.Problem`\\ s. Parsed results are cached by Git blob id, so
a file that did not change between revisions is parsed once.
"""

from __future__ import annotations

import hashlib
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass

from pydantic import ValidationError

from drago.errors import Problem
from drago.model.messages import problems_from_validation
from drago.model.paths import DataPath, Ignored, Rejected, classify
from drago.model.schema import FILE_MODELS, KeysFile, NetworkFile, NodeFile
from drago.model.state import SourceFile

#: Largest file drago reads.
MAX_FILE_SIZE = 1 << 20

FileModel = NetworkFile | NodeFile | KeysFile
#: What parsing a file's content gives: its model, or (key, message) pairs.
Parsed = FileModel | tuple[tuple[str, str], ...]


def git_blob_id(data: bytes) -> str:
    """The id Git gives a blob with this content (hex SHA-1)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def parse_content(folder: str, data: bytes) -> Parsed:
    """Parse the bytes of a file of ``folder`` (networks, nodes, keys)."""
    if len(data) > MAX_FILE_SIZE:
        return (("", f"file is larger than 1 MiB ({len(data)} bytes)"),)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (("", f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"),)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return (("", f"invalid TOML: {exc}"),)
    except RecursionError:
        return (("", "invalid TOML: nested too deeply"),)
    model = FILE_MODELS[folder]
    try:
        parsed = model.model_validate(document)
    except ValidationError as exc:
        return tuple(problems_from_validation(exc, model))
    except RecursionError:
        return (("", "nested too deeply"),)
    assert isinstance(parsed, NetworkFile | NodeFile | KeysFile)
    return parsed


class ParseCache:
    """A thread-safe LRU of parse results keyed by (folder, blob id)."""

    def __init__(self, size: int = 16384) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], Parsed] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def parse(
        self, folder: str, data: bytes, blob_id: str | None, *, remember: bool = True
    ) -> Parsed:
        """The parse of ``data``; with ``remember`` False, a miss is not kept."""
        key = (folder, blob_id or git_blob_id(data))
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        parsed = parse_content(folder, data)
        if not remember:
            return parsed
        with self._lock:
            self._items[key] = parsed
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return parsed

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """One file after loading: where it belongs and its model, or its problems."""

    path: str
    folder: str | None
    name: str | None
    model: FileModel | None
    problems: tuple[Problem, ...] = ()


def load_file(source: SourceFile, cache: ParseCache, *, remember: bool = True) -> LoadedFile:
    """Classify and parse ``source`` (through ``cache``); every problem names ``source.path``."""
    role = classify(source.path, source.mode)
    if isinstance(role, Ignored):
        return LoadedFile(source.path, None, None, None)
    if isinstance(role, Rejected):
        return LoadedFile(source.path, None, None, None, (Problem(source.path, "", role.message),))
    assert isinstance(role, DataPath)
    parsed = cache.parse(role.folder, source.data, source.blob_id, remember=remember)
    if isinstance(parsed, tuple):
        problems = tuple(Problem(source.path, key, message) for key, message in parsed)
        return LoadedFile(source.path, role.folder, role.name, None, problems)
    return LoadedFile(source.path, role.folder, role.name, parsed)
