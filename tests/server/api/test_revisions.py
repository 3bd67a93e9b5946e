"""History, one revision's diff and plan, reverts, and the dry-run validation."""

from __future__ import annotations

import gc

import pytest

from drago.model.state import State
from drago.signing import ServerKey
from drago.store import Identity
from tests.server.api.conftest import Api

pytestmark = pytest.mark.anyio

KEY = "kZ8x3cFq1X0h0Yd3JwBv1g4Vb9m2uQk7sR5tP6oL8nA="


async def _edit_endpoint(api: Api, node: str, endpoint: str) -> str:
    spec = (await api.get(f"/api/v1/nodes/{node}")).json()["spec"]
    spec["endpoint"] = endpoint
    answer = await api.put(f"/api/v1/nodes/{node}", json={"spec": spec})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["revision"])


async def test_history_lists_commits_with_filters(api: Api) -> None:
    first = api.head()
    second = await _edit_endpoint(api, "fra-1", "fra-9.example.net")
    await api.put("/api/v1/nodes/laptop-ben/keys/site", json={"public_key": KEY})
    third = api.head()

    everything = (await api.get("/api/v1/revisions", as_="reader")).json()["revisions"]
    assert [r["id"] for r in everything] == [third, second, first]
    latest = everything[0]
    assert latest["author"]["name"] == "admin token"
    assert latest["paths"] == ["keys/laptop-ben.toml"]
    assert latest["signature"] == "server"
    assert latest["message"].startswith("keys: register laptop-ben site")

    by_path = (await api.get("/api/v1/revisions?path=nodes/fra-1.toml")).json()["revisions"]
    assert [r["id"] for r in by_path] == [second, first]
    by_node = (await api.get("/api/v1/revisions?node=laptop-ben")).json()["revisions"]
    assert [r["id"] for r in by_node] == [third, first]
    limited = (await api.get("/api/v1/revisions?limit=1")).json()["revisions"]
    assert [r["id"] for r in limited] == [third]
    older = (await api.get(f"/api/v1/revisions?before={second}")).json()["revisions"]
    assert [r["id"] for r in older] == [first]
    assert (await api.get("/api/v1/revisions?limit=0")).status_code == 400
    assert (await api.get("/api/v1/revisions?node=Bad..")).status_code == 400


async def test_revision_detail_has_diffs_and_plan(api: Api) -> None:
    revision = await _edit_endpoint(api, "fra-1", "fra-9.example.net")
    answer = await api.get(f"/api/v1/revisions/{revision[:10]}", as_="reader")
    assert answer.status_code == 200, answer.text
    detail = answer.json()
    assert detail["id"] == revision
    assert [f["path"] for f in detail["files"]] == ["nodes/fra-1.toml"]
    diff = detail["files"][0]["diff"]
    assert '-endpoint = "fra-1.example.net"' in diff
    assert '+endpoint = "fra-9.example.net"' in diff
    changed = {n["node"] for n in detail["plan"]["nodes"]}
    assert "nyc-1" in changed and "fra-1" not in changed
    texts = [c["text"] for n in detail["plan"]["nodes"] for c in n["changes"]]
    assert any("fra-9.example.net" in t for t in texts)
    assert (await api.get("/api/v1/revisions/deadbeef00")).status_code == 404


async def test_revert_undoes_a_commit_and_refuses_when_it_does_not_apply(api: Api) -> None:
    original = api.text("nodes/fra-1.toml")
    revision = await _edit_endpoint(api, "fra-1", "fra-9.example.net")
    reverted = await api.post(f"/api/v1/revisions/{revision}/revert")
    assert reverted.status_code == 201, reverted.text
    assert api.text("nodes/fra-1.toml") == original
    message = api.ctx.store.history(limit=1)[0].message
    assert message.startswith('Revert "api: update nodes/fra-1.toml"')
    assert revision in message

    later = await _edit_endpoint(api, "nyc-1", "nyc-9.example.net")
    await _edit_endpoint(api, "nyc-1", "nyc-8.example.net")
    conflict = await api.post(f"/api/v1/revisions/{later}/revert")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["details"]["path"] == "nodes/nyc-1.toml"


async def test_validate_is_a_dry_run(api: Api) -> None:
    before = api.head()
    text = (api.text("nodes/fra-1.toml") or "").replace("fra-1.example.net", "fra-7.example.net")
    ok = await api.post("/api/v1/validate", json={"changes": {"nodes/fra-1.toml": text}})
    assert ok.status_code == 200, ok.text
    result = ok.json()
    assert result["valid"] is True and result["problems"] == []
    assert result["base"] == before
    assert {n["node"] for n in result["plan"]["nodes"]} >= {"nyc-1"}

    broken = text.replace("10.20.0.1/16", "10.99.0.1/16")
    bad = (
        await api.post(
            "/api/v1/validate",
            json={"changes": {"nodes/fra-1.toml": broken, "nodes/laptop-ben.toml": None}},
            as_="reader",
        )
    ).json()
    assert bad["valid"] is False and bad["plan"] is None
    assert {"path": "nodes/fra-1.toml", "key": "interfaces.backbone.address"}.items() <= bad[
        "problems"
    ][0].items()
    assert api.head() == before


async def test_detail_of_an_invalid_branch_commit_lists_its_problems(api: Api) -> None:
    head = api.head()
    broken = (api.text("nodes/fra-1.toml") or "").replace("10.20.0.1/16", "10.99.0.1/16")
    api.ctx.store.set_branch("review", head, old=None)
    commit = api.ctx.store.commit(
        {"nodes/fra-1.toml": broken.encode()},
        message="try a new range",
        author=Identity("Dev", "dev@example.org"),
        base=head,
        branch="review",
    )
    answer = await api.get(f"/api/v1/revisions/{commit}")
    assert answer.status_code == 200, answer.text
    detail = answer.json()
    assert detail["plan"] is None
    assert detail["signature"] == "unsigned"
    assert ("nodes/fra-1.toml", "interfaces.backbone.address") in {
        (p["path"], p["key"]) for p in detail["problems"]
    }
    assert api.head() == head


async def test_signature_status_of_trusted_untrusted_and_unsigned_commits(api: Api) -> None:
    trusted = ServerKey.generate(principal="dev@example.org")
    stranger = ServerKey.generate(principal="eve@example.org")
    api.ctx.datadir.allowed_signers.write_text(trusted.allowed_signers_line() + "\n")
    author = Identity("Dev", "dev@example.org")
    statuses = {}
    for label, sign in (("trusted", trusted.sign), ("stranger", stranger.sign), ("none", None)):
        text = (api.text("nodes/sgp-1.toml") or "") + f"# {label}\n"
        statuses[label] = api.ctx.store.commit(
            {"nodes/sgp-1.toml": text.encode()},
            message=label,
            author=author,
            base=api.head(),
            sign=sign,
        )
    revisions = (await api.get("/api/v1/revisions?limit=3")).json()["revisions"]
    found = {r["id"]: r["signature"] for r in revisions}
    assert found == {
        statuses["trusted"]: "verified",
        statuses["stranger"]: "unverified",
        statuses["none"]: "unsigned",
    }


async def test_a_huge_ancestor_count_is_400_not_500(api: Api) -> None:
    answer = await api.get("/api/v1/revisions/HEAD~" + "9" * 4400, as_="reader")
    assert answer.status_code == 400, answer.text
    assert "at most 9 digits" in answer.json()["error"]["message"]


def states_alive() -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, State))


async def test_reading_old_revisions_keeps_none_of_their_states(api: Api) -> None:
    old = [await _edit_endpoint(api, "fra-1", f"fra-x{i}.example.net") for i in range(12)]
    await _edit_endpoint(api, "fra-1", "fra-1.example.net")
    before = states_alive()
    for rev in old:
        answer = await api.get(f"/api/v1/revisions/{rev}", as_="reader")
        assert answer.status_code == 200 and answer.json()["plan"] is not None, answer.text
    # Each was validated and planned through a dry view: nothing of them is kept.
    assert states_alive() - before <= 1
