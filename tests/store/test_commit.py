from __future__ import annotations

import threading
from pathlib import Path

import pytest

from drago.errors import Conflict, InvalidRequest, NotFound
from drago.model.state import MODE_EXEC, MODE_FILE
from drago.store import GitStore, Identity
from tests.store.conftest import ANN, BOB, NODE_A, NODE_B, T0, Git


def test_init_creates_a_bare_repository_with_head_on_the_branch(tmp_path: Path, git: Git) -> None:
    with GitStore.init(tmp_path / "r.git", branch="live") as store:
        assert store.head() is None
        assert store.branches() == {}
        assert store.branch == "live"
    assert git("--git-dir", str(tmp_path / "r.git"), "symbolic-ref", "HEAD") == "refs/heads/live\n"
    assert (
        git("--git-dir", str(tmp_path / "r.git"), "rev-parse", "--is-bare-repository") == "true\n"
    )


def test_init_refuses_an_existing_repository_and_open_a_missing_one(tmp_path: Path) -> None:
    GitStore.init(tmp_path / "r.git").close()
    with pytest.raises(Conflict):
        GitStore.init(tmp_path / "r.git")
    with pytest.raises(NotFound):
        GitStore.open(tmp_path / "nothing")
    with GitStore.open(tmp_path / "r.git") as store:
        assert store.path == tmp_path / "r.git"


def test_commits_pass_git_fsck_and_show_in_git_log(seeded: tuple[GitStore, str], git: Git) -> None:
    store, first = seeded
    second = store.commit(
        {"nodes/fra-1.toml": NODE_B},
        message="Move fra-1\n\nA longer body.",
        author=BOB,
        committer=ANN,
        base=first,
    )
    gitdir = str(store.path)
    git("--git-dir", gitdir, "fsck", "--strict", "--no-dangling")
    log = git("--git-dir", gitdir, "log", "--format=%H|%P|%an|%ae|%cn|%ce|%at|%B%x00", "main")
    entries = [e.strip("\n") for e in log.split("\0") if e.strip("\n")]
    assert entries == [
        f"{second}|{first}|Bob Builder|bob@example.org|Ann Example|ann@example.net|{T0 + 20}|"
        "Move fra-1\n\nA longer body.",
        f"{first}||Ann Example|ann@example.net|Ann Example|ann@example.net|{T0 + 10}|"
        "Add the backbone",
    ]
    assert git("--git-dir", gitdir, "show", "main:nodes/fra-1.toml").encode() == NODE_B
    tree = git("--git-dir", gitdir, "ls-tree", "-r", "--name-only", "main").split()
    assert tree == ["networks/backbone.toml", "nodes/fra-1.toml", "nodes/nyc-1.toml"]


def test_a_stale_base_raises_conflict_and_leaves_the_ref(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    second = store.commit({"nodes/a.toml": b"x"}, message="a", author=ANN, base=first)
    with pytest.raises(Conflict) as caught:
        store.commit({"nodes/b.toml": b"y"}, message="b", author=ANN, base=first)
    assert caught.value.details == {"branch": "main", "head": second, "base": first}
    assert store.head() == second
    with pytest.raises(Conflict):
        store.commit({"nodes/b.toml": b"y"}, message="b", author=ANN, base=None)
    assert store.head() == second


def test_commits_on_other_branches_leave_the_main_branch(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    with pytest.raises(Conflict):
        store.commit({"nodes/x.toml": b"x"}, message="x", author=ANN, base=first, branch="topic")
    orphan = store.commit({"a.toml": b"a"}, message="orphan", author=ANN, base=None, branch="new")
    store.set_branch("topic", first, old=None)
    topic = store.commit(
        {"nodes/x.toml": b"x"}, message="x", author=ANN, base=first, branch="topic"
    )
    assert store.branches() == {"main": first, "new": orphan, "topic": topic}
    assert store.history("new")[0].parents == ()


def test_deletions_and_empty_folders_disappear(seeded: tuple[GitStore, str], git: Git) -> None:
    store, first = seeded
    second = store.commit(
        {"nodes/fra-1.toml": None, "nodes/nyc-1.toml": None},
        message="Remove the nodes",
        author=ANN,
        base=first,
    )
    assert [f.path for f in store.files(second)] == ["networks/backbone.toml"]
    assert git("--git-dir", str(store.path), "ls-tree", "main").count("\n") == 1
    with pytest.raises(NotFound):
        store.commit({"nodes/gone.toml": None}, message="x", author=ANN, base=second)
    with pytest.raises(InvalidRequest):
        store.commit({"networks": None}, message="x", author=ANN, base=second)
    assert store.head() == second


def test_an_empty_change_set_returns_the_base_unless_allowed(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    assert store.commit({}, message="nothing", author=ANN, base=first) == first
    same = store.commit({"nodes/fra-1.toml": NODE_A}, message="same", author=ANN, base=first)
    assert same == first
    empty = store.commit({}, message="marker", author=ANN, base=first, allow_empty=True)
    assert empty != first
    assert store.head() == empty
    assert store.diff(first, empty) == []


@pytest.mark.parametrize(
    "path", ["", "/etc/passwd", "a//b", "nodes/", "../x", "nodes/./x", "a\\b", ".git/config"]
)
def test_bad_paths_are_invalid_requests(seeded: tuple[GitStore, str], path: str) -> None:
    store, first = seeded
    with pytest.raises(InvalidRequest):
        store.commit({path: b"x"}, message="bad", author=ANN, base=first)
    assert store.head() == first


def test_files_and_folders_do_not_clash(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    for changes in (
        {"nodes": b"x"},
        {"nodes/fra-1.toml/inner": b"x"},
        {"a/b": b"x", "a": b"y"},
        {"a": b"y", "a/b": b"x"},
    ):
        with pytest.raises(InvalidRequest):
            store.commit(changes, message="bad", author=ANN, base=first)
    assert store.head() == first


def test_unchanged_subtrees_keep_their_ids_and_modes_are_kept(
    seeded: tuple[GitStore, str], git: Git
) -> None:
    store, _ = seeded
    gitdir = str(store.path)
    tree_before = git("--git-dir", gitdir, "rev-parse", "main:networks")
    clone = store.path.parent / "clone"
    git("clone", "-q", gitdir, str(clone))
    git("update-index", "--chmod=+x", "nodes/fra-1.toml", cwd=clone)
    git("commit", "-q", "-m", "exec bit", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    head = store.head()
    assert head is not None
    store.commit({"nodes/fra-1.toml": b"changed\n"}, message="m", author=ANN, base=head)
    assert git("--git-dir", gitdir, "rev-parse", "main:networks") == tree_before
    modes = {f.path: f.mode for f in store.files("main")}
    assert modes == {
        "networks/backbone.toml": MODE_FILE,
        "nodes/fra-1.toml": MODE_EXEC,
        "nodes/nyc-1.toml": MODE_FILE,
    }


def test_bad_messages_and_identities_are_refused(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    with pytest.raises(InvalidRequest):
        store.commit({"a": b"x"}, message="  \n", author=ANN, base=first)
    with pytest.raises(InvalidRequest):
        Identity("Eve <evil>", "eve@example.net")
    with pytest.raises(InvalidRequest):
        Identity("Eve", "eve@example.net>\ncommitter x")
    with pytest.raises(InvalidRequest):
        store.commit({"a": b"x"}, message="m", author=ANN, base=first, branch="bad..name")
    assert store.head() == first


def test_concurrent_commits_on_the_same_base_exactly_one_wins(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    results: list[str] = []
    conflicts: list[Conflict] = []
    barrier = threading.Barrier(8)

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            results.append(
                store.commit({f"nodes/n{i}.toml": b"x"}, message=f"{i}", author=ANN, base=first)
            )
        except Conflict as error:
            conflicts.append(error)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1
    assert len(conflicts) == 7
    assert store.head() == results[0]


def test_two_store_objects_on_one_repository_cannot_overwrite_each_other(
    seeded: tuple[GitStore, str],
) -> None:
    store, first = seeded
    with GitStore.open(store.path) as other:
        mine = store.commit({"nodes/a.toml": b"a"}, message="a", author=ANN, base=first)
        with pytest.raises(Conflict):
            other.commit({"nodes/b.toml": b"b"}, message="b", author=ANN, base=first)
        assert other.head() == mine
        theirs = other.commit({"nodes/b.toml": b"b"}, message="b", author=ANN, base=mine)
    assert store.head() == theirs
    assert store.read_file(theirs, "nodes/b.toml") == b"b"


def test_a_one_file_commit_writes_one_blob_the_trees_on_its_path_and_the_commit(
    seeded: tuple[GitStore, str],
) -> None:
    store, first = seeded
    wide = store.commit(
        {f"nodes/n{i:04d}.toml": f"n = {i}\n".encode() for i in range(300)},
        message="many nodes",
        author=ANN,
        base=first,
    )
    objects = store.path / "objects"
    before = {p.name for p in objects.glob("??/*")}
    store.commit({"nodes/n0007.toml": b"n = 7777\n"}, message="one", author=ANN, base=wide)
    written = {p.name for p in objects.glob("??/*")} - before
    assert len(written) == 4  # blob, nodes/ tree, root tree, commit


def test_deleting_every_file_commits_the_empty_tree(seeded: tuple[GitStore, str], git: Git) -> None:
    store, first = seeded
    empty = store.commit(
        {"networks/backbone.toml": None, "nodes/fra-1.toml": None, "nodes/nyc-1.toml": None},
        message="Start over",
        author=ANN,
        base=first,
    )
    assert store.files(empty) == []
    git("--git-dir", str(store.path), "fsck", "--strict", "--no-dangling")
    first_again = store.commit({"a.toml": b"a"}, message="again", author=ANN, base=empty)
    assert [f.path for f in store.files(first_again)] == ["a.toml"]


def test_parents_must_be_commits_of_this_repository(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    with pytest.raises(NotFound):
        store.commit({"a": b"a"}, message="m", author=ANN, base=first, parents=[first, "1" * 40])
    store.set_branch("side", first, old=None)
    side = store.commit({"b": b"b"}, message="side", author=ANN, base=first, branch="side")
    merge = store.commit(
        {"b": b"b"}, message="Merge side", author=ANN, base=first, parents=[first, side]
    )
    assert store.commit_info(merge).parents == (first, side)
    assert store.is_ancestor(side, "main")
    assert store.resolve("main^2") == side


@pytest.mark.parametrize("message", ["a\0b", "esc\x1b[2K", "cr\r", "del\x7f", "c1\x85", "ls\u2028"])
def test_control_characters_in_a_message_are_refused(
    seeded: tuple[GitStore, str], message: str
) -> None:
    """The last line of defence: whatever the caller, no terminal escape in a commit."""
    store, first = seeded
    with pytest.raises(InvalidRequest, match="commit message"):
        store.commit({"nodes/fra-1.toml": NODE_B}, message=message, author=BOB, base=first)
    assert store.head() == first
    store.commit({"nodes/fra-1.toml": NODE_B}, message="ok\n\n\tbody", author=BOB, base=first)
