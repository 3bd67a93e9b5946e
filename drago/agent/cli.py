"""``drago-agent``: the command line of the agent.

``drago-agent [--server URL [--server URL2 ...] --token TOKEN ...] [--once]
[--dry-run]`` runs the sync loop (several servers: see
:mod:`drago.agent.failover`); ``drago-agent rotate-key NETWORK`` registers a new key pair. Errors
become exit codes in :mod:`drago.exitcodes` (as for ``drago``); ``--once`` or
``--dry-run`` that reported errors also exit 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from drago import exitcodes
from drago.agent.backends import select_backend
from drago.agent.cache import ConfigCache
from drago.agent.client import HttpClient
from drago.agent.failover import Failover
from drago.agent.keys import KeyStore
from drago.agent.loop import Agent, Timing
from drago.agent.ownership import Ownership
from drago.agent.reconcile import Reconciler
from drago.agent.settings import AgentSettings, load_settings
from drago.errors import DragoError

log = logging.getLogger("drago.agent")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="drago-agent",
        description="Apply this node's drago config to its WireGuard interfaces.",
    )
    p.add_argument("--config", type=Path, help="TOML settings file (also DRAGO_AGENT_CONFIG)")
    p.add_argument(
        "--server",
        action="append",
        help="server URL, e.g. https://drago.example.net; repeat it for servers to fail over"
        " to (the first is preferred)",
    )
    p.add_argument("--token", help="node token (prefer --token-file or DRAGO_AGENT_TOKEN)")
    p.add_argument("--token-file", type=Path, help="file holding the node token")
    p.add_argument("--state-dir", type=Path, help="keys, cache and ownership record")
    p.add_argument("--backend", choices=["auto", "kernel", "userspace"])
    p.add_argument("--wireguard-go", help="wireguard-go program for the userspace backend")
    p.add_argument("--ca-file", type=Path, help="CA bundle to verify an https server")
    p.add_argument("--drift-interval", type=float, help="seconds between drift checks")
    p.add_argument("--status-interval", type=float, help="seconds between status reports")
    p.add_argument("--poll-wait", type=float, help="seconds the server may hold a long-poll")
    p.add_argument(
        "--max-backoff", type=float, help="longest retry delay in seconds (server unreachable)"
    )
    p.add_argument(
        "--failback-after",
        type=float,
        help="seconds on another server before the first one is asked again",
    )
    p.add_argument("--once", action="store_true", help="reconcile once; exit 0 if in sync")
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command")
    rotate = sub.add_parser("rotate-key", help="register a new key pair for NETWORK")
    rotate.add_argument("network")
    return p


def _settings(args: argparse.Namespace) -> AgentSettings:
    config_file = args.config or (
        Path(os.environ["DRAGO_AGENT_CONFIG"]) if os.environ.get("DRAGO_AGENT_CONFIG") else None
    )
    return load_settings(vars(args), os.environ, config_file)


def _build(settings: AgentSettings) -> tuple[Agent, Failover]:
    ca_file = str(settings.ca_file) if settings.ca_file else None
    client = Failover(
        [(url, HttpClient(url, settings.token, ca_file=ca_file)) for url in settings.server],
        failback_after=settings.failback_after,
    )
    wireguard, links = select_backend(
        settings.backend,
        wireguard_go=settings.wireguard_go,
        log_dir=settings.state_dir / "logs",
    )
    keys = KeyStore(settings.state_dir)
    keys.check_permissions()
    reconciler = Reconciler(
        wireguard, links, keys, Ownership(settings.state_dir), servers=settings.server
    )
    timing = Timing(
        poll_wait=settings.poll_wait,
        drift_interval=settings.drift_interval,
        status_interval=settings.status_interval,
        max_backoff=settings.max_backoff,
    )
    return Agent(client, reconciler, keys, ConfigCache(settings.state_dir), timing), client


def dry_run(agent: Agent) -> int:
    """Print the plan; exit 1 when it found errors (they are printed too), else 0."""
    agent.node = agent.client.whoami()
    config = agent.client.config(agent.node, None, 0)
    assert config is not None
    outcome = agent.reconciler.plan(config, generate=False)
    for change in outcome.changes:
        print(change)
    for error in outcome.errors:
        print(f"error: {error}", file=sys.stderr)
    if not outcome.changes and not outcome.errors:
        print("in sync: nothing to change")
    return 1 if outcome.errors else 0


def _rotate(agent: Agent, network: str) -> int:
    node = agent.client.whoami()
    config = agent.client.config(node, None, 0)
    assert config is not None
    if config.interface(network) is None:
        raise DragoError(f"node {node} has no interface in network {network!r}")
    pair = agent.keys.rotate(network)
    agent.client.register_key(node, network, pair.public_key)
    print(pair.public_key)
    return 0


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    return exitcodes.run("drago-agent", lambda: _run(args), log)


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    settings.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    agent, client = _build(settings)
    try:
        if args.command == "rotate-key":
            return client.each(lambda: _rotate(agent, args.network))
        if args.dry_run:
            return client.each(lambda: dry_run(agent))
        if args.once:
            outcome = client.each(agent.once)
            for error in outcome.errors:
                print(f"error: {error}", file=sys.stderr)
            return exitcodes.OK if outcome.in_sync else exitcodes.FAILED
        signal.signal(signal.SIGTERM, _terminate)
        agent.run(threading.Event())
        return exitcodes.OK
    finally:
        client.close()


def entry() -> None:
    sys.exit(main())
