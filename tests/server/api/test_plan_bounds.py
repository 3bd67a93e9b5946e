"""Plans in API answers are summaries of bounded size; ``?node=`` gives one node's
full plan; a dry run keeps nothing of the request once answered."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from drago.server.api.plan_summary import PLAN_BYTES, PLAN_CHANGES, PLAN_NODES
from drago.server.settings import Settings
from drago.store import Identity
from tests.server.api.conftest import Api, serving
from tests.server.joining import joining_nodes

pytestmark = pytest.mark.anyio

JOINING = 120  # more nodes than a summary lists, each with more changes than it lists


async def test_validate_answers_a_summary_of_a_large_change(api: Api) -> None:
    changes = joining_nodes(JOINING)
    answer = await api.post(
        "/api/v1/validate", json={"changes": changes}, as_="reader", timeout=120
    )
    assert answer.status_code == 200, answer.text
    plan = answer.json()["plan"]
    assert len(plan["nodes"]) == PLAN_NODES
    assert all(len(n["changes"]) <= PLAN_CHANGES for n in plan["nodes"])
    fra = next(n for n in plan["nodes"] if n["node"] == "fra-1")
    assert fra["status"] == "changed" and len(fra["changes"]) == PLAN_CHANGES
    assert fra["omitted_changes"] == JOINING - PLAN_CHANGES
    assert plan["counts"]["added"] == JOINING
    affected = plan["counts"]["added"] + plan["counts"]["changed"]
    assert plan["omitted_nodes"] == affected - PLAN_NODES == len(plan["more_nodes"])
    listed = {n["node"] for n in plan["nodes"]}
    assert {"node": "join-0119", "status": "added"} in plan["more_nodes"]
    assert listed.isdisjoint(n["node"] for n in plan["more_nodes"])
    assert plan["complete"] is False
    assert plan["limits"] == {
        "nodes": PLAN_NODES,
        "changes": PLAN_CHANGES,
        "node": None,
        "bytes": PLAN_BYTES,
    }
    assert len(answer.content) < 200_000

    one = await api.post(
        "/api/v1/validate?node=join-0119", json={"changes": changes}, as_="reader", timeout=120
    )
    assert one.status_code == 200, one.text
    only = one.json()["plan"]
    [node] = only["nodes"]
    assert node["node"] == "join-0119" and node["omitted_changes"] == 0
    peers = [c for c in node["changes"] if c["kind"] == "peer_added"]
    assert len(peers) == JOINING - 1 + 3  # the others, and the example's three core gateways
    assert only["limits"]["node"] == "join-0119"

    bad = await api.post("/api/v1/validate?node=Not_A_Name", json={"changes": {}}, as_="reader")
    assert bad.status_code == 400 and bad.json()["error"]["details"] == {"field": "node"}


async def test_a_revision_plan_is_a_summary_and_one_node_can_be_asked_for(api: Api) -> None:
    head = api.head()
    changes = {p: t.encode() for p, t in joining_nodes(30).items()}
    rev = api.ctx.store.commit(
        changes, message="thirty more", author=Identity("A", "a@example.org"), base=head
    )
    detail = (await api.get(f"/api/v1/revisions/{rev}", as_="reader")).json()
    plan = detail["plan"]
    assert len(plan["nodes"]) == PLAN_NODES and plan["omitted_nodes"] > 0
    fra = next(n for n in plan["nodes"] if n["node"] == "fra-1")
    assert fra["omitted_changes"] == 30 - PLAN_CHANGES
    whole = (await api.get(f"/api/v1/revisions/{rev}?node=fra-1", as_="reader")).json()["plan"]
    assert [n["node"] for n in whole["nodes"]] == ["fra-1"]
    assert len(whole["nodes"][0]["changes"]) == 30 and whole["nodes"][0]["omitted_changes"] == 0


async def test_a_dry_run_keeps_nothing_of_the_request(api: Api) -> None:
    changes = joining_nodes(400, prefix="tmp")
    await api.post("/api/v1/validate", json={"changes": joining_nodes(5)}, as_="reader")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        answer = await api.post(
            "/api/v1/validate", json={"changes": changes}, as_="reader", timeout=120
        )
        assert answer.status_code == 200 and answer.json()["valid"] is True
        del answer, changes
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    grown, held = peak - before, retained - before
    # The request's state (a 407-node mesh: topology, parsed files) is gone.
    assert held < grown / 10, f"{held / 1e6:.1f} MB of {grown / 1e6:.1f} MB kept"


@pytest.fixture
async def small_api(tmp_path: Path, example_repo: Path) -> AsyncIterator[Api]:
    async with serving(
        Settings(data=tmp_path / "data", init_from=example_repo, max_topology=2000)
    ) as api:
        yield api


async def test_a_change_set_whose_topology_could_be_too_large_is_refused_early(
    small_api: Api,
) -> None:
    few = await small_api.post(
        "/api/v1/validate", json={"changes": joining_nodes(20)}, as_="reader"
    )
    assert few.status_code == 200 and few.json()["valid"] is True
    many = await small_api.post(
        "/api/v1/validate", json={"changes": joining_nodes(50)}, as_="reader"
    )
    assert many.status_code == 413, many.text
    error = many.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["message"] == (
        "the changes' topology could be up to 4120 peer entries and selector matches"
        " (a full mesh of n nodes has n(n-1) peer entries), over the limit of 2000"
        " (max_topology)"
    )
    # 53 x 52 core mesh + 12 other peer entries; 2 ends x 3 connections x 55 backbone
    # members + 2 x 1 x 4 site members matched, at 4 each.
    assert error["details"] == {"topology": 53 * 52 + 12 + 4 * (330 + 8), "limit": 2000}


async def test_a_review_branch_plan_is_a_summary_and_one_node_can_be_asked_for(api: Api) -> None:
    head = api.head()
    api.ctx.store.set_branch("review/many", head, old=None)
    api.ctx.store.commit(
        {p: t.encode() for p, t in joining_nodes(30).items()},
        message="thirty more",
        author=Identity("A", "a@example.org"),
        base=head,
        branch="review/many",
    )
    review = (await api.get("/api/v1/branches/review/many/plan", as_="reader")).json()
    assert review["valid"] is True
    plan = review["plan"]
    assert len(plan["nodes"]) == PLAN_NODES and plan["counts"]["added"] == 30
    assert review["summary"].startswith("33 nodes affected: 3 changed, 30 added;")
    assert f"- ... and {30 - PLAN_CHANGES} more changes" in review["markdown"]
    assert f"... and {33 - PLAN_NODES} more nodes (" in review["markdown"]
    one = await api.get("/api/v1/branches/review/many/plan?node=fra-1", as_="reader")
    [fra] = one.json()["plan"]["nodes"]
    assert fra["node"] == "fra-1" and len(fra["changes"]) == 30


def commit_on_branch(api: Api, branch: str, changes: dict[str, str]) -> str:
    """Commit ``changes`` on a new branch from the live head (never live itself)."""
    head = api.head()
    api.ctx.store.set_branch(branch, head, old=None)
    return api.ctx.store.commit(
        {p: t.encode() for p, t in changes.items()},
        message=f"{len(changes)} more",
        author=Identity("A", "a@example.org"),
        base=head,
        branch=branch,
    )


async def test_a_review_branch_whose_topology_could_be_too_large_is_refused(
    small_api: Api,
) -> None:
    commit_on_branch(small_api, "review/few", joining_nodes(20))
    few = await small_api.get("/api/v1/branches/review/few/plan", as_="reader")
    assert few.status_code == 200 and few.json()["valid"] is True, few.text
    sha = commit_on_branch(small_api, "review/many", joining_nodes(50))
    many = await small_api.get("/api/v1/branches/review/many/plan", as_="reader")
    assert many.status_code == 413, many.text
    error = many.json()["error"]
    assert error["code"] == "payload_too_large"
    assert error["message"].startswith("branch review/many's topology could be up to 4120")
    assert error["message"].endswith("over the limit of 2000 (max_topology)")
    merge = await small_api.post(
        "/api/v1/branches/review/many/merge", json={"head": sha}, as_="admin"
    )
    assert merge.status_code == 413, merge.text
    assert small_api.ctx.store.head("main") == small_api.head() != sha


async def test_a_revision_whose_topology_could_be_too_large_is_refused(small_api: Api) -> None:
    few = commit_on_branch(small_api, "side/few", joining_nodes(20))
    answer = await small_api.get(f"/api/v1/revisions/{few}", as_="reader")
    assert answer.status_code == 200 and answer.json()["plan"] is not None, answer.text
    many = commit_on_branch(small_api, "side/many", joining_nodes(50))
    refused = await small_api.get(f"/api/v1/revisions/{many}", as_="reader")
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["message"].startswith(
        f"revision {many[:12]}'s topology could be up to 4120"
    )
