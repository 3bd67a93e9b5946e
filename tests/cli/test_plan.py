from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Git, Run


@pytest.fixture
def history(repo_copy: Path, git: Git) -> Path:
    """example-repo committed with git, then a second commit moving nyc-1's endpoint."""
    git(repo_copy, "init", "-q", "-b", "main")
    git(repo_copy, "add", "-A")
    git(repo_copy, "commit", "-qm", "import")
    node = repo_copy / "nodes" / "nyc-1.toml"
    text = node.read_text()
    assert 'endpoint = "nyc-1.example.net"' in text
    node.write_text(text.replace('endpoint = "nyc-1.example.net"', 'endpoint = "198.51.100.7"'))
    git(repo_copy, "commit", "-qam", "move nyc-1")
    return repo_copy


def test_plan_between_git_commits(drago: Run, history: Path) -> None:
    code, out, _ = drago("plan", "HEAD~1", "HEAD", "--repo", str(history))
    assert code == 0
    assert "node fra-1 (changed):" in out
    assert "endpoint nyc-1.example.net:51820 => 198.51.100.7:51820" in out
    assert "nodes unchanged" in out or "node unchanged" in out
    assert "node nyc-1 " not in out  # its own config does not list itself


def test_plan_markdown_and_json(drago: Run, history: Path) -> None:
    code, out, _ = drago("plan", "HEAD~1", "HEAD", "--repo", str(history), "--format", "markdown")
    assert code == 0
    assert out.startswith("**drago plan:**")
    assert "### `fra-1` (changed)" in out
    code, out, _ = drago("plan", "HEAD~1", "HEAD", "--repo", str(history), "--format", "json")
    doc = json.loads(out)
    changed = {n["node"] for n in doc["nodes"]}
    assert "fra-1" in changed
    assert doc["unchanged"] >= 1


def test_exit_code(drago: Run, history: Path) -> None:
    code, _, _ = drago("plan", "HEAD~1", "HEAD", "--repo", str(history), "--exit-code")
    assert code == 2
    code, out, _ = drago("plan", "HEAD", "HEAD", "--repo", str(history), "--exit-code")
    assert code == 0
    assert "unchanged" in out


def test_plan_against_the_working_tree(drago: Run, history: Path) -> None:
    (history / "nodes" / "sgp-1.toml").unlink()
    (history / "keys" / "sgp-1.toml").unlink(missing_ok=True)
    code, out, err = drago("plan", "HEAD", "--repo", str(history))
    assert code == 0, err
    assert "node sgp-1 (removed)" in out


def test_remote_tracking_revisions_in_a_clone(
    drago: Run, history: Path, git: Git, tmp_path: Path
) -> None:
    """What CI does: a clone, a change on top, then `plan origin/main HEAD` and
    `validate --rev origin/main` (the remote-tracking branch, as git resolves it)."""
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(history), str(clone))
    node = clone / "nodes" / "nyc-1.toml"
    node.write_text(node.read_text().replace("198.51.100.7", "198.51.100.8"))
    git(clone, "commit", "-qam", "move nyc-1 again")
    code, out, err = drago("plan", "origin/main", "HEAD", "--repo", str(clone))
    assert (code, err) == (0, "")
    assert "endpoint 198.51.100.7:51820 => 198.51.100.8:51820" in out
    code, out, _ = drago("validate", "--rev", "origin/main", str(clone))
    assert code == 0 and f"at {git(clone, 'rev-parse', 'origin/main')[:12]}: valid" in out
    for rev in ("@{u}", "HEAD~1", "origin"):
        assert drago("plan", rev, "--repo", str(clone), "--format", "json")[0] == 0
