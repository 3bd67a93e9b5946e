from __future__ import annotations

from pathlib import Path

import pytest

from drago.agent.settings import load_settings
from drago.errors import InvalidRequest


def test_cli_over_environment_over_file(tmp_path: Path) -> None:
    file = tmp_path / "agent.toml"
    file.write_text('server = "http://file"\ntoken = "from-file"\ndrift_interval = 5\n')
    env = {"DRAGO_AGENT_SERVER": "http://env", "DRAGO_AGENT_BACKEND": "userspace"}
    settings = load_settings({"server": ["http://cli"], "backend": None}, env, file)
    assert settings.server == ("http://cli",)
    assert settings.backend == "userspace"
    assert settings.token == "from-file"
    assert settings.drift_interval == 5
    assert "from-file" not in repr(settings)


def test_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("abc\n")
    settings = load_settings({"server": ["http://x"], "token_file": tmp_path / "token"}, {})
    assert settings.token == "abc"


def test_missing_token_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequest, match="node token is required"):
        load_settings({"server": "http://x"}, {})


def test_several_servers_from_each_source(tmp_path: Path) -> None:
    listed = tmp_path / "listed.toml"
    listed.write_text('server = ["https://a.example:8443", "https://b.example"]\ntoken = "t"\n')
    assert load_settings({}, {}, listed).server == ("https://a.example:8443", "https://b.example")
    single = tmp_path / "single.toml"  # the form of existing files
    single.write_text('server = "https://a.example"\ntoken = "t"\n')
    assert load_settings({}, {}, single).server == ("https://a.example",)
    env = {"DRAGO_AGENT_SERVER": "http://a:1  http://b:2\n", "DRAGO_AGENT_TOKEN": "t"}
    assert load_settings({}, env).server == ("http://a:1", "http://b:2")
    cli = {"server": ["http://c", "http://d/drago"]}
    assert load_settings(cli, env, listed).server == ("http://c", "http://d/drago")


@pytest.mark.parametrize(
    ("servers", "problem"),
    [
        ([], "at least 1 item"),
        (["drago.example.net"], "not a server URL"),
        (["ftp://drago.example.net"], "not a server URL"),
        (["http://user:pw@drago.example.net"], "no user, password, query or fragment"),
        (["http://drago.example.net/?x=1"], "no user, password, query or fragment"),
        (["http://drago.example.net/#top"], "no user, password, query or fragment"),
        (["http://drago.example.net\x1b[2K"], "not a server URL"),
        (["http://a", "http://a"], "listed twice"),
    ],
)
def test_a_server_list_outside_the_grammar_is_refused(servers: list[str], problem: str) -> None:
    with pytest.raises(InvalidRequest, match=problem) as caught:
        load_settings({"server": servers, "token": "t"}, {})
    assert caught.value.message.isprintable()
