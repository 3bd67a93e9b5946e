"""Reading a working tree safely."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drago.errors import ConfigError, InvalidRequest
from drago.model.directory import read_directory
from drago.model.load import MAX_FILE_SIZE, git_blob_id
from drago.model.state import MODE_EXEC, MODE_FILE, MODE_SUBMODULE, MODE_SYMLINK
from drago.model.validate import Validator


def test_reads_files_sorted_and_skips_dot_git(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("x")
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "b.toml").write_bytes(b"b")
    (tmp_path / "nodes" / "a.toml").write_bytes(b"a")
    script = tmp_path / "README.md"
    script.write_text("hi")
    script.chmod(0o755)
    files = read_directory(tmp_path)
    assert [(f.path, f.data, f.mode, f.blob_id) for f in files] == [
        ("README.md", b"hi", MODE_EXEC, None),
        ("nodes/a.toml", b"a", MODE_FILE, None),
        ("nodes/b.toml", b"b", MODE_FILE, None),
    ]


def test_symlinks_are_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.toml").write_text('description = "secret"\n')
    root = tmp_path / "repo"
    (root / "nodes").mkdir(parents=True)
    (root / "nodes" / "a.toml").symlink_to(outside / "secret.toml")
    (root / "keys").symlink_to(outside)
    files = read_directory(root)
    assert [(f.path, f.mode) for f in files] == [
        ("keys", MODE_SYMLINK),
        ("nodes/a.toml", MODE_SYMLINK),
    ]
    assert files[1].data == os.fsencode(outside / "secret.toml")
    with pytest.raises(ConfigError) as caught:
        Validator().validate_files(files)
    assert [str(p) for p in caught.value.problems] == [
        "keys: symlinks are not allowed in a drago repository",
        "nodes/a.toml: symlinks are not allowed in a drago repository",
    ]


def test_nested_checkouts_are_submodules(tmp_path: Path) -> None:
    (tmp_path / "vendor" / ".git").mkdir(parents=True)
    (tmp_path / "vendor" / "x.toml").write_text("")
    assert [(f.path, f.mode) for f in read_directory(tmp_path)] == [("vendor", MODE_SUBMODULE)]


def test_fifos_are_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    assert read_directory(tmp_path) == []


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest):
        read_directory(tmp_path / "missing")


def test_example_repo_validates(example_repo: Path) -> None:
    state = Validator().validate_files(read_directory(example_repo))
    assert sorted(state.networks) == ["backbone", "site"]
    assert len(state.nodes) == 7
    assert state.public_key("laptop-ben", "site") is None
    assert state.public_key("fra-1", "backbone") is not None
    data = (example_repo / "nodes/fra-1.toml").read_bytes()
    assert state.blob_ids["nodes/fra-1.toml"] == git_blob_id(data)


def test_a_huge_file_is_read_only_up_to_the_limit_and_rejected(tmp_path: Path) -> None:
    (tmp_path / "nodes").mkdir()
    huge = tmp_path / "nodes" / "big.toml"
    with huge.open("wb") as handle:
        handle.truncate(64 << 20)  # 64 MiB, sparse
    (entry,) = read_directory(tmp_path)
    assert len(entry.data) == MAX_FILE_SIZE + 1
    with pytest.raises(ConfigError) as caught:
        Validator().validate_files([entry])
    assert "nodes/big.toml" in str(caught.value)
