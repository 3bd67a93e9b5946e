"""``drago fmt [--check] [DIR]``: canonical formatting that keeps comments."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "fmt",
        help="format repository files canonically (comments are kept)",
        description="Rewrite the TOML files of a repository in drago's canonical layout, "
        "keeping comments. With --check, change nothing and exit 1 when a file would change.",
    )
    parser.add_argument("repo", nargs="?", default=Path("."), type=Path)
    parser.add_argument("--check", action="store_true", help="only report files that differ")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from drago.model.format import format_directory

    changed = format_directory(args.repo, check=args.check)
    for path in changed:
        print(f"{'would reformat' if args.check else 'reformatted'} {path}")
    if args.check and changed:
        print(f"{len(changed)} file(s) would be reformatted (run `drago fmt`)", file=sys.stderr)
        return 1
    if not changed:
        print("all files are formatted")
    return 0
