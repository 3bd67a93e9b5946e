from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from tests.cli.conftest import Run


def test_render_json_matches_the_contract(drago: Run, example_repo: Path) -> None:
    code, out, _ = drago("render", "fra-1", "--repo", str(example_repo))
    assert code == 0
    doc = json.loads(out)
    assert doc["node"] == "fra-1"
    assert doc["revision"] is None
    canonical = {k: v for k, v in doc.items() if k not in ("hash", "revision")}
    for iface in canonical["interfaces"]:
        iface["peers"] = [
            hashlib.sha256(
                json.dumps(p, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()
            for p in iface["peers"]
        ]
    raw = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    assert hashlib.sha256(raw).hexdigest() == doc["hash"]
    networks = [i["network"] for i in doc["interfaces"]]
    assert networks == sorted(networks)


def test_render_one_network(drago: Run, example_repo: Path) -> None:
    code, out, _ = drago("render", "fra-1", "--repo", str(example_repo), "--network", "backbone")
    assert code == 0
    assert [i["network"] for i in json.loads(out)["interfaces"]] == ["backbone"]


def test_wg_quick_export_is_accepted_by_wg_quick_strip(
    drago: Run, example_repo: Path, tmp_path: Path
) -> None:
    code, out, _ = drago(
        "render",
        "fra-1",
        "--repo",
        str(example_repo),
        "--format",
        "wg-quick",
        "--network",
        "backbone",
    )
    assert code == 0
    assert "PrivateKey" in out
    conf = tmp_path / "wg-backbone.conf"
    conf.write_text(out)
    stripped = subprocess.run(
        ["wg-quick", "strip", str(conf)], capture_output=True, text=True, check=True
    ).stdout
    assert "[Peer]" in stripped
    assert "Address" not in stripped


def test_wg_quick_needs_a_network_when_node_has_several(drago: Run, example_repo: Path) -> None:
    code, _, err = drago("render", "ber-gw", "--repo", str(example_repo), "--format", "wg-quick")
    assert code == 1
    assert "--network" in err


def test_unknown_node_and_network(drago: Run, example_repo: Path) -> None:
    code, _, err = drago("render", "nope", "--repo", str(example_repo))
    assert code == 1
    assert "no node 'nope'" in err
    code, _, err = drago("render", "fra-1", "--repo", str(example_repo), "--network", "nope")
    assert code == 1
    assert "no interface in network 'nope'" in err
