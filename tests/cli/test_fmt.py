from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run


def test_example_repo_is_formatted(drago: Run, example_repo: Path) -> None:
    code, out, _ = drago("fmt", "--check", str(example_repo))
    assert code == 0
    assert "all files are formatted" in out


def test_check_reports_and_fmt_rewrites_keeping_comments(drago: Run, repo_copy: Path) -> None:
    node = repo_copy / "nodes" / "sgp-1.toml"
    original = node.read_text()
    assert "#" in original
    node.write_text(original.replace(" = ", "   =   ", 3) + "\n\n\n")
    code, out, err = drago("fmt", "--check", str(repo_copy))
    assert code == 1
    assert "would reformat nodes/sgp-1.toml" in out
    assert "run `drago fmt`" in err
    assert node.read_text() != original  # --check changes nothing
    code, out, _ = drago("fmt", str(repo_copy))
    assert code == 0
    assert "reformatted nodes/sgp-1.toml" in out
    assert node.read_text() == original
    code, _, _ = drago("fmt", "--check", str(repo_copy))
    assert code == 0
    assert [line for line in original.splitlines() if line.lstrip().startswith("#")] == [
        line for line in node.read_text().splitlines() if line.lstrip().startswith("#")
    ]
