from __future__ import annotations

from drago.model.state import SourceFile, State
from drago.model.validate import Validator
from drago.server.api.topology_size import MATCH_COST, topology_work


def _state(nodes: int, connections: str) -> State:
    files = [
        SourceFile("networks/mesh.toml", f'address_range = "10.30.0.0/16"\n{connections}'.encode())
    ]
    for i in range(nodes):
        text = f'labels = {{ r = "x{i}" }}\n[interfaces.mesh]\naddress = "10.30.0.{i + 1}/16"\n'
        files.append(SourceFile(f"nodes/n-{i:03d}.toml", text.encode()))
    return Validator().validate_files(files)


def test_a_full_mesh_counts_its_peer_entries_and_the_matching() -> None:
    state = _state(10, '[[connections]]\nbetween = ["*", "*"]\n')
    assert topology_work(state, 10**6) == 10 * 9 + MATCH_COST * 2 * 10


def test_many_selector_connections_are_over_the_limit_before_any_matching() -> None:
    ring = "".join(
        f'[[connections]]\nbetween = ["r=x{i}", "r=x{(i + 1) % 100}"]\n' for i in range(100)
    )
    state = _state(100, ring)
    matching = MATCH_COST * 2 * 100 * 100
    assert topology_work(state, matching - 1) == matching
    assert topology_work(state, 10**9) == matching + 100 * 2
