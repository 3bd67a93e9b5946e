from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Git, Run


def test_example_repo_is_valid(drago: Run, example_repo: Path) -> None:
    code, out, _ = drago("validate", str(example_repo))
    assert code == 0
    assert "valid (2 networks, 7 nodes" in out


def test_broken_copy_names_file_and_key(drago: Run, repo_copy: Path) -> None:
    node = repo_copy / "nodes" / "fra-1.toml"
    node.write_text(node.read_text().replace('address = "10.20.0.1/16"', 'address = "10.9.0.1/24"'))
    code, out, err = drago("validate", str(repo_copy))
    assert code == 1
    assert out == ""
    assert "nodes/fra-1.toml: interfaces.backbone.address: " in err
    assert "10.20.0.0/16" in err


def test_every_problem_is_reported_at_once(drago: Run, repo_copy: Path) -> None:
    (repo_copy / "nodes" / "Bad.toml").write_text("description = 'x'\n")
    (repo_copy / "networks" / "site.toml").write_text("address_range = 'nonsense'\n")
    code, _, err = drago("validate", str(repo_copy))
    assert code == 1
    assert "nodes/Bad.toml" in err
    assert "networks/site.toml: address_range: " in err


def test_syntax_error_has_line_and_column(drago: Run, repo_copy: Path) -> None:
    (repo_copy / "nodes" / "sgp-1.toml").write_text("description = \n")
    code, _, err = drago("validate", str(repo_copy))
    assert code == 1
    assert "nodes/sgp-1.toml" in err
    assert "line 1" in err


def test_validate_a_git_revision(drago: Run, repo_copy: Path, git: Git) -> None:
    run = git
    run(repo_copy, "init", "-q", "-b", "main")
    run(repo_copy, "add", "-A")
    run(repo_copy, "commit", "-qm", "import")
    (repo_copy / "nodes" / "fra-1.toml").write_text("broken = \n")
    code, out, _ = drago("validate", str(repo_copy), "--rev", "HEAD")
    assert code == 0, out
    assert "at " in out
    code, _, err = drago("validate", str(repo_copy))
    assert code == 1
    assert "nodes/fra-1.toml" in err


def test_missing_directory_is_a_user_error(drago: Run, tmp_path: Path) -> None:
    code, _, err = drago("validate", str(tmp_path / "nope"))
    assert code == 1
    assert "is not a directory" in err


def test_unknown_revision_is_a_user_error(drago: Run, repo_copy: Path, git: Git) -> None:
    run = git
    run(repo_copy, "init", "-q", "-b", "main")
    code, _, err = drago("validate", str(repo_copy), "--rev", "no-such-branch")
    assert code == 1
    assert "no-such-branch" in err
