from __future__ import annotations

from pathlib import Path

import pytest

from drago.cli.main import build_parser, main
from drago.cli.server import settings_from
from drago.server.app import open_context
from drago.server.settings import Settings


@pytest.fixture
def data(tmp_path: Path, example_repo: Path) -> Path:
    opened = open_context(Settings(data=tmp_path / "data", init_from=example_repo))
    assert opened.ctx.database is not None
    opened.ctx.database.close()
    return tmp_path / "data"


def test_token_create_prints_the_secret_alone(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["token", "create", "--data", str(data), "--role", "node", "--node", "fra-1",
                 "--name", "Fra", "--email", "fra@example.org"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("\n") == 1 and out.startswith("drago_")
    token_id = out.split("_")[1]

    assert main(["token", "list", "--data", str(data)]) == 0
    listing = capsys.readouterr().out
    assert token_id in listing and "fra@example.org" in listing and "node" in listing
    assert out.strip() not in listing

    assert main(["token", "revoke", "--data", str(data), token_id]) == 0
    assert "revoked" in capsys.readouterr().out
    assert main(["token", "revoke", "--data", str(data), token_id]) == 1
    assert "no token" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["token", "create", "--role", "node"],  # no --node
        ["token", "create", "--role", "admin", "--node", "fra-1"],
    ],
)
def test_token_create_errors_exit_1(
    data: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--data", str(data)]) == 1
    assert capsys.readouterr().out == ""


def test_token_commands_need_a_data_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRAGO_DATA", raising=False)
    assert main(["token", "list", "--data", str(tmp_path / "missing")]) == 1
    assert "not a drago data directory" in capsys.readouterr().err
    assert main(["token", "list"]) == 1
    assert "--data" in capsys.readouterr().err


def test_server_flags_win_over_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAGO_DATA", str(tmp_path / "from-env"))
    monkeypatch.setenv("DRAGO_MAX_WAIT", "7")
    monkeypatch.setenv("DRAGO_LISTEN", "127.0.0.1:9999")
    args = build_parser().parse_args(["server", "--listen", "127.0.0.1:0"])
    settings = settings_from(args)
    assert settings.data == tmp_path / "from-env"
    assert settings.max_wait == 7
    assert settings.listen == "127.0.0.1:0"


def test_token_commands_with_a_shared_database(
    tmp_path: Path,
    example_repo: Path,
    postgres_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = tmp_path / "data"
    opened = open_context(Settings(data=data, init_from=example_repo, database=postgres_url))
    assert opened.bootstrap_secret is not None
    assert opened.ctx.database is not None
    opened.ctx.database.close()
    assert not (data / "runtime.sqlite").exists()
    monkeypatch.delenv("DRAGO_DATABASE", raising=False)
    argv = ["token", "create", "--data", str(data), "--database", postgres_url, "--role", "reader"]
    assert main(argv) == 0
    token_id = capsys.readouterr().out.split("_")[1]
    monkeypatch.setenv("DRAGO_DATABASE", postgres_url)  # the variable works like the flag
    assert main(["token", "list", "--data", str(data)]) == 0
    listing = capsys.readouterr().out
    assert token_id in listing and "bootstrap admin" in listing
    assert main(["token", "revoke", "--data", str(data), token_id]) == 0
    monkeypatch.setenv("DRAGO_DATABASE", "sqlite:///elsewhere")
    assert main(["token", "list", "--data", str(data)]) == 1
    assert "postgresql://USER@HOST/DB" in capsys.readouterr().err


def test_server_takes_the_database_from_flag_environment_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "drago.toml"
    config.write_text('data = "d"\ndatabase = "postgresql://file@db/drago"\n')
    monkeypatch.delenv("DRAGO_DATABASE", raising=False)
    parse = build_parser().parse_args
    assert settings_from(parse(["server", "--config", str(config)])).database == (
        "postgresql://file@db/drago"
    )
    monkeypatch.setenv("DRAGO_DATABASE", "postgresql://env@db/drago")
    assert settings_from(parse(["server", "--config", str(config)])).database == (
        "postgresql://env@db/drago"
    )
    flag = parse(["server", "--config", str(config), "--database", "postgres://flag@db/drago"])
    assert settings_from(flag).database == "postgres://flag@db/drago"
    monkeypatch.delenv("DRAGO_DATABASE")
    assert settings_from(parse(["server", "--data", str(tmp_path)])).database is None
