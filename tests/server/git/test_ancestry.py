"""Fetches bounded by the store's commit graph still send exactly what git needs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dulwich.config import ConfigFile
from dulwich.objects import ObjectID

from drago.server.git.ancestry import FetchObjects
from drago.store import Identity
from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser

pytestmark = pytest.mark.e2e

API = Identity("api", "api@example.com")


def commits(server: GitServer, count: int, tag: str) -> list[str]:
    """``count`` commits on the live branch, each changing one file (and one more
    file every tenth, so trees and blobs of old revisions come back)."""
    store = server.ctx.store
    head = store.head()
    made = []
    for i in range(count):
        changes = {f"notes/{tag}.md": f"{tag} {i}\n".encode()}
        if i % 10 == 0:
            changes["notes/shared.md"] = f"shared {i % 20}\n".encode()
        head = store.commit(changes, message=f"{tag} {i}", author=API, base=head)
        made.append(head)
    return made


def loose_objects(user: GitUser, work: Path) -> int:
    """Loose objects in a clone: git keeps a fetched pack of fewer than 100 loose."""
    counts = dict(
        line.split(": ") for line in user.git("count-objects", "-v", cwd=work).out.splitlines()
    )
    return int(counts["count"])


def complete(user: GitUser, work: Path, rev: str) -> None:
    """The clone has ``rev`` and every object it reaches (git checks connectivity)."""
    user.git("fsck", "--connectivity-only", "--no-dangling", rev, cwd=work)
    assert user.git("rev-parse", "origin/main", cwd=work).out.strip() == rev


def test_clone_then_fetches_after_many_commits_and_from_an_old_have(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    url = git_server.url(git_server.reader)
    fresh, stale = tmp_path / "fresh", tmp_path / "stale"
    alice.git("clone", "-q", "--bare", url, str(stale))
    alice.git("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*", cwd=stale)
    first = commits(git_server, 30, "a")
    alice.git("clone", "-q", "--bare", url, str(fresh))
    alice.git("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*", cwd=fresh)
    alice.git("fetch", "-q", "origin", cwd=fresh)
    complete(alice, fresh, first[-1])
    for round_ in range(3):  # small fetches, as a replica makes them: exactly what is new
        before = alice.git("rev-parse", "origin/main", cwd=fresh).out.strip()
        loose = loose_objects(alice, fresh)
        last = commits(git_server, 1 + round_, f"b{round_}")[-1]
        alice.git("fetch", "-q", "origin", cwd=fresh)
        complete(alice, fresh, last)
        new = alice.git("rev-list", "--objects", last, f"^{before}", cwd=fresh).out.splitlines()
        assert loose_objects(alice, fresh) - loose == len(new)
    last = commits(git_server, 120, "c")[-1]
    alice.git("fetch", "-q", "origin", cwd=fresh)
    complete(alice, fresh, last)
    # A clone made before all of it: its only have is the first revision.
    alice.git("fetch", "-q", "origin", cwd=stale)
    complete(alice, stale, last)
    assert (
        alice.git("rev-list", "--count", "origin/main", cwd=stale).out
        == alice.git("rev-list", "--count", "origin/main", cwd=fresh).out
    )


def test_a_fetch_of_a_review_branch_forked_from_old_history(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    """The want forks from an old revision the client has; its have is the newer tip."""
    store = git_server.ctx.store
    url = git_server.url(git_server.reader)
    old = commits(git_server, 5, "old")[0]
    commits(git_server, 40, "new")
    work = tmp_path / "w"
    alice.git("clone", "-q", "--bare", url, str(work))
    alice.git("config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*", cwd=work)
    fork = store.commit(
        {"notes/review.md": b"a review\n"},
        message="review",
        author=API,
        base=None,
        branch="review",
        parents=[old],
    )
    alice.git("fetch", "-q", "origin", cwd=work)
    alice.git("fsck", "--connectivity-only", "--no-dangling", fork, cwd=work)
    assert alice.git("rev-parse", "origin/review", cwd=work).out.strip() == fork


def test_the_fetch_store_knows_loose_and_packed_objects_by_their_files(
    git_server: GitServer, alice: GitUser
) -> None:
    store = git_server.ctx.store
    loose = commits(git_server, 1, "loose")[0]
    root = str(store.path)
    objects = FetchObjects.from_config(
        os.path.join(root, "objects"), ConfigFile.from_path(os.path.join(root, "config"))
    )
    try:
        assert ObjectID(loose.encode()) in objects
        assert ObjectID(b"0" * 39 + b"1") not in objects
        alice.git("repack", "-a", "-d", "-q", cwd=store.path)
        assert not (store.path / "objects" / loose[:2] / loose[2:]).exists()
        assert ObjectID(loose.encode()) in objects
    finally:
        objects.close()


def test_a_fetch_that_wants_an_annotated_tag_takes_the_full_walk(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    """A want that is not a commit is not the commit graph's to bound."""
    url = git_server.url(git_server.reader)
    work = tmp_path / "w"
    alice.git("clone", "-q", "--bare", url, str(work))
    last = commits(git_server, 3, "tagged")[-1]
    repo = git_server.ctx.store.path
    alice.git("tag", "-a", "-m", "a release", "v1", last, cwd=repo)
    alice.git("fetch", "-q", "origin", "refs/tags/v1:refs/tags/v1", cwd=work)
    alice.git("fsck", "--connectivity-only", "--no-dangling", "v1", cwd=work)
    assert alice.git("rev-parse", "v1^{commit}", cwd=work).out.strip() == last
