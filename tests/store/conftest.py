from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from drago.store import GitStore, Identity

ANN = Identity("Ann Example", "ann@example.net")
BOB = Identity("Bob Builder", "bob@example.org")
T0 = 1_700_000_000

NETWORK = b'name = "backbone"\ncidr = "10.20.0.0/16"\n'
NODE_A = b'[interfaces.backbone]\naddress = "10.20.0.1"\n'
NODE_B = b'[interfaces.backbone]\naddress = "10.20.0.2"\n'


class Git:
    """The real git binary with no user configuration and fixed identities."""

    def __init__(self, home: Path) -> None:
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": BOB.name,
            "GIT_AUTHOR_EMAIL": BOB.email,
            "GIT_COMMITTER_NAME": BOB.name,
            "GIT_COMMITTER_EMAIL": BOB.email,
            "GIT_AUTHOR_DATE": f"{T0 + 500} +0000",
            "GIT_COMMITTER_DATE": f"{T0 + 500} +0000",
        }

    def __call__(self, *args: str, cwd: Path | None = None) -> str:
        result = subprocess.run(
            ["git", *args], cwd=cwd, env=self.env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
        return result.stdout


@pytest.fixture
def git(tmp_path: Path) -> Git:
    home = tmp_path / "home"
    home.mkdir()
    return Git(home)


class Clock:
    """A clock the tests move by hand, so commit times are deterministic."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        self.now += 10
        return float(self.now)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GitStore]:
    with GitStore.init(tmp_path / "repo.git", clock=Clock()) as store:
        yield store


@pytest.fixture
def seeded(store: GitStore) -> tuple[GitStore, str]:
    """A store with one commit of three files."""
    first = store.commit(
        {"networks/backbone.toml": NETWORK, "nodes/fra-1.toml": NODE_A, "nodes/nyc-1.toml": NODE_B},
        message="Add the backbone",
        author=ANN,
        base=None,
    )
    return store, first
