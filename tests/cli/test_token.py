"""``drago token create --role node --node NODE`` only for nodes of the live branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from drago.cli.main import main
from drago.server.app import open_context
from drago.server.settings import Settings


@pytest.fixture
def data(tmp_path: Path, example_repo: Path) -> Path:
    opened = open_context(Settings(data=tmp_path / "data", init_from=example_repo))
    assert opened.ctx.database is not None
    opened.ctx.database.close()
    opened.ctx.store.close()
    return tmp_path / "data"


def listed(data: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["token", "list", "--data", str(data)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--node", "fra-9"],
            "there is no node 'fra-9' at the live revision: add nodes/fra-9.toml",
        ),
        (["--node", "fra-1", "--branch", "prod"], "there is no node 'fra-1'"),
        (["--node", "aux"], "'aux' is not a valid name: it is a Windows device name"),
        (["--node", "fra-"], "'fra-' is not a valid name: it must end with a letter or digit"),
    ],
)
def test_node_token_for_a_missing_or_invalid_node_is_refused(
    data: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = listed(data, capsys)
    code = main(["token", "create", "--data", str(data), "--role", "node", *argv])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert message in err
    assert listed(data, capsys) == before


def test_node_token_for_a_node_of_the_live_branch(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "create", "--data", str(data), "--role", "node", "--node", "muc-1"]) == 0
    assert capsys.readouterr().out.startswith("drago_")
    assert "muc-1" in listed(data, capsys)
