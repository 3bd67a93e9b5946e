"""The commit graph's bound for a fetch's walk: the same answer as all of history."""

from __future__ import annotations

import random

from drago.store import GitStore
from tests.store.conftest import ANN


def ancestors(parents: dict[str, list[str]], heads: list[str]) -> set[str]:
    found: set[str] = set()
    stack = list(heads)
    while stack:
        sha = stack.pop()
        if sha not in found:
            found.add(sha)
            stack.extend(parents[sha])
    return found


def walk_back(
    parents: dict[str, list[str]], wants: list[str], stop: set[str]
) -> tuple[set[str], set[str]]:
    """What upload-pack's walk from the wants finds: the commits it sends and
    the common commits it meets."""
    send: set[str] = set()
    met: set[str] = set()
    stack = list(wants)
    while stack:
        sha = stack.pop()
        if sha in stop:
            met.add(sha)
        elif sha not in send:
            send.add(sha)
            stack.extend(parents[sha])
    return send, met


def test_the_bounded_ancestors_give_the_walk_of_the_full_ones(store: GitStore) -> None:
    """Random histories with merges and side branches: stopping at the bounded
    set finds what stopping at every ancestor of the haves finds, and the bound
    is small when the wants are a few commits ahead of a have."""
    rng = random.Random(11)
    parents: dict[str, list[str]] = {}
    order: list[str] = []
    for i in range(150):
        if not order:
            chosen: list[str] = []
        elif len(order) > 3 and rng.random() < 0.2:
            chosen = rng.sample(order[-20:], 2)  # a merge
        else:
            chosen = [order[-1] if rng.random() < 0.8 else rng.choice(order)]
        sha = store.commit(
            {f"f{i % 7}.md": f"{i}\n".encode()},
            message=str(i),
            author=ANN,
            base=None,
            branch=f"b{i}",
            parents=chosen,
            allow_empty=True,
        )
        parents[sha] = chosen
        order.append(sha)
    for _ in range(60):
        haves = rng.sample(order, rng.randint(1, 4))
        wants = rng.sample(order, rng.randint(1, 3))
        full = ancestors(parents, haves)
        bounded = store.have_ancestors(haves, toward=wants)
        assert bounded <= full
        assert walk_back(parents, wants, bounded) == walk_back(parents, wants, full)
    assert store.have_ancestors([], toward=order[-1:]) == set()
    tip = order[-1]
    ahead = store.commit(
        {"new.md": b"x\n"}, message="x", author=ANN, base=None, branch="x", parents=[tip]
    )
    assert store.have_ancestors([tip], toward=[ahead]) == {tip}
