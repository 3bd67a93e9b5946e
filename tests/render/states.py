"""Building desired states for render tests from plain dictionaries."""

from __future__ import annotations

import base64
import hashlib
import tomllib
from pathlib import Path
from typing import Any

from drago.model.schema import KeysFile, NetworkFile, NodeFile
from drago.model.state import State


def key_for(seed: str) -> str:
    """A valid, deterministic WireGuard public key (32 bytes of base64)."""
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def _blob(data: dict[str, Any]) -> str:
    return hashlib.sha1(repr(sorted(data.items())).encode()).hexdigest()


def make_state(
    networks: dict[str, dict[str, Any]],
    nodes: dict[str, dict[str, Any]],
    keys: dict[str, dict[str, str]] | None = None,
    *,
    blob_ids: bool = True,
) -> State:
    """A State from file contents; ``keys`` maps node -> network -> public key.

    With ``blob_ids`` each file gets a content-derived id, like a Git tree.
    """
    state = State()
    for name, data in networks.items():
        state.networks[name] = NetworkFile.model_validate(data)
        if blob_ids:
            state.blob_ids[f"networks/{name}.toml"] = _blob(data)
    for name, data in nodes.items():
        state.nodes[name] = NodeFile.model_validate(data)
        if blob_ids:
            state.blob_ids[f"nodes/{name}.toml"] = _blob(data)
    for name, per_network in (keys or {}).items():
        data = {"interfaces": {net: {"public_key": k} for net, k in per_network.items()}}
        state.keys[name] = KeysFile.model_validate(data)
        if blob_ids:
            state.blob_ids[f"keys/{name}.toml"] = _blob(data)
    return state


def load_directory(root: Path) -> State:
    """The state of a repository directory (each file checked on its own)."""
    files: dict[str, dict[str, dict[str, Any]]] = {"networks": {}, "nodes": {}, "keys": {}}
    for folder, found in files.items():
        for path in sorted((root / folder).glob("*.toml")):
            found[path.stem] = tomllib.loads(path.read_text())
    keys = {
        node: {net: entry["public_key"] for net, entry in data.get("interfaces", {}).items()}
        for node, data in files["keys"].items()
    }
    return make_state(files["networks"], files["nodes"], keys)


def mesh(count: int, *, network: str = "mesh", with_keys: bool = True) -> State:
    """``count`` nodes in one full-mesh network."""
    nodes = {
        f"n{i}": {
            "endpoint": f"n{i}.example.net",
            "interfaces": {network: {"address": f"10.0.{i // 250}.{i % 250 + 1}/16"}},
        }
        for i in range(count)
    }
    keys = {f"n{i}": {network: key_for(f"n{i}")} for i in range(count)} if with_keys else {}
    net = {"address_range": "10.0.0.0/16", "connections": [{"between": ["*", "*"]}]}
    return make_state({network: net}, nodes, keys)
