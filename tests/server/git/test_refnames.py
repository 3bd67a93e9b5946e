"""Which branch names a push may create: git's own rules, plus names that make
``HEAD`` ambiguous, read as options, look like object ids, or cannot be a file
on Windows clients; the reason shows in ``git push``."""

from __future__ import annotations

from pathlib import Path

import pytest

from drago.server.git.refnames import branch_problem
from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser

REFUSED = {
    "HEAD": "HEAD",
    "review/HEAD": "HEAD",
    "-f": "'-'",
    "review/-x": "'-'",
    "@": "'@'",
    "refs/heads/main": "refs/",
    "a" * 40: "object id",
    "0123456789abcdef" * 4: "object id",
    "con": "Windows",
    "review/AUX.txt": "Windows",
    "a|b": "Windows",
    "a<b>": "Windows",
    'say"hi"': "Windows",
    "a..b": "git",
    "a b": "git",
    "a\x7fb": "git",
    "x.lock": "git",
    "": "git",
    "a/": "git",
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused_names_say_why(name: str) -> None:
    problem = branch_problem(name)
    assert problem is not None
    assert REFUSED[name] in problem, problem
    assert repr(name) in problem


@pytest.mark.parametrize(
    "name", ["main", "review/x", "feature/fra-1.endpoint", "HEADS", "head", "a-", "a" * 39, "x@y"]
)
def test_ordinary_names_pass(name: str) -> None:
    assert branch_problem(name) is None


@pytest.mark.e2e
@pytest.mark.parametrize("branch", ["HEAD", "review/HEAD", "con", "a" * 40])
def test_pushing_a_refused_name_is_rejected_with_the_reason(
    git_server: GitServer, alice: GitUser, tmp_path: Path, branch: str
) -> None:
    work = tmp_path / "work"
    alice.git("clone", "-q", git_server.url(git_server.admin), str(work))
    result = alice.git("push", "origin", f"HEAD:refs/heads/{branch}", cwd=work, check=False)
    assert result.code != 0, result.text
    assert "[remote rejected]" in result.text, result.text
    assert f"invalid branch name {branch!r}" in result.text, result.text
    assert set(git_server.ctx.store.branches()) == {"main"}


def test_a_confusing_branch_made_before_can_be_deleted() -> None:
    assert branch_problem("HEAD", deleting=True) is None
    assert branch_problem("con", deleting=True) is None
    assert branch_problem("a..b", deleting=True) is not None
