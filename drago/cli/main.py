"""``drago`` entry point: parse arguments, run one command; errors become exit
codes in :mod:`drago.exitcodes`.

Each command lives in its own module of this package and exposes
``register(subparsers)``; the parser stores the function to run in ``args.run``
(``run(args) -> int``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from drago import __version__, exitcodes
from drago.cli import fmt, plan, render, server, signers, token, validate

#: ``register(subparsers)`` of each subcommand's module, in help order.
COMMANDS: tuple[Callable[[Any], None], ...] = (
    validate.register,
    render.register,
    plan.register,
    fmt.register,
    server.register,
    token.register,
    signers.register,
)

log = logging.getLogger("drago")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drago", description="GitOps configuration manager for WireGuard networks."
    )
    parser.add_argument("--version", action="version", version=f"drago {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return exitcodes.run("drago", lambda: int(args.run(args)), log)


def entry() -> None:
    sys.exit(main())
