"""Ref changes made on disk, outside the server, are noticed within a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser, run

pytestmark = pytest.mark.e2e


def eventually(condition: Callable[[], bool], timeout: float = 1.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - started


def review_commit(server: GitServer, user: GitUser, work: Path, text: str, branch: str) -> str:
    if not work.exists():
        user.git("clone", "-q", server.url(server.admin), str(work))
    target = work / "nodes" / "fra-1.toml"
    target.write_text(target.read_text() + text)
    user.git("commit", "-q", "-am", f"change for {branch}", cwd=work)
    user.git("push", "-q", "origin", f"HEAD:{branch}", cwd=work)
    return user.git("rev-parse", "HEAD", cwd=work).out.strip()


def update_ref(server: GitServer, sha: str) -> None:
    run(["git", f"--git-dir={server.ctx.store.path}", "update-ref", "refs/heads/main", sha])


def test_external_ref_change_goes_live_within_a_second(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    sha = review_commit(git_server, alice, work, "\n# external\n", "review/ext")
    assert git_server.ctx.live.revision != sha
    update_ref(git_server, sha)
    eventually(lambda: git_server.ctx.live.revision == sha)

    run(["git", f"--git-dir={git_server.ctx.store.path}", "pack-refs", "--all"])
    second = review_commit(git_server, alice, work, "\n# packed\n", "review/ext2")
    update_ref(git_server, second)
    eventually(lambda: git_server.ctx.live.revision == second)


def test_invalid_external_head_keeps_the_last_valid_revision(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    live = git_server.ctx.live.revision
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.admin), str(work))
    target = work / "nodes" / "fra-1.toml"
    target.write_text(target.read_text().replace('"10.20.0.1/16"', '"not-an-address"'))
    alice.git("commit", "-q", "-am", "broken", cwd=work)
    alice.git("push", "-q", "origin", "HEAD:review/broken", cwd=work)
    bad = alice.git("rev-parse", "HEAD", cwd=work).out.strip()
    update_ref(git_server, bad)

    def recorded() -> bool:
        problem = git_server.ctx.live.problem
        return problem is not None and problem.revision == bad

    eventually(recorded)
    assert git_server.ctx.live.revision == live
    problem = git_server.ctx.live.problem
    assert problem is not None
    assert "nodes/fra-1.toml" in problem.error.message
