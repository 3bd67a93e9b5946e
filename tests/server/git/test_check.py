"""The push check's policy, in process, on a store built with dulwich (no git, no HTTP)."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from dulwich.objects import Commit, ObjectID

from drago.model.directory import read_directory
from drago.server.api.topology_size import size_bound
from drago.server.git.check import PushCheck, RefUpdate
from drago.signing import ServerKey, Trust, TrustedSigners
from drago.store import GitStore, Identity
from tests.server.joining import joining_nodes

AUTHOR = Identity("Anna", "anna@example.com")
FRA = "nodes/fra-1.toml"


class Repo:
    def __init__(self, path: Path, example: Path) -> None:
        self.store = GitStore.init(path)
        self.key = ServerKey.generate(principal="srv@example.com")
        files = read_directory(example)
        self.base = self.commit({f.path: f.data for f in files}, base=None)
        self.fra = self.store.read_file(self.base, FRA)

    def commit(
        self, changes: dict[str, bytes | None], *, base: str | None, sign: bool = True
    ) -> str:
        """A commit on top of ``base`` that no branch points to afterwards."""
        main = self.store.head()
        if main is not None and main != base:
            self.store.set_branch("main", base or "", old=main)
        sha = self.store.commit(
            changes,
            message="change",
            author=AUTHOR,
            base=base,
            sign=self.key.sign if sign else None,
            allow_empty=True,
        )
        if main is not None:
            self.store.set_branch("main", main, old=sha)
        return sha

    def check(self, ref: str, old: str | None, new: str | None) -> str | None:
        return self.push_check().check(RefUpdate(ref, old, new)).reason

    def push_check(self) -> PushCheck:
        """The check over a view of the repository's own objects (as of a quarantine)."""
        return PushCheck(
            self.store.view(self.store.repo.object_store),
            Trust(TrustedSigners(None, self.key)),
            live_branch="main",
        )


@pytest.fixture
def repo(tmp_path: Path, example_repo: Path) -> Repo:
    return Repo(tmp_path / "repo.git", example_repo)


def edited(repo: Repo, text: bytes = b"\n# edit\n") -> dict[str, bytes | None]:
    return {FRA: repo.fra + text}


def test_signed_valid_fast_forward_is_accepted(repo: Repo) -> None:
    first = repo.commit(edited(repo), base=repo.base)
    second = repo.commit(edited(repo, b"\n# two\n"), base=first)
    assert repo.check("refs/heads/main", repo.base, second) is None


def test_every_new_commit_is_checked_not_just_the_tip(repo: Repo) -> None:
    unsigned = repo.commit(edited(repo), base=repo.base, sign=False)
    tip = repo.commit(edited(repo, b"\n# two\n"), base=unsigned)
    assert repo.check("refs/heads/main", repo.base, tip) == (
        f"commit {unsigned[:7]}: unsigned commit"
    )


def test_commits_of_review_branches_are_not_trusted(repo: Repo) -> None:
    unsigned = repo.commit(edited(repo), base=repo.base, sign=False)
    repo.store.set_branch("review", unsigned, old=None)
    assert repo.check("refs/heads/review", None, unsigned) is None
    reason = repo.check("refs/heads/main", repo.base, unsigned)
    assert reason == f"commit {unsigned[:7]}: unsigned commit"


def test_invalid_tip_names_file_and_key(repo: Repo) -> None:
    bad = repo.fra.replace(b'"10.20.0.1/16"', b'"nope"')
    tip = repo.commit({FRA: bad}, base=repo.base)
    reason = repo.check("refs/heads/main", repo.base, tip)
    assert reason is not None
    assert reason.startswith(f"commit {tip[:7]}: invalid: nodes/fra-1.toml: interfaces.backbone")


def test_rewrites_deletion_and_odd_refs(repo: Repo) -> None:
    side = repo.commit(edited(repo), base=repo.base)
    other = repo.commit(edited(repo, b"\n# other\n"), base=repo.base)
    assert "non-fast-forward" in (repo.check("refs/heads/main", side, other) or "")
    assert repo.check("refs/heads/main", repo.base, None) == (
        "the live branch main cannot be deleted"
    )
    assert repo.check("refs/heads/review", side, None) is None
    assert "only branches" in (repo.check("refs/tags/v1", None, side) or "")
    assert "invalid branch name" in (repo.check("refs/heads/a..b", None, side) or "")
    commit = repo.store.repo[ObjectID(side.encode())]
    assert isinstance(commit, Commit)
    tree = commit.tree.decode()
    assert "is not a commit" in (repo.check("refs/heads/x", None, tree) or "")
    assert "missing from the push" in (repo.check("refs/heads/x", None, "1" * 40) or "")


def test_new_commits_are_parents_first_and_stop_at_the_live_history(repo: Repo) -> None:
    first = repo.commit(edited(repo), base=repo.base, sign=False)
    second = repo.commit(edited(repo, b"\n# two\n"), base=first, sign=False)
    check = repo.push_check()
    assert check.new_commits(second, repo.base) == ([first, second], True)
    assert check.new_commits(second, first) == ([second], True)
    assert check.new_commits(first, second) == ([], False)
    assert check.new_commits(first, None) == ([repo.base, first], True)


def test_every_pushed_branch_is_refused_when_its_topology_could_be_too_large(
    repo: Repo,
) -> None:
    few = repo.commit(
        {p: t.encode() for p, t in joining_nodes(20).items()}, base=repo.base, sign=True
    )
    many = repo.commit(
        {p: t.encode() for p, t in joining_nodes(50).items()}, base=repo.base, sign=True
    )
    live = repo.store.state(repo.base)
    check = PushCheck(
        repo.store.view(repo.store.repo.object_store),
        Trust(TrustedSigners(None, repo.key)),
        live_branch="main",
        size=partial(size_bound, 2000, lambda: live),
    )
    for ref in ("refs/heads/review", "refs/heads/main"):
        assert check.check(RefUpdate(ref, repo.base, few)).ok
        reason = check.check(RefUpdate(ref, repo.base, many)).reason
        assert reason is not None
        assert reason.startswith(f"commit {many[:7]}: the topology could be up to 4120")
        assert reason.endswith("over the limit of 2000 (max_topology)")
