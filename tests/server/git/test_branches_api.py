"""Review branches through the API: list, plan, merge (fast-forward and squash); signers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from drago.signing import ServerKey
from tests.server.git.conftest import GitServer
from tests.server.git.gitenv import GitUser

pytestmark = pytest.mark.e2e


def api(server: GitServer, method: str, path: str, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token or server.admin}"}
    return httpx.request(method, f"{server.base}/api/v1{path}", headers=headers, timeout=30)


def push_branch(
    server: GitServer, user: GitUser, work: Path, branch: str, *, sign: bool, old: str, new: str
) -> str:
    if not work.exists():
        user.git("clone", "-q", server.url(server.admin), str(work))
    target = work / "nodes" / "fra-1.toml"
    target.write_text(target.read_text().replace(old, new))
    user.git("commit", "-q", *(["-S"] if sign else []), "-am", f"{branch}: {new}", cwd=work)
    user.git("push", "-q", "origin", f"HEAD:{branch}", cwd=work)
    return user.git("rev-parse", "HEAD", cwd=work).out.strip()


ENDPOINT = '"fra-1.example.net"'


def test_plan_and_squash_merge_of_an_unsigned_branch(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    tip = push_branch(
        git_server, alice, work, "review/move", sign=False, old=ENDPOINT, new='"fra-2.example.net"'
    )
    listed = api(git_server, "GET", "/branches", git_server.reader).json()
    assert {"name": "review/move", "head": tip, "live": False} in listed["branches"]

    plan: dict[str, Any] = api(git_server, "GET", "/branches/review/move/plan").json()
    assert plan["valid"] is True
    assert plan["merge"] == "squash"
    assert plan["commits"][0]["id"] == tip
    assert plan["commits"][0]["signature_problem"] == "unsigned commit"
    changed = {n["node"] for n in plan["plan"]["nodes"]}
    assert "nyc-1" in changed  # its peer fra-1 got a new endpoint
    assert "fra-2.example.net" in plan["markdown"]

    assert (
        api(git_server, "POST", "/branches/review/move/merge", git_server.reader).status_code == 403
    )
    merged = api(git_server, "POST", "/branches/review/move/merge")
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["mode"] == "squash"
    store = git_server.ctx.store
    head = store.head("main")
    assert head is not None
    assert body["revision"] == head != tip
    assert git_server.ctx.live.revision == head
    assert not store.is_ancestor(tip, head)  # the unsigned commit stays out of main
    info = store.commit_info(head)
    assert tip[:7] in info.message and "review/move" in info.message
    assert info.author.email == "admin@drago.invalid"
    key = git_server.ctx.server_key
    assert isinstance(key, ServerKey)
    allowed = tmp_path / "allowed"
    allowed.write_text(key.allowed_signers_line() + "\n")
    alice.git("pull", "-q", "--rebase=false", "origin", "main", cwd=work)
    verified = alice.git(
        "-c", f"gpg.ssh.allowedSignersFile={allowed}", "verify-commit", head, cwd=work
    )
    assert "Good" in verified.text


def test_fast_forward_merge_of_a_trusted_signed_branch(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    tip = push_branch(
        git_server, alice, tmp_path / "w", "review/ff", sign=True, old=ENDPOINT, new='"f.example"'
    )
    plan = api(git_server, "GET", "/branches/review/ff/plan").json()
    assert plan["merge"] == "fast-forward"
    assert plan["commits"][0]["signed_by"] == "alice@example.com"
    merged = api(git_server, "POST", "/branches/review/ff/merge").json()
    assert merged == {"mode": "fast-forward", "revision": tip, "commits": [tip]}
    assert git_server.ctx.store.head("main") == tip
    assert git_server.ctx.live.revision == tip


def test_invalid_branch_shows_problems_and_cannot_merge(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    push_branch(
        git_server, alice, tmp_path / "w", "bad", sign=False, old='"10.20.0.1/16"', new='"nope"'
    )
    plan = api(git_server, "GET", "/branches/bad/plan").json()
    assert plan["valid"] is False
    assert plan["merge"] is None and plan["plan"] is None
    assert any(p["path"] == "nodes/fra-1.toml" for p in plan["problems"])
    before = git_server.ctx.store.head("main")
    refused = api(git_server, "POST", "/branches/bad/merge")
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["path"] == "nodes/fra-1.toml"
    assert git_server.ctx.store.head("main") == before


def test_squash_conflicts_when_main_changed_the_same_file(
    git_server: GitServer, alice: GitUser, tmp_path: Path
) -> None:
    git_server.trust(alice)
    work = tmp_path / "w"
    push_branch(git_server, alice, work, "review/one", sign=False, old=ENDPOINT, new='"a.example"')
    alice.git("reset", "-q", "--hard", "origin/main", cwd=work)
    push_branch(git_server, alice, work, "main", sign=True, old=ENDPOINT, new='"b.example"')
    plan = api(git_server, "GET", "/branches/review/one/plan").json()
    assert plan["up_to_date"] is False
    response = api(git_server, "POST", "/branches/review/one/merge")
    assert response.status_code == 409
    assert "nodes/fra-1.toml changed on both" in response.json()["error"]["message"]


def test_unknown_branch_and_live_branch(git_server: GitServer) -> None:
    assert api(git_server, "GET", "/branches/nope/plan").status_code == 404
    assert api(git_server, "GET", "/branches/main/plan").status_code == 400


def test_signers_lists_the_server_key_and_trusted_signers(
    git_server: GitServer, alice: GitUser
) -> None:
    git_server.trust(alice)
    body = api(git_server, "GET", "/signers", git_server.reader).json()
    key = git_server.ctx.server_key
    assert isinstance(key, ServerKey)
    assert body["server_key"] == key.public_line()
    servers = [s for s in body["signers"] if s["server"]]
    assert servers[0]["principals"] == [key.principal]
    emails = [s["principals"] for s in body["signers"] if not s["server"]]
    assert emails == [["alice@example.com"]]
    assert alice.pubkey.read_text().split()[1] in body["allowed_signers"]
    assert api(git_server, "GET", "/signers", git_server.node).status_code == 403


def test_branches_are_read_off_the_event_loop(
    git_server: GitServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = git_server.ctx.store
    read = store.branches
    on_loop: list[bool] = []

    def branches() -> dict[str, str]:
        on_loop.append(asyncio_running())
        return read()

    monkeypatch.setattr(store, "branches", branches)
    assert api(git_server, "GET", "/branches", git_server.reader).status_code == 200
    assert on_loop == [False]


def asyncio_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
