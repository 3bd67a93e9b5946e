"""The data directory of the offline commands: --data, DRAGO_DATA, and what they need."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from drago.cli.datadir import add_data_argument, open_data_directory
from drago.errors import InvalidRequest


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_data_argument(parser)
    return parser.parse_args(list(argv))


def test_data_comes_from_the_option_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DRAGO_DATA", raising=False)
    with pytest.raises(InvalidRequest, match="no data directory"):
        open_data_directory(parse(), ready=lambda _: True)
    assert open_data_directory(parse("--data", str(tmp_path)), ready=lambda _: True).root == (
        tmp_path
    )
    monkeypatch.setenv("DRAGO_DATA", str(tmp_path / "env"))
    assert open_data_directory(parse(), ready=lambda _: True).root == tmp_path / "env"


def test_a_directory_without_what_the_command_needs_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="is not a drago data directory"):
        open_data_directory(parse("--data", str(tmp_path)), ready=lambda d: d.initialised)
