from __future__ import annotations

import os
from pathlib import Path

import pytest

from drago.agent.cli import main
from drago.agent.keys import KeyStore


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
