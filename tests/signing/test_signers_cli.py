"""``drago signers add|remove|list`` against a data directory, or the servers' shared
database (``--database``)."""

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


@pytest.fixture(params=["file", "postgresql"])
def where(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The arguments that pick the list: none (DIR/allowed_signers) or ``--database``."""
    monkeypatch.delenv("DRAGO_DATABASE", raising=False)
    if request.param == "file":
        return []
    return ["--database", request.getfixturevalue("postgres_url")]


def test_add_list_remove(
    data: Path, user_key: Path, where: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    pub = user_key.with_suffix(".pub")
    add = ["signers", "add", "--data", str(data), *where, "--principal", "a@x.org", str(pub)]
    assert main(add) == 0
    assert "trusted SHA256:" in capsys.readouterr().out
    assert (data / "allowed_signers").exists() == (not where)
    assert main(["signers", "list", "--data", str(data), *where]) == 0
    lines = capsys.readouterr().out.splitlines()
    server = ServerKey.load_or_create(data / "server-key")
    assert lines[0] == server.allowed_signers_line()
    assert lines[1] == f'a@x.org namespaces="git" {" ".join(pub.read_text().split()[:2])}'
    remove = ["signers", "remove", "--data", str(data), *where, "--principal", "a@x.org"]
    assert main(remove) == 0
    assert main(["signers", "list", "--data", str(data), *where]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == server.allowed_signers_line()
    assert main(remove) == 1
    assert "no trusted signer" in capsys.readouterr().err


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
