"""``drago validate [DIR] [--rev REV]``: check a repository with the one validator."""

from __future__ import annotations

import argparse
from typing import Any

from drago.cli.source import add_repo_arguments, read_state
from drago.model.validate import Validator


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "validate",
        help="check a repository (schema and cross-file rules)",
        description="Check every file of a repository and the rules between files. "
        "Prints every problem as `path: key: message` and exits 1 when there is one.",
    )
    add_repo_arguments(parser, positional=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    state, commit = read_state(args.repo, args.rev, Validator())
    where = f"{args.repo} at {commit[:12]}" if commit else str(args.repo)
    keys = sum(len(k.interfaces) for k in state.keys.values())
    print(
        f"{where}: valid ({len(state.networks)} networks, {len(state.nodes)} nodes, "
        f"{keys} public keys)"
    )
    return 0
