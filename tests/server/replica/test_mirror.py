"""The mirror: the primary's branches over smart HTTP, checked like a push, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dulwich.objects import ObjectID
from pydantic import SecretStr

from drago.errors import PayloadTooLarge, PushRejected
from drago.server.app import open_context
from drago.server.context import ServerContext
from drago.server.replica.mirror import Haves, Mirror
from drago.server.settings import Settings
from drago.signing import ServerKey
from drago.store import Identity
from tests.server.git.conftest import GitServer
from tests.server.replica.conftest import trust_server_key

pytestmark = pytest.mark.e2e

TESTER = Identity("Tess", "tess@example.com")


@pytest.fixture
def local(primary: GitServer, tmp_path: Path) -> Iterator[ServerContext]:
    """A replica's context, not serving: only its store, trust and validator are used."""
    settings = Settings(
        data=tmp_path / "replica", replica_of=primary.base, replica_token=SecretStr(primary.reader)
    )
    ctx = open_context(settings).ctx
    trust_server_key(ctx, primary.ctx)
    try:
        yield ctx
    finally:
        ctx.store.close()
        if ctx.database is not None:
            ctx.database.close()


def mirror(ctx: ServerContext, primary: GitServer, max_bytes: int = 1 << 30) -> Mirror:
    return Mirror(
        ctx.store,
        ctx.trust,
        url=primary.base,
        token=primary.reader,
        branch="main",
        validator=ctx.validator,
        timeout=10,
        max_bytes=max_bytes,
    )


def no_quarantine_left(ctx: ServerContext) -> bool:
    return not list((ctx.store.path / "objects").glob("incoming-*"))


def test_the_first_sync_brings_the_live_branch_checked_then_nothing_moves(
    primary: GitServer, local: ServerContext
) -> None:
    head = primary.ctx.store.head()
    synced = mirror(local, primary).sync()
    assert synced.primary_head == head
    assert synced.live is not None and synced.live[0] == head
    assert synced.live[1].nodes.keys() == primary.ctx.live.state.nodes.keys()
    assert synced.commits == 1
    assert local.store.head() == head
    again = mirror(local, primary).sync()
    assert (again.moved, again.live, again.primary_head) == ([], None, head)
    assert no_quarantine_left(local)


def test_other_branches_follow_the_primary_and_are_never_live(
    primary: GitServer, local: ServerContext
) -> None:
    head = primary.ctx.store.head()
    assert head is not None
    mirror(local, primary).sync()
    unsigned = primary.ctx.store.commit(
        {"nodes/sgp-1.toml": primary.ctx.store.read_file(head, "nodes/sgp-1.toml") + b"\n# x\n"},
        message="an unsigned review",
        author=TESTER,
        base=None,
        branch="review",
        parents=[head],
    )
    synced = mirror(local, primary).sync()
    assert [u.ref for u in synced.moved] == ["refs/heads/review"]
    assert synced.live is None
    assert local.store.branches()["review"] == unsigned
    primary.ctx.store.delete_branch("review", old=unsigned)
    synced = mirror(local, primary).sync()
    assert [(u.ref, u.new) for u in synced.moved] == [("refs/heads/review", None)]
    assert "review" not in local.store.branches()


def test_a_rewritten_live_branch_is_refused_and_nothing_moves(
    primary: GitServer, local: ServerContext
) -> None:
    head = primary.ctx.store.head()
    assert head is not None
    mirror(local, primary).sync()
    # This server's main gets a commit the primary never had: the primary's next
    # revision is then not a fast-forward of it.
    mine = local.store.commit(
        {"nodes/sgp-1.toml": local.store.read_file(head, "nodes/sgp-1.toml") + b"\n# mine\n"},
        message="local",
        author=TESTER,
        base=head,
    )
    theirs = primary.ctx.store.commit(
        {"nodes/nyc-1.toml": primary.ctx.store.read_file(head, "nodes/nyc-1.toml") + b"\n# x\n"},
        message="theirs",
        author=TESTER,
        base=head,
        sign=primary.ctx.server_key.sign if primary.ctx.server_key else None,
        committer=primary.ctx.server_identity,
    )
    with pytest.raises(PushRejected, match="non-fast-forward"):
        mirror(local, primary).sync()
    assert local.store.head() == mine
    assert not local.store.has_commit(theirs)
    assert no_quarantine_left(local)


def test_a_fetch_over_the_size_limit_is_refused_and_keeps_nothing(
    primary: GitServer, local: ServerContext
) -> None:
    with pytest.raises(PayloadTooLarge, match="more than 100 bytes"):
        mirror(local, primary, max_bytes=100).sync()
    assert local.store.head() is None
    assert no_quarantine_left(local)


def test_history_signed_by_a_key_removed_since_still_mirrors_under_a_trusted_tip(
    primary: GitServer, local: ServerContext
) -> None:
    """The primary accepted a commit signed by a key it trusted then; the key was
    removed later. A new replica does not trust it, yet joins: only the tip's
    signature is verified (it covers the history by hash). A tip signed by that
    key is still refused."""
    store = primary.ctx.store
    head = store.head()
    assert head is not None and primary.ctx.server_key is not None
    removed = ServerKey.generate(principal="former@example.com")
    old = store.commit(
        {"nodes/sgp-1.toml": store.read_file(head, "nodes/sgp-1.toml") + b"\n# old\n"},
        message="signed by a key trusted then",
        author=TESTER,
        base=head,
        sign=removed.sign,
    )
    with pytest.raises(PushRejected, match="is not a trusted signer"):
        mirror(local, primary).sync()
    assert local.store.head() is None
    tip = store.commit(
        {"nodes/nyc-1.toml": store.read_file(old, "nodes/nyc-1.toml") + b"\n# new\n"},
        message="signed by the primary",
        author=TESTER,
        base=old,
        sign=primary.ctx.server_key.sign,
        committer=primary.ctx.server_identity,
    )
    synced = mirror(local, primary).sync()
    assert synced.live is not None and synced.live[0] == tip
    assert local.store.head() == tip


def packs(ctx: ServerContext) -> list[str]:
    return sorted(p.name for p in (ctx.store.path / "objects" / "pack").glob("*.pack"))


def test_small_fetches_become_loose_objects_not_one_pack_each(
    primary: GitServer, local: ServerContext
) -> None:
    """The first sync brings a pack; each later one a few objects, kept loose
    (git's unpackLimit), so the packs do not pile up one per sync."""
    store = primary.ctx.store
    mirror(local, primary).sync()
    first = packs(local)
    head = store.head()
    assert head is not None and primary.ctx.server_key is not None
    for i in range(3):
        head = store.commit(
            {"nodes/sgp-1.toml": store.read_file(head, "nodes/sgp-1.toml") + f"\n# {i}\n".encode()},
            message=f"change {i}",
            author=TESTER,
            base=head,
            sign=primary.ctx.server_key.sign,
            committer=primary.ctx.server_identity,
        )
        synced = mirror(local, primary).sync()
        assert synced.live is not None and synced.live[0] == head
        assert synced.commits == 1
    assert packs(local) == first
    assert local.store.head() == head
    assert local.store.read_file(head, "nodes/sgp-1.toml").endswith(b"\n# 2\n")
    assert no_quarantine_left(local)


def test_the_haves_are_the_heads_alone() -> None:
    """dulwich's own walker would go on with up to 256 ancestors of each head."""
    heads = [ObjectID(b"a" * 40), ObjectID(b"b" * 40)]
    haves = Haves(heads)
    haves.ack(heads[0])
    assert [next(haves), next(haves), next(haves)] == [*heads, None]
