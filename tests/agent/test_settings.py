from __future__ import annotations

from pathlib import Path

import pytest

from drago.agent.settings import load_settings
from drago.errors import InvalidRequest


def test_cli_over_environment_over_file(tmp_path: Path) -> None:
    file = tmp_path / "agent.toml"
    file.write_text('server = "http://file"\ntoken = "from-file"\ndrift_interval = 5\n')
    env = {"DRAGO_AGENT_SERVER": "http://env", "DRAGO_AGENT_BACKEND": "userspace"}
    settings = load_settings({"server": "http://cli", "backend": None}, env, file)
    assert settings.server == "http://cli"
    assert settings.backend == "userspace"
    assert settings.token == "from-file"
    assert settings.drift_interval == 5
    assert "from-file" not in repr(settings)


def test_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("abc\n")
    settings = load_settings({"server": "http://x", "token_file": tmp_path / "token"}, {})
    assert settings.token == "abc"


def test_missing_token_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequest, match="node token is required"):
        load_settings({"server": "http://x"}, {})
