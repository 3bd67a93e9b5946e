"""Objects reach the disk before a ref names them (core.fsyncObjectFiles)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dulwich.repo import Repo

from drago.store import GitStore
from tests.store.conftest import ANN, Git


def test_a_new_store_syncs_every_object_it_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    with GitStore.init(tmp_path / "repo") as store:
        monkeypatch.setattr(os, "fsync", counting_fsync)
        store.commit({"notes.md": b"hello\n"}, message="m", author=ANN, base=None)
        # a blob, a tree and a commit object, then the ref
        assert len(synced) >= 4
    reopened = Repo(str(tmp_path / "repo"))  # as the git transport opens it
    try:
        assert reopened.object_store.fsync_object_files
    finally:
        reopened.close()


def test_an_existing_repository_is_made_durable_and_git_reads_the_setting(
    tmp_path: Path, git: Git
) -> None:
    path = tmp_path / "old.git"
    git("init", "-q", "--bare", str(path))
    with GitStore.open(path) as store:
        store.make_durable()
        store.make_durable()  # idempotent
    assert git("config", "--file", str(path / "config"), "core.fsyncObjectFiles").strip() == "true"
