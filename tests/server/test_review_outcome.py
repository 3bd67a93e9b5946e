"""The review of a branch shows what its merge would make of main, not the branch's own tree."""

from __future__ import annotations

import time
from typing import Any

import pytest

from drago.store import Identity
from tests.server.git.conftest import GitServer
from tests.server.git.test_branches_api import api

pytestmark = pytest.mark.e2e

ALICE = Identity("Alice", "alice@example.com")


def commit_on(server: GitServer, branch: str, changes: dict[str, bytes | None]) -> str:
    """Commit ``changes`` on ``branch`` (created from main when missing)."""
    store = server.ctx.store
    head = store.head(branch)
    if head is None:
        main = store.head("main")
        assert main is not None
        store.set_branch(branch, main, old=None)
        head = main
    return store.commit(changes, message=f"edit {branch}", author=ALICE, base=head, branch=branch)


def edit(server: GitServer, path: str, old: str, new: str) -> bytes:
    text = server.ctx.store.read_file("main", path).decode()
    assert old in text
    return text.replace(old, new).encode()


def advance_main(server: GitServer, changes: dict[str, bytes | None]) -> str:
    """Commit on main behind the server's back and wait until it is live."""
    head = commit_on(server, "main", changes)
    deadline = time.monotonic() + 10
    while server.ctx.live.revision != head:
        assert time.monotonic() < deadline, "the watcher did not pick up the new main"
        time.sleep(0.02)
    return head


def test_stale_branch_plan_keeps_later_main_commits(git_server: GitServer) -> None:
    fra = edit(git_server, "nodes/fra-1.toml", '"fra-1.example.net"', '"fra-new.example"')
    commit_on(git_server, "review/stale", {"nodes/fra-1.toml": fra})
    nyc = edit(git_server, "nodes/nyc-1.toml", '"nyc-1.example.net"', '"nyc-new.example"')
    advance_main(git_server, {"nodes/nyc-1.toml": nyc})

    plan: dict[str, Any] = api(git_server, "GET", "/branches/review/stale/plan").json()
    assert "fra-new.example" in plan["markdown"]
    # The branch's tree still has nyc-1's old endpoint; main's newer one stays.
    assert "nyc-1.example.net" not in plan["markdown"]
    assert "nyc-new.example" not in plan["markdown"]
    assert plan["up_to_date"] is False
    assert plan["valid"] is True and plan["conflict"] is None
    assert plan["merge"] == "squash"

    merged = api(git_server, "POST", "/branches/review/stale/merge")
    assert merged.status_code == 200, merged.text
    store = git_server.ctx.store
    assert b"nyc-new.example" in store.read_file("main", "nodes/nyc-1.toml")
    assert b"fra-new.example" in store.read_file("main", "nodes/fra-1.toml")


def test_stale_branch_is_invalid_when_its_merge_would_be(git_server: GitServer) -> None:
    """Each side alone is valid; together two nodes share one address."""
    node = b'description = "new"\n\n[interfaces.backbone]\naddress = "10.20.0.77/16"\n'
    commit_on(git_server, "review/clash", {"nodes/new-a.toml": node})
    advance_main(git_server, {"nodes/new-b.toml": node})

    plan: dict[str, Any] = api(git_server, "GET", "/branches/review/clash/plan").json()
    assert plan["valid"] is False
    assert plan["merge"] is None and plan["plan"] is None
    assert {p["path"] for p in plan["problems"]} & {"nodes/new-a.toml", "nodes/new-b.toml"}
    before = git_server.ctx.store.head("main")
    refused = api(git_server, "POST", "/branches/review/clash/merge")
    assert refused.status_code == 422
    assert git_server.ctx.store.head("main") == before


def test_conflict_is_reported_by_the_review(git_server: GitServer) -> None:
    path = "nodes/fra-1.toml"
    commit_on(git_server, "review/both", {path: edit(git_server, path, "fra-1.example", "a.ex")})
    advance_main(git_server, {path: edit(git_server, path, "fra-1.example", "b.ex")})

    plan: dict[str, Any] = api(git_server, "GET", "/branches/review/both/plan").json()
    assert plan["valid"] is False and plan["merge"] is None and plan["plan"] is None
    assert "nodes/fra-1.toml changed on both" in plan["conflict"]
    refused = api(git_server, "POST", "/branches/review/both/merge")
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == plan["conflict"]
