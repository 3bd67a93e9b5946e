"""Pushed objects wait in a quarantine directory until the push is accepted."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from dulwich.object_store import DiskObjectStore
from dulwich.objects import Blob
from dulwich.repo import Repo

from drago.server.git.quarantine import Quarantine, sweep
from drago.store import GitStore


def test_objects_reach_the_repository_only_when_migrated(tmp_path: Path) -> None:
    repo = Repo.init_bare(str(tmp_path / "repo.git"), mkdir=True)
    store = repo.object_store
    kept, dropped = Blob.from_string(b"accepted\n"), Blob.from_string(b"rejected\n")
    with Quarantine(store) as quarantine:
        quarantine.store.add_objects([(kept, None)])
        assert kept.id in quarantine.store
        assert kept.id not in store
        quarantine.migrate()
    assert store[kept.id].as_raw_string() == b"accepted\n"
    with Quarantine(store) as quarantine:
        quarantine.store.add_objects([(dropped, None)])
    assert dropped.id not in store
    assert not list((tmp_path / "repo.git" / "objects").glob("incoming-*"))
    repo.close()


def test_sweep_removes_only_stale_quarantines(tmp_path: Path) -> None:
    objects = tmp_path / "objects"
    stale, fresh = objects / "incoming-old", objects / "incoming-new"
    stale.mkdir(parents=True)
    fresh.mkdir()
    hour_ago = time.time() - 7200
    os.utime(stale, (hour_ago, hour_ago))
    assert sweep(tmp_path) == 1
    assert not stale.exists() and fresh.exists()


def test_the_owner_sweeps_every_quarantine_and_hears_of_each(tmp_path: Path) -> None:
    objects = tmp_path / "objects"
    left = [objects / "incoming-a", objects / "incoming-b"]
    for path in left:
        (path / "pack").mkdir(parents=True)
    reported: list[Path] = []
    assert sweep(tmp_path, older_than=0, report=reported.append) == 2
    assert sorted(reported) == left
    assert not any(path.exists() for path in left)


def test_a_quarantine_syncs_what_arrives_as_its_repository_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pushed (or mirrored) object is on disk before the ref that names it moves."""
    with GitStore.init(tmp_path / "repo.git") as durable:  # core.fsyncObjectFiles
        objects = durable.repo.object_store
        assert isinstance(objects, DiskObjectStore)
        synced: list[int] = []
        real_fsync = os.fsync

        def counting(fd: int) -> None:
            synced.append(fd)
            real_fsync(fd)

        monkeypatch.setattr(os, "fsync", counting)
        with Quarantine(objects) as quarantine:
            assert quarantine.store.fsync_object_files
            quarantine.store.add_objects([(Blob.from_string(b"pushed\n"), None)])
            assert synced
