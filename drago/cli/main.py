"""``drago`` entry point: parse arguments, run one command, map errors to exit codes.

This is the only place where errors become exit codes: a :class:`DragoError`
exits 1 with its message, Ctrl-C exits 130, anything else exits 3 with the
traceback logged. Each command lives in its own module of this package and
exposes ``register(subparsers)``; the parser stores the function to run in
``args.run`` (``run(args) -> int``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from drago import __version__
from drago.errors import DragoError

#: Modules of ``drago.cli`` that provide a subcommand, in help order.
COMMANDS = (
    "validate",
    "render",
    "plan",
    "fmt",
    "server",
    "token",
    "signers",
)

log = logging.getLogger("drago")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drago", description="GitOps configuration manager for WireGuard networks."
    )
    parser.add_argument("--version", action="version", version=f"drago {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"drago.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        code: int = args.run(args)
        return code
    except DragoError as exc:
        print(f"drago: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`drago render ... | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception:
        log.exception("unexpected error (please report it)")
        return 3


def entry() -> None:
    sys.exit(main())
