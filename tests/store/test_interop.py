"""The store and the real git binary read and write the same repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from drago.store import GitStore
from tests.store.conftest import ANN, BOB, NODE_A, T0, Git


def _clone(git: Git, store: GitStore) -> Path:
    clone = store.path.parent / "clone"
    git("clone", "-q", str(store.path), str(clone))
    return clone


def _git_commit(git: Git, clone: Path, path: str, content: str, message: str) -> str:
    target = clone / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    git("add", path, cwd=clone)
    git("commit", "-q", "-m", message, cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone).strip()


@pytest.mark.parametrize("unpack_limit", ["100", "1"], ids=["loose", "packed"])
def test_commits_pushed_with_git_are_read_by_an_open_store(
    seeded: tuple[GitStore, str], git: Git, unpack_limit: str
) -> None:
    store, first = seeded
    assert len(store.files("main")) == 3  # the store has read (and cached) the old state
    git("--git-dir", str(store.path), "config", "receive.unpackLimit", unpack_limit)
    clone = _clone(git, store)
    pushed = _git_commit(git, clone, "nodes/lon-1.toml", "x = 1\n", "Add lon-1")
    git("rm", "-q", "nodes/nyc-1.toml", cwd=clone)
    git("commit", "-q", "-m", "Remove nyc-1", cwd=clone)
    second = git("rev-parse", "HEAD", cwd=clone).strip()
    git("push", "-q", "origin", "main", cwd=clone)

    assert store.head() == second
    assert [f.path for f in store.files("main")] == [
        "networks/backbone.toml",
        "nodes/fra-1.toml",
        "nodes/lon-1.toml",
    ]
    assert store.read_file("main", "nodes/lon-1.toml") == b"x = 1\n"
    info = store.commit_info(pushed)
    assert (info.author, info.committer, info.author_time) == (BOB, BOB, T0 + 500)
    assert info.message == "Add lon-1\n"
    assert info.paths == ("nodes/lon-1.toml",)
    assert [c.id for c in store.history()] == [second, pushed, first]
    assert store.new_commits(second, exclude=[first]) == [pushed, second]
    third = store.commit({"nodes/fra-1.toml": None}, message="m", author=ANN, base=second)
    git("--git-dir", str(store.path), "fsck", "--strict", "--no-dangling")
    git("pull", "-q", "--ff-only", cwd=clone)
    assert git("rev-parse", "HEAD", cwd=clone).strip() == third


def test_the_store_keeps_reading_after_git_gc_repacks_everything(
    seeded: tuple[GitStore, str], git: Git
) -> None:
    store, first = seeded
    second = store.commit({"nodes/a.toml": b"a"}, message="a", author=ANN, base=first)
    git("--git-dir", str(store.path), "gc", "-q", "--prune=now")
    assert not any((store.path / "objects").glob("??/*"))
    assert (store.path / "packed-refs").exists()
    with GitStore.open(store.path) as fresh:
        assert fresh.head() == second
        assert fresh.read_file(first, "nodes/fra-1.toml") == NODE_A
    clone = _clone(git, store)
    pushed = _git_commit(git, clone, "nodes/b.toml", "b", "b")
    git("push", "-q", "origin", "main", cwd=clone)
    git("--git-dir", str(store.path), "gc", "-q", "--prune=now")
    assert store.head() == pushed
    assert store.read_file("main", "nodes/b.toml") == b"b"
    assert store.resolve(pushed[:7]) == pushed
    third = store.commit({"nodes/c.toml": b"c"}, message="c", author=ANN, base=pushed)
    git("--git-dir", str(store.path), "fsck", "--strict", "--no-dangling")
    assert git("--git-dir", str(store.path), "rev-parse", "main").strip() == third


def test_merge_commits_made_with_git_are_walked(seeded: tuple[GitStore, str], git: Git) -> None:
    store, first = seeded
    clone = _clone(git, store)
    git("checkout", "-q", "-b", "side", cwd=clone)
    side = _git_commit(git, clone, "nodes/side.toml", "s", "side work")
    git("checkout", "-q", "main", cwd=clone)
    main = _git_commit(git, clone, "nodes/main.toml", "m", "main work")
    git("merge", "-q", "--no-ff", "-m", "Merge side", "side", cwd=clone)
    merge = git("rev-parse", "HEAD", cwd=clone).strip()
    git("push", "-q", "origin", "main", "side", cwd=clone)

    assert store.resolve("main^2") == side
    assert store.resolve("main^1") == main
    assert store.resolve("main^2~1") == first
    assert store.is_ancestor(side, merge)
    assert not store.is_ancestor(side, main)
    new = store.new_commits(merge, exclude=[first])
    assert new[-1] == merge
    assert sorted(new[:2]) == sorted([main, side])
    assert store.new_commits(merge, exclude=[side]) == [main, merge]
    assert store.new_commits(merge, exclude=[merge, first]) == []
    assert [c.id for c in store.history(path="nodes/side.toml")] == [side]
    assert store.branches() == {"main": merge, "side": side}
    log = git("--git-dir", str(store.path), "log", "--format=%H", "main").split()
    assert [c.id for c in store.history()][:1] == log[:1]
    assert {c.id for c in store.history()} == set(log)
