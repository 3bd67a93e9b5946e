from __future__ import annotations

import pytest
from dulwich.objects import Commit, ObjectID
from dulwich.refs import Ref

from drago.errors import Conflict, InvalidRequest, NotFound
from drago.store import GitStore
from tests.store.conftest import ANN, BOB, T0


@pytest.fixture
def line(seeded: tuple[GitStore, str]) -> tuple[GitStore, list[str]]:
    """Four commits: seed, change fra-1, add a network, delete nyc-1."""
    store, first = seeded
    second = store.commit({"nodes/fra-1.toml": b"changed\n"}, message="two", author=BOB, base=first)
    third = store.commit({"networks/site.toml": b"s\n"}, message="three", author=ANN, base=second)
    fourth = store.commit({"nodes/nyc-1.toml": None}, message="four", author=ANN, base=third)
    return store, [first, second, third, fourth]


def test_history_is_newest_first_with_limit_and_skip(line: tuple[GitStore, list[str]]) -> None:
    store, ids = line
    assert [c.id for c in store.history()] == ids[::-1]
    assert [c.id for c in store.history(limit=2)] == [ids[3], ids[2]]
    assert [c.id for c in store.history(limit=2, skip=1)] == [ids[2], ids[1]]
    assert [c.id for c in store.history(ids[1])] == [ids[1], ids[0]]
    assert store.history(skip=10) == []
    top = store.history(limit=1)[0]
    assert (top.message, top.author, top.author_time, top.paths) == ("four\n", ANN, T0 + 40, None)
    assert top.summary == "four"
    with pytest.raises(InvalidRequest):
        store.history(limit=-1)


def test_history_of_a_path_or_folder(line: tuple[GitStore, list[str]]) -> None:
    store, ids = line
    assert [c.id for c in store.history(path="nodes/fra-1.toml")] == [ids[1], ids[0]]
    assert [c.id for c in store.history(path="nodes/nyc-1.toml")] == [ids[3], ids[0]]
    assert [c.id for c in store.history(path="nodes")] == [ids[3], ids[1], ids[0]]
    assert [c.id for c in store.history(path="networks/")] == [ids[2], ids[0]]
    assert store.history(path="keys/none.toml") == []


def test_history_of_an_unborn_branch_is_empty(store: GitStore) -> None:
    assert store.history() == []
    with pytest.raises(NotFound):
        store.resolve("HEAD")


def test_commit_info_lists_changed_paths(line: tuple[GitStore, list[str]]) -> None:
    store, ids = line
    assert store.commit_info(ids[0]).paths == (
        "networks/backbone.toml",
        "nodes/fra-1.toml",
        "nodes/nyc-1.toml",
    )
    info = store.commit_info("main")
    assert info.paths == ("nodes/nyc-1.toml",)
    assert info.parents == (ids[2],)
    assert info.signature is None


def test_resolve_forms(line: tuple[GitStore, list[str]]) -> None:
    store, ids = line
    store.repo.refs[Ref(b"refs/tags/v1")] = ObjectID(ids[1].encode())
    assert store.resolve(ids[2]) == ids[2]
    assert store.resolve(ids[2][:7]) == ids[2]
    assert store.resolve(ids[2][:7].upper()) == ids[2]
    assert store.resolve("main") == ids[3]
    assert store.resolve("refs/heads/main") == ids[3]
    assert store.resolve("HEAD") == ids[3]
    assert store.resolve("main~2") == ids[1]
    assert store.resolve("HEAD^") == ids[2]
    assert store.resolve("HEAD^^") == ids[1]
    assert store.resolve("HEAD~1^1") == ids[1]
    assert store.resolve("HEAD^0") == ids[3]
    assert store.resolve("v1") == ids[1]
    assert store.resolve("v1~1") == ids[0]


@pytest.mark.parametrize("rev", ["nothing", "main~9", "HEAD^2", "0000000", "abc", "deadbeef"])
def test_unknown_revisions_are_not_found(line: tuple[GitStore, list[str]], rev: str) -> None:
    store, _ = line
    with pytest.raises((NotFound, InvalidRequest)) as caught:
        store.resolve(rev)
    assert rev in caught.value.message


@pytest.mark.parametrize(
    "rev",
    ["", "main~x", "main^^x", " main", "main:foo", "../config", "refs/../HEAD", "main@{1}"],
)
def test_malformed_revisions_are_refused(line: tuple[GitStore, list[str]], rev: str) -> None:
    store, _ = line
    with pytest.raises((NotFound, InvalidRequest)):
        store.resolve(rev)


def test_a_tree_sha_is_not_a_commit(line: tuple[GitStore, list[str]]) -> None:
    store, ids = line
    commit = store.repo[ObjectID(ids[0].encode())]
    assert isinstance(commit, Commit)
    tree = commit.tree.decode()
    with pytest.raises(NotFound):
        store.resolve(tree)


def test_ancestry_and_new_commits(line: tuple[GitStore, list[str]]) -> None:
    store, ids = line
    assert store.is_ancestor(ids[0], ids[3])
    assert store.is_ancestor(ids[3], ids[3])
    assert not store.is_ancestor(ids[3], ids[0])
    assert store.new_commits(ids[3], exclude=[ids[1]]) == [ids[2], ids[3]]
    assert store.new_commits(ids[3], exclude=[]) == ids
    assert store.new_commits(ids[1], exclude=[ids[3]]) == []
    assert store.new_commits(ids[3], exclude=["0" * 40, "nonsense"]) == ids
    fork = store.commit(
        {"nodes/x.toml": b"x"},
        message="fork",
        author=ANN,
        base=None,
        branch="fork",
        parents=[ids[1]],
    )
    assert store.new_commits(fork, exclude=store.branches().values()) == []
    assert store.new_commits(fork, exclude=[ids[3]]) == [fork]
    assert not store.is_ancestor(fork, ids[3])


def test_set_and_delete_branches_compare_and_swap(line: tuple[GitStore, list[str]]) -> None:
    store, ids = line
    store.set_branch("review", ids[1], old=None)
    with pytest.raises(Conflict):
        store.set_branch("review", ids[2], old=None)
    with pytest.raises(Conflict):
        store.set_branch("review", ids[2], old=ids[0])
    store.set_branch("review", "main", old=ids[1])
    assert store.branches()["review"] == ids[3]
    with pytest.raises(Conflict):
        store.delete_branch("review", old=ids[1])
    store.delete_branch("review", old=ids[3])
    assert "review" not in store.branches()
    with pytest.raises(NotFound):
        store.delete_branch("review", old=ids[3])
    with pytest.raises(InvalidRequest):
        store.set_branch("bad name", ids[0], old=None)
