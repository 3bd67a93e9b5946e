"""What a killed writer leaves in the repository blocks the next writer until it is removed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dulwich.file import FileLocked
from dulwich.objects import Blob

from drago.store import GitStore
from drago.store.recovery import remove_leftovers, stale_locks
from tests.store.conftest import ANN, NODE_A, Git


def plant_leftovers(store: GitStore, blob: Blob) -> list[Path]:
    """What a SIGKILL leaves at the worst instants of a commit and of a pack write."""
    repo = store.path
    sha = blob.id.decode()
    (repo / "objects" / sha[:2]).mkdir(exist_ok=True)
    planted = [
        repo / "refs" / "heads" / "main.lock",  # mid ref update
        repo / "objects" / sha[:2] / f"{sha[2:]}.lock",  # mid loose object write
        repo / "packed-refs.lock",
        repo / "HEAD.lock",
        repo / "objects" / "pack" / "tmpk2f9x1.pack",  # dulwich's pack before its index
        repo / "objects" / "tmp_pack_a81b3c",  # a thin pack being completed
        repo / "objects" / "pack" / f"pack-{'0' * 40}.pack",  # moved in, index not yet
    ]
    for path in planted:
        path.write_bytes(b"partial")
    past = 1_000_000_000
    for path in planted:
        os.utime(path, (past, past))
    return planted


def test_a_stale_ref_lock_blocks_every_commit(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    (store.path / "refs" / "heads" / "main.lock").write_text("")
    with pytest.raises(FileLocked):
        store.commit({"nodes/a.toml": NODE_A + b"#\n"}, message="m", author=ANN, base=first)


def test_remove_leftovers_clears_them_and_nothing_else(
    seeded: tuple[GitStore, str], git: Git
) -> None:
    store, first = seeded
    blob = Blob.from_string(NODE_A + b"# written again\n")
    planted = plant_leftovers(store, blob)
    before = sorted(p for p in store.path.rglob("*") if p.is_file() and p not in planted)

    removed = remove_leftovers(store.path)

    assert sorted(removed) == sorted(planted)
    assert not stale_locks(store.path)
    assert sorted(p for p in store.path.rglob("*") if p.is_file()) == before
    # The same object and the branch can be written again.
    second = store.commit(
        {"nodes/fra-1.toml": blob.data}, message="after the crash", author=ANN, base=first
    )
    assert store.head() == second
    assert git("--git-dir", str(store.path), "fsck", "--strict", "--no-dangling") == ""


def test_remove_leftovers_on_a_clean_repository_removes_nothing(
    seeded: tuple[GitStore, str],
) -> None:
    store, _ = seeded
    assert remove_leftovers(store.path) == []
