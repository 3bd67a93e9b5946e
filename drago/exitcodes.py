"""How a command's end becomes its exit code, for ``drago`` and ``drago-agent`` alike.

This is the only place errors become exit codes: a :class:`~drago.errors.DragoError`
exits 1 with its message on stderr, Ctrl-C exits 130, a reader that went away
(``drago render ... | head``) ends quietly with 0, anything else exits 3 with the
traceback logged. It imports nothing but :mod:`drago.errors`, so the agent can use it.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from drago.errors import DragoError

OK = 0
#: A :class:`DragoError` (bad input, refused request, a check that found problems).
FAILED = 1
#: A bug: the traceback is logged.
UNEXPECTED = 3
#: Ctrl-C.
INTERRUPTED = 130


def run(program: str, command: Callable[[], int], log: logging.Logger) -> int:
    """``command()``'s exit code, or the code of the error it raised."""
    try:
        return command()
    except DragoError as exc:
        print(f"{program}: {exc.message}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # stdout is closed: point it at /dev/null so the exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    except Exception:
        log.exception("%s: unexpected error (please report it)", program)
        return UNEXPECTED


__all__ = ["FAILED", "INTERRUPTED", "OK", "UNEXPECTED", "run"]
