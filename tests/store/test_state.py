"""Reading the validated desired state of a revision (uses drago.model.validate)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from drago.errors import ConfigError
from drago.model.directory import read_directory
from drago.model.state import MODE_SUBMODULE, MODE_SYMLINK, State
from drago.model.validate import VALID_SIZE, Validator
from drago.store import GitStore
from drago.store.repository import STATES_KEPT
from tests.store.conftest import ANN, Git


@pytest.fixture
def example(store: GitStore, example_repo: Path) -> tuple[GitStore, str]:
    files = {f.path: f.data for f in read_directory(example_repo)}
    return store, store.commit(files, message="Import the example", author=ANN, base=None)


def test_state_equals_the_state_of_the_directory(
    example: tuple[GitStore, str], example_repo: Path
) -> None:
    store, head = example
    state = store.state("main")
    expected = Validator().validate_files(read_directory(example_repo))
    assert state.networks == expected.networks
    assert state.nodes == expected.nodes
    assert state.keys == expected.keys
    assert state.blob_ids == {
        f.path: f.blob_id for f in store.files(head) if f.path in state.blob_ids
    }
    assert store.state(head) is state


def test_a_change_that_keeps_the_tree_reuses_the_cached_state(
    example: tuple[GitStore, str],
) -> None:
    store, head = example
    state = store.state(head)
    marker = store.commit({}, message="marker", author=ANN, base=head, allow_empty=True)
    assert store.state(marker) is state


def test_an_invalid_revision_raises_config_error_naming_the_file(
    example: tuple[GitStore, str],
) -> None:
    store, head = example
    broken = store.commit(
        {"nodes/fra-1.toml": b"[interfaces.backbone\n"}, message="broken", author=ANN, base=head
    )
    with pytest.raises(ConfigError) as caught:
        store.state(broken)
    assert "nodes/fra-1.toml" in str(caught.value)
    assert store.state(head).nodes


def test_symlinks_pushed_with_git_are_listed_with_their_mode_and_rejected(
    example: tuple[GitStore, str], git: Git
) -> None:
    store, _ = example
    clone = store.path.parent / "clone"
    git("clone", "-q", str(store.path), str(clone))
    (clone / "nodes" / "evil.toml").symlink_to("/etc/passwd")
    git("add", "nodes/evil.toml", cwd=clone)
    git("commit", "-q", "-m", "symlink", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    evil = next(f for f in store.files("main") if f.path == "nodes/evil.toml")
    assert (evil.mode, evil.data) == (MODE_SYMLINK, b"/etc/passwd")
    with pytest.raises(ConfigError) as caught:
        store.state("main")
    assert "nodes/evil.toml" in str(caught.value)


def test_submodules_are_listed_without_content_and_rejected(
    example: tuple[GitStore, str], git: Git
) -> None:
    store, head = example
    clone = store.path.parent / "clone"
    git("clone", "-q", str(store.path), str(clone))
    git("update-index", "--add", "--cacheinfo", f"160000,{head},nodes/sub", cwd=clone)
    git("commit", "-q", "-m", "submodule", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)
    sub = next(f for f in store.files("main") if f.path == "nodes/sub")
    assert (sub.mode, sub.data, sub.blob_id) == (MODE_SUBMODULE, b"", head)
    assert store.diff(head, "main")[0].path == "nodes/sub"
    with pytest.raises(ConfigError) as caught:
        store.state("main")
    assert "nodes/sub" in str(caught.value)


def revisions(store: GitStore, head: str, count: int) -> list[str]:
    """``count`` commits after ``head``, each a different tree (fra-1's endpoint)."""
    text = store.read_file(head, "nodes/fra-1.toml").decode()
    assert '"fra-1.example.net"' in text
    made = []
    for i in range(count):
        edited = text.replace('"fra-1.example.net"', f'"fra-x{i}.example.net"').encode()
        head = store.commit({"nodes/fra-1.toml": edited}, message=f"e{i}", author=ANN, base=head)
        made.append(head)
    return made


def alive(refs: list[weakref.ref[State]]) -> int:
    gc.collect()
    return sum(1 for ref in refs if ref() is not None)


def test_the_store_keeps_only_the_last_states_it_validated(
    example: tuple[GitStore, str],
) -> None:
    store, head = example
    refs = [weakref.ref(store.state(rev)) for rev in revisions(store, head, 12)]
    # The store keeps its last two; its validator remembers its last few valid
    # file sets for the edit shortcut (they share the parsed files).
    assert alive(refs) == max(STATES_KEPT, VALID_SIZE)
    assert alive(refs[-STATES_KEPT:]) == STATES_KEPT
    assert store.state(store.resolve("main")) is refs[-1]()


def test_revisions_read_through_a_view_are_not_kept(example: tuple[GitStore, str]) -> None:
    store, head = example
    validator = Validator()
    store = GitStore(store.repo, validator=validator)
    live = store.state(head)
    refs = [
        weakref.ref(store.state(rev, view=validator.dry())) for rev in revisions(store, head, 12)
    ]
    assert alive(refs) == 0
    assert store.state(head, view=validator.dry()) is live  # a kept state is still used
