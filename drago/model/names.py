"""Names of networks and nodes, and the repository paths built from them.

A name is a file name in every checkout of the repository (``nodes/<name>.toml``),
part of interface names, and a label in generated addresses, so it must be safe
in all of them: lower-case letters, digits and ``-``; at most 63 characters; it
starts and ends with a letter or digit (an RFC 1123 label, which tools that
split on or trim ``-`` read back unchanged); and it is not a Windows device name
(``con``, ``prn``, ``aux``, ``nul``, ``com0``-``com9``, ``lpt0``-``lpt9``):
Windows opens the device instead of the file for ``nodes/con.toml`` too, so such
a file breaks a checkout there.
"""

from __future__ import annotations

import re

#: Windows device names; a file named like one, with any extension, cannot be checked out.
DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{d}" for d in range(10)), *(f"lpt{d}" for d in range(10))}
)
MAX_LENGTH = 63

#: The grammar of a name as a regular expression (also for JSON Schema, which has lookahead).
NAME_PATTERN = r"(?!(?:con|prn|aux|nul|com[0-9]|lpt[0-9])$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
NAME_RE = re.compile(rf"\A{NAME_PATTERN}\Z")
#: The rules in words, for error messages.
NAME_RULES = (
    "lower-case letters, digits and '-', starting and ending with a letter or digit,"
    f" at most {MAX_LENGTH} characters"
)

#: Top-level folders of a drago repository and the kind of file each holds.
FOLDERS = ("networks", "nodes", "keys")


def is_name(value: str) -> bool:
    return NAME_RE.match(value) is not None


def name_problem(value: str) -> str | None:
    """Why ``value`` is not a valid network or node name, or None when it is."""
    if is_name(value):
        return None
    if value in {"", ".", ".."} or "/" in value or "\\" in value:
        return f"{value!r} is not a valid name (no empty names, dots or slashes)"
    if value != value.lower() and is_name(value.lower()):
        return f"{value!r} is not a valid name (use lower case: {value.lower()!r})"
    if value in DEVICE_NAMES:
        return (
            f"{value!r} is not a valid name: it is a Windows device name, so a file named"
            f" {value}.toml cannot be checked out on Windows"
        )
    if re.fullmatch(r"[a-z0-9-]+", value) and len(value) <= MAX_LENGTH:
        end = "start" if value.startswith("-") else "end"
        return f"{value!r} is not a valid name: it must {end} with a letter or digit"
    if len(value) > MAX_LENGTH:
        return f"{value[:20]!r}... is not a valid name: longer than {MAX_LENGTH} characters"
    return f"{value!r} is not a valid name (allowed: {NAME_RULES})"


def file_path(folder: str, name: str) -> str:
    """The repository path of ``name`` in ``folder``; only for valid names."""
    if folder not in FOLDERS:
        raise ValueError(f"unknown folder {folder!r}")
    if not is_name(name):
        raise ValueError(name_problem(name))
    return f"{folder}/{name}.toml"


def default_ifname(network: str) -> str:
    """Linux interface name for a network when the node does not set ``ifname``."""
    return ("wg-" + network)[:15].rstrip("-")
