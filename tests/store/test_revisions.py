"""Revisions resolve as ``git rev-parse`` resolves them, in a real clone with remotes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from drago.errors import InvalidRequest, NotFound
from drago.store import GitStore
from drago.store.upstream import map_refspec
from tests.store.conftest import Git

pytestmark = pytest.mark.e2e


def _commit(git: Git, repo: Path, name: str) -> None:
    (repo / f"{name}.txt").write_text(name)
    git("add", f"{name}.txt", cwd=repo)
    git("commit", "-q", "-m", name, cwd=repo)


@pytest.fixture
def clone(tmp_path: Path, git: Git) -> Iterator[tuple[GitStore, Path]]:
    """A clone of an origin with main, a feature branch and tags, then local work:
    main two commits ahead of origin/main, a branch tracking origin/feature, one
    tracking a local branch, one without upstream, and a tag and branch of the same name."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git("init", "-q", "-b", "main", cwd=origin)
    for name in ("one", "two", "three"):
        _commit(git, origin, name)
    git("tag", "v1", "HEAD~1", cwd=origin)
    git("tag", "-a", "-m", "release two", "v2", cwd=origin)
    git("switch", "-q", "-c", "feature", cwd=origin)
    _commit(git, origin, "feature")
    git("switch", "-q", "main", cwd=origin)
    repo = tmp_path / "clone"
    git("clone", "-q", str(origin), str(repo))
    _commit(git, repo, "local-1")
    _commit(git, repo, "local-2")
    git("branch", "--track", "topic", "origin/feature", cwd=repo)
    git("branch", "--track", "stacked", "main", cwd=repo)
    git("branch", "lonely", "HEAD~1", cwd=repo)
    git("branch", "same", "HEAD~2", cwd=repo)
    git("tag", "same", "HEAD~3", cwd=repo)
    git("pack-refs", "--all", cwd=repo)  # packed refs as well as loose ones
    git("tag", "loose", "HEAD", cwd=repo)
    with GitStore.open(repo) as store:
        yield store, repo


def _rev_parse(git: Git, repo: Path, rev: str) -> str:
    return git(
        "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", cwd=repo
    ).strip()


REVISIONS = [
    "HEAD", "@", "main", "refs/heads/main", "heads/main", "origin/main", "remotes/origin/main",
    "refs/remotes/origin/main", "origin", "origin/feature", "HEAD~1", "HEAD~2", "HEAD^", "@~1",
    "HEAD^^", "origin/main~1", "main~3", "@{u}", "@{upstream}", "@{U}", "HEAD@{u}",
    "main@{u}", "main@{upstream}~1", "topic@{u}", "stacked@{u}", "v1", "v2", "v2^{}",
    "v2^{commit}", "v2~1", "tags/v1", "refs/tags/v2", "same", "loose", "topic",
]  # fmt: skip


@pytest.mark.parametrize("rev", REVISIONS)
def test_resolves_like_git(clone: tuple[GitStore, Path], git: Git, rev: str) -> None:
    store, repo = clone
    assert store.resolve(rev) == _rev_parse(git, repo, rev)


def test_full_and_short_shas_like_git(clone: tuple[GitStore, Path], git: Git) -> None:
    store, repo = clone
    sha = _rev_parse(git, repo, "origin/feature")
    for rev in (sha, sha[:7], sha[:12], sha[:7].upper(), f"{sha[:7]}~1"):
        assert store.resolve(rev) == _rev_parse(git, repo, rev)


@pytest.mark.parametrize(
    ("rev", "error"),
    [
        ("nothing", NotFound),
        ("HEAD~99", NotFound),
        ("origin/nothing", NotFound),
        ("lonely@{u}", InvalidRequest),  # no upstream configured
        ("main@{1}", InvalidRequest),  # reflog: not supported
        ("@{-1}", InvalidRequest),
        ("main@{u}@{u}", InvalidRequest),
    ],
)
def test_fails_where_git_fails(
    clone: tuple[GitStore, Path], git: Git, rev: str, error: type[Exception]
) -> None:
    store, repo = clone
    with pytest.raises(error):
        store.resolve(rev)
    if "@{1}" not in rev and "@{-1}" not in rev:  # git has a reflog; drago does not read it
        verify = ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", rev]
        assert subprocess.run(verify, cwd=repo, env=git.env, capture_output=True).returncode != 0


def test_detached_head_has_no_upstream(clone: tuple[GitStore, Path], git: Git) -> None:
    _, repo = clone
    git("switch", "-q", "--detach", "HEAD~1", cwd=repo)
    with GitStore.open(repo) as detached:
        assert detached.resolve("HEAD") == _rev_parse(git, repo, "HEAD")
        with pytest.raises(InvalidRequest, match="HEAD does not point to a branch"):
            detached.resolve("@{u}")
        assert detached.resolve("main@{u}") == _rev_parse(git, repo, "origin/main")


@pytest.mark.parametrize(
    ("spec", "ref", "tracking"),
    [
        ("+refs/heads/*:refs/remotes/origin/*", "refs/heads/main", "refs/remotes/origin/main"),
        ("refs/heads/*:refs/remotes/o/*", "refs/heads/a/b", "refs/remotes/o/a/b"),
        ("refs/heads/main:refs/remotes/o/main", "refs/heads/main", "refs/remotes/o/main"),
        ("refs/heads/main:refs/remotes/o/main", "refs/heads/dev", None),
        ("refs/heads/x-*:refs/remotes/o/*", "refs/heads/main", None),
        ("^refs/heads/main", "refs/heads/main", None),
        ("refs/heads/main", "refs/heads/main", None),  # fetched into FETCH_HEAD only
    ],
)
def test_fetch_refspecs_map_like_git(spec: str, ref: str, tracking: str | None) -> None:
    assert map_refspec(spec, ref) == tracking


@pytest.mark.parametrize(
    "rev",
    ["HEAD~" + "9" * 4400, "HEAD^" + "1" * 5000, "HEAD~1234567890", "HEAD~1~0000000001"],
    ids=["tilde-4400-digits", "caret-5000-digits", "tilde-10-digits", "second-step-10-digits"],
)
def test_counts_of_more_than_9_digits_are_invalid_requests(
    clone: tuple[GitStore, Path], rev: str
) -> None:
    store, _ = clone
    with pytest.raises(InvalidRequest, match="at most 9 digits") as caught:
        store.resolve(rev)
    assert len(caught.value.message) < 200


def test_counts_are_ascii_digits(clone: tuple[GitStore, Path]) -> None:
    store, _ = clone
    with pytest.raises(InvalidRequest):
        store.resolve("HEAD~\u0663")  # ARABIC-INDIC DIGIT THREE: int() would read 3
    assert store.resolve("HEAD~000000001") == store.resolve("HEAD~1")
