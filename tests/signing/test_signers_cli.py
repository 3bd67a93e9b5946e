"""``drago signers add|remove|list`` against a data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from drago.cli.main import main
from drago.signing import ServerKey


@pytest.fixture
def data(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    root.mkdir()
    ServerKey.load_or_create(root / "server-key")
    return root


def test_add_list_remove(data: Path, user_key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pub = user_key.with_suffix(".pub")
    assert main(["signers", "add", "--data", str(data), "--principal", "a@x.org", str(pub)]) == 0
    assert "trusted SHA256:" in capsys.readouterr().out
    assert main(["signers", "list", "--data", str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    server = ServerKey.load_or_create(data / "server-key")
    assert lines[0] == server.allowed_signers_line()
    assert lines[1] == f'a@x.org namespaces="git" {" ".join(pub.read_text().split()[:2])}'
    assert main(["signers", "remove", "--data", str(data), "--principal", "a@x.org"]) == 0
    assert main(["signers", "list", "--data", str(data)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == server.allowed_signers_line()


def test_errors_exit_1(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["signers", "remove", "--data", str(data), "--principal", "nobody@x.org"]) == 1
    assert "no trusted signer" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["signers", "list", "--data", str(empty)]) == 1
    assert "not a drago data directory" in capsys.readouterr().err
    junk = tmp_path / "junk.pub"
    junk.write_text("nonsense\n")
    args = ["signers", "add", "--data", str(data), "--principal", "a@x.org", str(junk)]
    assert main(args) == 1
