"""One owner per data directory; serialised edits of files in it."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from drago.errors import Conflict
from drago.server.datadir import OWNER_LOCK, DataDir


def test_a_second_owner_is_refused_with_the_directory_and_the_holders_pid(
    tmp_path: Path,
) -> None:
    datadir = DataDir(tmp_path / "data")
    datadir.ensure_root()
    owner = datadir.own()
    try:
        with pytest.raises(Conflict) as refused:
            datadir.own()  # a separate open file: refused like another process would be
        assert str(datadir.root) in refused.value.message
        assert f"pid {os.getpid()}" in refused.value.message
        assert refused.value.details == {"data": str(datadir.root), "pid": os.getpid()}
    finally:
        owner.release()
    assert not owner.held
    datadir.own().release()  # free again once released


def test_the_owner_lock_does_not_make_a_new_directory_foreign(tmp_path: Path) -> None:
    datadir = DataDir(tmp_path / "data")
    datadir.ensure_root()
    datadir.own().release()
    assert (datadir.root / OWNER_LOCK).is_file()
    datadir.check_existing()  # only the lock file: still an empty data directory
    (datadir.root / "notes.txt").write_text("mine")
    with pytest.raises(Exception, match="not a drago data directory"):
        datadir.check_existing()


def test_editing_waits_for_another_edit_of_the_same_file(tmp_path: Path) -> None:
    datadir = DataDir(tmp_path)
    target = tmp_path / "allowed_signers"
    order: list[str] = []

    def second() -> None:
        with datadir.editing(target):
            order.append("second")

    with datadir.editing(target):
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive(), "the second edit ran while the first held the file"
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
