from __future__ import annotations

import os
from pathlib import Path

import pytest

from drago.agent.cli import dry_run, main, parser
from drago.agent.keys import KeyStore
from drago.agent.settings import FIELDS
from tests.agent.factory import standard
from tests.agent.test_loop import make_agent


def once_against_a_closed_port(state_dir: Path) -> int:
    """``drago-agent --once`` against a server port nobody listens on."""
    return main(
        [
            *("--server", "http://127.0.0.1:9", "--token", "t"),
            *("--state-dir", str(state_dir), "--backend", "userspace", "--once"),
        ]
    )


def test_insecure_key_refuses_to_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    KeyStore(tmp_path).ensure("backbone")
    key = tmp_path / "keys" / "backbone.key"
    os.chmod(key, 0o640)
    code = once_against_a_closed_port(tmp_path)
    assert code == 1
    assert f"fix it with: chmod 600 {key}" in capsys.readouterr().err


def test_unreachable_server_with_once_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = once_against_a_closed_port(tmp_path)
    assert code == 1
    assert "cannot reach the server" in capsys.readouterr().err


def test_settings_errors_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--server", "http://x"]) == 1
    assert "node token is required" in capsys.readouterr().err


def test_dry_run_exits_1_when_it_printed_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent, _, host, _, _ = make_agent(tmp_path / "clean", [lambda known: standard()])
    assert dry_run(agent) == 0
    assert "wg-backbone: key (none) => (new key pair)" in capsys.readouterr().out
    agent, _, host, _, _ = make_agent(tmp_path / "taken", [lambda known: standard()])
    host.create("wg-backbone")  # an interface of the same name the agent does not own
    assert dry_run(agent) == 1
    captured = capsys.readouterr()
    assert "error: wg-backbone: an interface of this name exists" in captured.err
    assert "in sync" not in captured.out


def test_every_setting_has_a_flag() -> None:
    flags = {a.dest for a in parser()._actions}
    assert set(FIELDS) <= flags


def test_once_tries_every_server_in_turn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    code = main(
        [
            *("--server", "http://127.0.0.1:9", "--server", "http://127.0.0.1:7", "--token", "t"),
            *("--state-dir", str(tmp_path), "--backend", "userspace", "--once"),
        ]
    )
    assert code == 1
    assert "cannot reach the server" in capsys.readouterr().err
    assert [
        r.getMessage().split(";")[1] for r in caplog.records if "switching" in r.getMessage()
    ] == [
        " switching to http://127.0.0.1:7",
        " switching to http://127.0.0.1:9",
    ]
