"""One mapping from how a command ended to its exit code, for drago and drago-agent."""

from __future__ import annotations

import logging

import pytest

from drago import exitcodes
from drago.errors import ConfigError, DragoError

LOG = logging.getLogger("test-exitcodes")


def raising(exc: BaseException) -> int:
    raise exc


def test_the_command_code_passes_through() -> None:
    assert exitcodes.run("drago", lambda: 7, LOG) == 7


@pytest.mark.parametrize("error", [DragoError("no such node"), ConfigError.single("a", "", "no")])
def test_a_drago_error_exits_1_with_its_message(
    error: DragoError, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exitcodes.run("drago-agent", lambda: raising(error), LOG) == exitcodes.FAILED == 1
    assert capsys.readouterr().err == f"drago-agent: {error.message}\n"


def test_ctrl_c_exits_130() -> None:
    assert exitcodes.run("drago", lambda: raising(KeyboardInterrupt()), LOG) == 130


def test_a_bug_exits_3_with_the_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert exitcodes.run("drago", lambda: raising(ZeroDivisionError()), LOG) == 3
    assert caplog.records[-1].exc_info is not None
    assert "unexpected error" in caplog.records[-1].getMessage()
