from __future__ import annotations

import threading

from drago.store import GitStore, Identity
from drago.store.objects import LRUCache
from tests.store.conftest import ANN


def test_lru_cache_evicts_the_least_recently_used_by_weight() -> None:
    cache: LRUCache[str, bytes] = LRUCache(10, len)
    cache.put("a", b"aaaa")
    cache.put("b", b"bbbb")
    assert cache.get("a") == b"aaaa"
    cache.put("c", b"cccc")
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (b"aaaa", b"cccc")
    cache.put("huge", b"x" * 11)
    assert cache.get("huge") is None
    assert len(cache) == 2


def test_identities_from_history_are_parsed_leniently() -> None:
    assert Identity.from_git(b"Ann Example <ann@example.net>") == ANN
    assert Identity.from_git(b"<nobody@example.net>") == Identity._unchecked(
        "", "nobody@example.net"
    )
    odd = Identity.from_git(b"no email here")
    assert (odd.name, odd.email) == ("no email here", "")
    assert str(ANN) == "Ann Example <ann@example.net>"


def test_reads_from_many_threads_while_commits_land(seeded: tuple[GitStore, str]) -> None:
    store, first = seeded
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                head = store.head()
                assert head is not None
                paths = [f.path for f in store.files(head)]
                assert "networks/backbone.toml" in paths
                store.history(head, limit=5)
                store.diff(first, head)
        except BaseException as error:
            errors.append(error)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    head = first
    for i in range(40):
        head = store.commit({f"nodes/n{i}.toml": b"x"}, message=f"{i}", author=ANN, base=head)
    done.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert len(store.history(limit=100)) == 41
