"""Overlap reporting stays bounded however many pairs of peers overlap."""

from __future__ import annotations

import re

import pytest

from drago.errors import ConfigError, Problem
from drago.model.overlap import MAX_REPORTED
from drago.model.state import SourceFile
from drago.model.validate import Validator


def shared_route_mesh(nodes: int) -> list[SourceFile]:
    """A full mesh whose members all route 192.168.0.0/16: every two peers of
    every node overlap (nodes * (nodes-1) * (nodes-2) / 2 pairs)."""
    files = [
        SourceFile(
            "networks/x.toml",
            b'address_range = "10.64.0.0/10"\n[[connections]]\nbetween = ["*", "*"]\n',
        )
    ]
    for i in range(nodes):
        files.append(
            SourceFile(
                f"nodes/n{i}.toml",
                f'[interfaces.x]\naddress = "10.64.{i // 250}.{i % 250 + 1}/10"\n'
                f'routes = ["192.168.0.0/16"]\n'.encode(),
            )
        )
    return files


def overlaps(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if "allowed IPs of peers" in p.message]


def test_a_thousand_nodes_sharing_a_route_report_a_capped_list() -> None:
    with pytest.raises(ConfigError) as caught:
        Validator().dry().validate_files(shared_route_mesh(1000))
    problems = list(caught.value.problems)
    assert len(overlaps(problems)) == MAX_REPORTED
    assert len(problems) <= MAX_REPORTED + 1
    assert all(
        re.fullmatch(
            r"nodes/n\d+\.toml: interfaces\.x: allowed IPs of peers"
            r" `n\d+` \(192\.168\.0\.0/16\) and `n\d+` \(192\.168\.0\.0/16\) overlap",
            str(problem),
        )
        for problem in problems
    )


def test_few_overlaps_are_all_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        Validator().validate_files(shared_route_mesh(4))
    # 4 nodes, each with 3 peers: 3 overlapping pairs of peers per node.
    assert len(overlaps(list(caught.value.problems))) == 4 * 3
