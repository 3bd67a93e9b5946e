"""The validator at scale: a 1,000-node full mesh (about a million peer links)."""

from __future__ import annotations

import base64

import pytest

from drago.errors import ConfigError
from drago.model.overlap import MAX_REPORTED
from drago.model.state import SourceFile
from drago.model.validate import Validator

NODES = 1000


def mesh_files(nodes: int = NODES) -> list[SourceFile]:
    files = [
        SourceFile(
            "networks/mesh.toml",
            b'address_range = "10.0.0.0/16"\npersistent_keepalive = 25\n'
            b'[[connections]]\nbetween = ["*", "*"]\n',
        )
    ]
    for i in range(nodes):
        files.append(
            SourceFile(
                f"nodes/n{i}.toml",
                f'endpoint = "n{i}.example.net"\n[interfaces.mesh]\n'
                f'address = "10.0.{i // 250}.{i % 250 + 1}/16"\n'
                f'routes = ["192.168.{i % 250}.{(i // 250) * 64}/26"]\n'.encode(),
            )
        )
        key = base64.b64encode((i + 1).to_bytes(32, "big")).decode()
        files.append(
            SourceFile(f"keys/n{i}.toml", f'[interfaces.mesh]\npublic_key = "{key}"\n'.encode())
        )
    return files


def test_full_mesh_of_a_thousand_nodes_validates_reusing_the_parse_cache() -> None:
    """Speed is measured by benchmarks/validate.py; this checks the work it relies on."""
    files = mesh_files()
    validator = Validator()
    state = validator.validate_files(files)
    rows = validator.peers(state, "mesh")
    assert sum(len(row) for row in rows.values()) == NODES * (NODES - 1)
    # A one-node change on top: every other file comes from the cache.
    moved = b'[interfaces.mesh]\naddress = "10.0.9.9/16"\n'
    validator.validate_changes(files, {"nodes/n5.toml": moved})
    assert validator.parse_cache.misses == len(files) + 1


def test_an_overlap_in_a_big_mesh_is_found_and_the_report_is_capped() -> None:
    files = mesh_files(300)
    files.append(
        SourceFile("nodes/extra.toml", b'[interfaces.mesh]\naddress = "10.0.200.1/16"\n'
                   b'routes = ["192.168.7.0/26"]\n')
    )  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        Validator().validate_files(files)
    problems = caught.value.problems
    # 299 nodes see both n7 and extra; the first MAX_REPORTED are listed.
    assert len(problems) == MAX_REPORTED
    assert str(problems[0]) == (
        "nodes/n0.toml: interfaces.mesh: allowed IPs of peers"
        " `extra` (192.168.7.0/26) and `n7` (192.168.7.0/26) overlap"
    )
