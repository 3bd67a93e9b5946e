"""``drago plan BASE [HEAD]``: what changes in each node's config between two revisions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from drago.cli.source import read_files
from drago.model.validate import Validator
from drago.render import plan_configs, render_state


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "plan",
        help="show what changes per node between two revisions",
        description="Render every node at BASE and at HEAD and show what changes in each "
        "node's config: peers added, removed or changed (old => new), addresses, ports. "
        "HEAD defaults to the working tree of --repo.",
    )
    parser.add_argument("base", help="base revision (e.g. main, origin/main, a sha)")
    parser.add_argument("head", nargs="?", help="head revision (default: the working tree)")
    parser.add_argument("--repo", type=Path, default=Path("."), help="repository (default: .)")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    parser.add_argument(
        "--exit-code", action="store_true", help="exit 2 when some node's config changes"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    base_files, base_rev = read_files(args.repo, args.base)
    head_files, head_rev = read_files(args.repo, args.head)
    validator = Validator()
    old = render_state(validator.validate_files(base_files), base_rev, validator=validator)
    new = render_state(validator.validate_files(head_files), head_rev, validator=validator)
    plan = plan_configs(old, new)
    if args.format == "json":
        sys.stdout.write(json.dumps(plan.to_dict(), indent=2, sort_keys=True) + "\n")
    elif args.format == "markdown":
        sys.stdout.write(plan.to_markdown())
    else:
        sys.stdout.write(plan.to_text())
    return 2 if args.exit_code and not plan.is_empty else 0
