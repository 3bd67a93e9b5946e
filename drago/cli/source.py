"""Where a CLI command reads repository state from: a directory or a Git revision."""

from __future__ import annotations

import argparse
from pathlib import Path

from drago.errors import InvalidRequest
from drago.model.directory import read_directory
from drago.model.state import SourceFile, State
from drago.model.validate import Validator


def add_repo_arguments(parser: argparse.ArgumentParser, *, positional: bool) -> None:
    if positional:
        parser.add_argument(
            "repo", nargs="?", default=".", type=Path, help="repository directory (default: .)"
        )
    else:
        parser.add_argument(
            "--repo", default=Path("."), type=Path, help="repository directory (default: .)"
        )
    parser.add_argument(
        "--rev", help="read this Git revision of the repository instead of the files on disk"
    )


def read_files(repo: Path, rev: str | None) -> tuple[list[SourceFile], str | None]:
    """The files of ``repo`` (its working tree, or ``rev`` of its Git history)
    and the revision they came from (None for a working tree)."""
    if not repo.is_dir():
        raise InvalidRequest(f"{repo} is not a directory")
    if rev is None:
        return read_directory(repo), None
    from drago.store import GitStore

    with GitStore.open(repo) as store:
        commit = store.resolve(rev)
        return store.files(commit), commit


def read_state(repo: Path, rev: str | None, validator: Validator) -> tuple[State, str | None]:
    files, commit = read_files(repo, rev)
    return validator.validate_files(files), commit
