"""Names of networks and nodes, and the repository paths built from them."""

from __future__ import annotations

import re

NAME_PATTERN = r"[a-z0-9][a-z0-9-]{0,62}"
NAME_RE = re.compile(rf"\A{NAME_PATTERN}\Z")

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
    if value != value.lower():
        return f"{value!r} is not a valid name (use lower case: {value.lower()!r})"
    return f"{value!r} is not a valid name (allowed: {NAME_PATTERN})"


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
