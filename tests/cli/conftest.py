from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from drago.cli.main import main

Run = Callable[..., tuple[int, str, str]]
Git = Callable[..., str]


@pytest.fixture
def drago(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``drago`` in-process; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def repo_copy(tmp_path: Path, example_repo: Path) -> Path:
    """A writable copy of example-repo."""
    target = tmp_path / "repo"
    shutil.copytree(example_repo, target)
    return target


@pytest.fixture
def git_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Ada Operator",
        "GIT_AUTHOR_EMAIL": "ada@example.net",
        "GIT_COMMITTER_NAME": "Ada Operator",
        "GIT_COMMITTER_EMAIL": "ada@example.net",
    }


@pytest.fixture
def git(git_env: dict[str, str]) -> Git:
    def run(cwd: Path, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=cwd, env=git_env, check=True, capture_output=True, text=True
        )
        return done.stdout

    return run
