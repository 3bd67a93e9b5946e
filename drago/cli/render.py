"""``drago render NODE``: print one node's rendered config."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from drago.cli.source import add_repo_arguments, read_state
from drago.errors import InvalidRequest, NotFound
from drago.model.validate import Validator
from drago.render import render_state, to_wg_quick


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "render",
        help="print a node's rendered config",
        description="Render one node's config from a repository: the JSON document its "
        "agent receives, or a wg-quick file for one network (without the private key).",
    )
    parser.add_argument("node", help="node name")
    parser.add_argument(
        "--network", help="only this network (required for wg-quick when the node is in several)"
    )
    parser.add_argument("--format", choices=("json", "wg-quick"), default="json")
    add_repo_arguments(parser, positional=False)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    validator = Validator()
    state, commit = read_state(args.repo, args.rev, validator)
    if args.node not in state.nodes:
        raise NotFound(f"there is no node {args.node!r} (known: {', '.join(sorted(state.nodes))})")
    config = render_state(state, commit, validator=validator).config(args.node)
    networks = config.networks
    if args.network is not None and args.network not in networks:
        raise NotFound(
            f"node {args.node} has no interface in network {args.network!r} "
            f"(it has: {', '.join(networks) or 'none'})"
        )
    if args.format == "wg-quick":
        network = args.network
        if network is None:
            if len(networks) != 1:
                raise InvalidRequest(
                    f"node {args.node} is in {len(networks)} networks "
                    f"({', '.join(networks)}): choose one with --network"
                )
            network = networks[0]
        sys.stdout.write(to_wg_quick(config, network))
        return 0
    document: dict[str, Any] = json.loads(config.to_json(commit))
    if args.network is not None:
        document["interfaces"] = [i for i in document["interfaces"] if i["network"] == args.network]
    print(json.dumps(document, indent=2, sort_keys=True))
    return 0
