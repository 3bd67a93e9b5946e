from __future__ import annotations

import copy
import json
from typing import Any

from drago.render import Renderer, render_state
from drago.render.configdiff import Limits, plan_configs
from tests.render.states import key_for, make_state

NET = {
    "address_range": "10.20.0.0/16",
    "persistent_keepalive": 25,
    "connections": [{"between": ["*", "*"]}],
}
NODES: dict[str, dict[str, Any]] = {
    "fra-1": {"endpoint": "1.2.3.3", "interfaces": {"bb": {"address": "10.20.0.1/16"}}},
    "nyc-1": {"endpoint": "1.2.3.4", "interfaces": {"bb": {"address": "10.20.0.2/16"}}},
    "sgp-1": {"endpoint": "1.2.3.5", "interfaces": {"bb": {"address": "10.20.0.3/16"}}},
}
KEYS = {n: {"bb": key_for(n)} for n in NODES}


def configs(
    nodes: dict[str, dict[str, Any]] | None = None,
    keys: dict[str, dict[str, str]] | None = None,
    net: dict[str, Any] | None = None,
) -> Any:
    return render_state(make_state({"bb": net or NET}, nodes or NODES, keys or KEYS))


def test_no_changes() -> None:
    plan = plan_configs(configs(), configs())
    assert plan.is_empty and plan.unchanged == 3
    assert plan.to_text() == "3 nodes unchanged\n"
    assert plan.to_dict() == {
        "nodes": [],
        "unchanged": 3,
        "counts": {"changed": 0, "added": 0, "removed": 0},
        "omitted_nodes": 0,
        "more_nodes": [],
        "complete": True,
        "limits": {"nodes": None, "changes": None, "node": None, "bytes": None},
    }
    assert plan.to_markdown() == "**drago plan:** No changes (3 nodes unchanged).\n"


def test_endpoint_change_is_one_line_per_affected_node() -> None:
    nodes = copy.deepcopy(NODES)
    nodes["nyc-1"]["endpoint"] = "5.6.7.8"
    plan = plan_configs(configs(), configs(nodes))
    assert [(n.node, n.status) for n in plan.nodes] == [("fra-1", "changed"), ("sgp-1", "changed")]
    assert plan.unchanged == 1
    change = plan.nodes[0].changes[0]
    assert change.text == "peer nyc-1: endpoint 1.2.3.4:51820 => 5.6.7.8:51820"
    assert change.to_dict() == {
        "interface": "bb",
        "kind": "peer_changed",
        "subject": "nyc-1",
        "old": {"endpoint": "1.2.3.4:51820"},
        "new": {"endpoint": "5.6.7.8:51820"},
        "text": "peer nyc-1: endpoint 1.2.3.4:51820 => 5.6.7.8:51820",
    }
    assert plan.to_text() == (
        "node fra-1 (changed):\n"
        "  [bb] peer nyc-1: endpoint 1.2.3.4:51820 => 5.6.7.8:51820\n"
        "node sgp-1 (changed):\n"
        "  [bb] peer nyc-1: endpoint 1.2.3.4:51820 => 5.6.7.8:51820\n"
        "1 node unchanged\n"
    )
    markdown = plan.to_markdown()
    assert markdown.startswith("**drago plan:** 2 nodes affected: 2 changed; 1 unchanged.\n")
    assert "### `fra-1` (changed)\n\n- `bb`: peer nyc-1: endpoint" in markdown
    json.dumps(plan.to_dict())


def test_added_and_removed_nodes_and_peers() -> None:
    nodes = copy.deepcopy(NODES)
    del nodes["sgp-1"]
    nodes["lon-1"] = {
        "endpoint": "lon.example.net",
        "interfaces": {"bb": {"address": "10.20.0.9/16"}},
    }
    keys = {n: {"bb": key_for(n)} for n in nodes}
    plan = plan_configs(configs(), configs(nodes, keys))
    statuses = {n.node: n.status for n in plan.nodes}
    assert statuses == {
        "fra-1": "changed",
        "lon-1": "added",
        "nyc-1": "changed",
        "sgp-1": "removed",
    }
    fra = next(n for n in plan.nodes if n.node == "fra-1")
    texts = [c.text for c in fra.changes]
    assert texts == [
        "peer lon-1 added (allowed IPs 10.20.0.9/32; endpoint lon.example.net:51820)",
        "peer sgp-1 removed",
    ]
    assert fra.changes[0].new == ["10.20.0.9/32"]
    lon = next(n for n in plan.nodes if n.node == "lon-1")
    assert lon.changes[0].kind == "interface_added"
    assert lon.changes[0].text.startswith("interface added (wg-bb, address 10.20.0.9/16")
    assert {c.subject for c in lon.changes if c.kind == "peer_added"} == {"fra-1", "nyc-1"}
    sgp = next(n for n in plan.nodes if n.node == "sgp-1")
    assert [c.kind for c in sgp.changes] == ["interface_removed"]


def test_interface_settings_allowed_ips_keepalive_and_pending() -> None:
    nodes = copy.deepcopy(NODES)
    nodes["fra-1"]["interfaces"]["bb"].update(
        {"address": "10.20.0.11/16", "mtu": 1280, "routes": ["192.168.0.0/24"]}
    )
    net = copy.deepcopy(NET)
    net["persistent_keepalive"] = 0
    keys = {n: k for n, k in KEYS.items() if n != "sgp-1"}
    plan = plan_configs(configs(), configs(nodes, keys, net))
    fra = next(n for n in plan.nodes if n.node == "fra-1")
    texts = [c.text for c in fra.changes]
    assert "address 10.20.0.1/16 => 10.20.0.11/16" in texts
    assert "MTU none => 1280" in texts
    assert "peer nyc-1: keepalive 25 => off" in texts
    assert "peer sgp-1 removed" in texts
    assert "peer sgp-1 pending: no public key registered" in texts
    nyc = next(n for n in plan.nodes if n.node == "nyc-1")
    assert "peer fra-1: allowed IPs 10.20.0.1/32 => 10.20.0.11/32, 192.168.0.0/24" in [
        c.text for c in nyc.changes
    ]
    sgp = next(n for n in plan.nodes if n.node == "sgp-1")
    assert "public key " + KEYS["sgp-1"]["bb"] + " => none" in [c.text for c in sgp.changes]
    back = plan_configs(configs(nodes, keys, net), configs(nodes, KEYS, net))
    assert "peer sgp-1 no longer pending (no public key registered)" in [
        c.text for n in back.nodes for c in n.changes
    ]


def test_plan_between_render_results() -> None:
    renderer = Renderer()
    old = renderer.render(make_state({"bb": NET}, NODES, KEYS), "r1")
    nodes = copy.deepcopy(NODES)
    nodes["fra-1"]["endpoint"] = "9.9.9.9"
    new = renderer.render(make_state({"bb": NET}, nodes, KEYS), "r2")
    plan = plan_configs(old, new)
    assert [n.node for n in plan.nodes] == ["nyc-1", "sgp-1"]
    assert plan.unchanged == 1
    assert plan.nodes[0].changes[0].text == "peer fra-1: endpoint 1.2.3.3:51820 => 9.9.9.9:51820"


def _mesh(count: int) -> dict[str, dict[str, Any]]:
    return {
        f"n-{i:02d}": {
            "endpoint": f"n-{i}.example.net",
            "interfaces": {"bb": {"address": f"10.20.1.{i + 1}/16"}},
        }
        for i in range(count)
    }


def test_a_summary_lists_the_first_nodes_and_changes_and_counts_the_rest() -> None:
    old_nodes = _mesh(3)
    new_nodes = _mesh(8)  # five nodes join a full mesh of three
    new_keys = {n: {"bb": key_for(n)} for n in new_nodes}
    old, new = (
        configs(old_nodes, {n: {"bb": key_for(n)} for n in old_nodes}),
        configs(new_nodes, new_keys),
    )
    full = plan_configs(old, new)
    summary = plan_configs(old, new, Limits(nodes=2, changes=3))
    assert full.complete and not summary.complete
    assert [n.node for n in summary.nodes] == [n.node for n in full.nodes][:2]
    for short, whole in zip(summary.nodes, full.nodes, strict=False):
        assert short.changes == whole.changes[:3]
        assert short.omitted == len(whole.changes) - 3 > 0
    added = [(f"n-{i:02d}", "added") for i in range(3, 8)]
    assert summary.omitted == (("n-02", "changed"), *added)
    assert summary.omitted_nodes == len(full.nodes) - 2
    assert [summary.count(s) for s in ("changed", "added", "removed")] == [3, 5, 0]
    assert (
        summary.summary() == full.summary() == "8 nodes affected: 3 changed, 5 added; 0 unchanged."
    )
    doc = summary.to_dict()
    assert doc["counts"] == {"changed": 3, "added": 5, "removed": 0}
    assert doc["omitted_nodes"] == 6 and doc["complete"] is False
    assert doc["more_nodes"][:2] == [
        {"node": "n-02", "status": "changed"},
        {"node": "n-03", "status": "added"},
    ]
    assert doc["limits"] == {"nodes": 2, "changes": 3, "node": None, "bytes": None}
    assert doc["nodes"][0]["omitted_changes"] == summary.nodes[0].omitted
    text = summary.to_text()
    assert f"  ... and {summary.nodes[0].omitted} more changes\n" in text
    assert "... and 6 more nodes (1 changed, 5 added)\n" in text
    assert "... and 6 more nodes (1 changed, 5 added)" in summary.to_markdown()


def test_one_node_plan_has_all_its_changes() -> None:
    old_nodes, new_nodes = _mesh(3), _mesh(8)
    old = configs(old_nodes, {n: {"bb": key_for(n)} for n in old_nodes})
    new = configs(new_nodes, {n: {"bb": key_for(n)} for n in new_nodes})
    full = {n.node: n for n in plan_configs(old, new).nodes}
    one = plan_configs(old, new, Limits(nodes=1, changes=1, only="n-06"))
    assert [n.node for n in one.nodes] == ["n-06"]
    assert one.nodes[0] == full["n-06"] and one.nodes[0].omitted == 0
    assert [s for _, s in one.omitted] == ["changed"] * 3 + ["added"] * 4
    unknown = plan_configs(old, new, Limits(only="nope"))
    assert unknown.nodes == () and unknown.omitted_nodes == 8


def test_planning_does_not_fill_the_configs_cache_of_a_render() -> None:
    old_nodes, new_nodes = _mesh(3), _mesh(8)
    old = configs(old_nodes, {n: {"bb": key_for(n)} for n in old_nodes})
    new = configs(new_nodes, {n: {"bb": key_for(n)} for n in new_nodes})
    plan_configs(old, new)
    # The live render outlives every plan made against it: nothing may stay behind.
    assert old._configs == {} and new._configs == {}


def test_a_summary_stops_listing_nodes_once_their_configs_add_up_to_the_budget() -> None:
    old_nodes, new_nodes = _mesh(3), _mesh(8)
    old = configs(old_nodes, {n: {"bb": key_for(n)} for n in old_nodes})
    new = configs(new_nodes, {n: {"bb": key_for(n)} for n in new_nodes})
    size = len(old.document("n-00")) + len(new.document("n-00"))
    tight = plan_configs(old, new, Limits(nodes=5, budget=1))
    assert [n.node for n in tight.nodes] == ["n-00"]  # the first one always
    assert tight.omitted_nodes == 7 and tight.count("added") == 5
    roomy = plan_configs(old, new, Limits(nodes=5, budget=size + 1))
    assert [n.node for n in roomy.nodes] == ["n-00", "n-01"]
    assert plan_configs(old, new, Limits(budget=1, only="n-05")).nodes[0].node == "n-05"
