"""``drago token create|list|revoke --data DIR``: manage API tokens offline.

``create`` prints the secret alone on stdout so scripts can capture it; it is
never shown again (the server keeps only a digest).

These commands work beside a running server and do not take its lock on DIR:
they only touch the runtime database, in transactions that the server's own
writes wait for (SQLite: WAL and a busy timeout), and a new token works at once.
With ``--database URL`` (or ``DRAGO_DATABASE``) the tokens are those of the
servers' shared PostgreSQL database; ``--data`` still names the repository that
``--node`` is checked against.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from drago.cli.datadir import (
    add_data_argument,
    add_database_argument,
    database_url,
    open_data_directory,
)
from drago.errors import NotFound
from drago.model.names import file_path
from drago.server.datadir import DataDir
from drago.server.endpoint import Role
from drago.server.runtime.stores import initialised, open_runtime
from drago.server.runtime.tokens import TokenStore, check_token_fields, unknown_node
from drago.store import GitStore


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "token", help="create, list or revoke API tokens", description=__doc__
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a token and print its secret")
    add_data_argument(create)
    add_database_argument(create)
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument(
        "--node", help="the node a node token is bound to (nodes/NODE.toml must exist)"
    )
    create.add_argument(
        "--branch", default="main", help="the server's live branch, where NODE must exist"
    )
    create.add_argument("--name", help="commit author name for this token's writes")
    create.add_argument("--email", help="commit author email for this token's writes")
    create.set_defaults(run=run_create)

    listing = actions.add_parser("list", help="list tokens (never their secrets)")
    add_data_argument(listing)
    add_database_argument(listing)
    listing.set_defaults(run=run_list)

    revoke = actions.add_parser("revoke", help="revoke a token by id")
    add_data_argument(revoke)
    add_database_argument(revoke)
    revoke.add_argument("id", help="token id (the part after drago_ in the secret)")
    revoke.set_defaults(run=run_revoke)


def open_datadir(args: argparse.Namespace) -> DataDir:
    """The data directory, which must hold the repository (and the database, if there)."""
    url = database_url(args)
    return open_data_directory(args, ready=lambda datadir: initialised(datadir, url))


@contextmanager
def open_store(args: argparse.Namespace) -> Iterator[TokenStore]:
    runtime = open_runtime(open_datadir(args), database_url(args))
    try:
        yield runtime.tokens
    finally:
        runtime.close()


def require_node(datadir: DataDir, branch: str, node: str) -> None:
    """NotFound unless ``nodes/<node>.toml`` is on the live branch (see ``unknown_node``)."""
    with GitStore.open(datadir.repo, branch=branch) as store:
        head = store.head()
        try:
            if head is None:
                raise NotFound(f"{branch} has no commits")
            store.read_file(head, file_path("nodes", node))
        except NotFound:
            raise unknown_node(node) from None


def run_create(args: argparse.Namespace) -> int:
    role = Role(args.role)
    check_token_fields(role, args.node)
    if args.node is not None:
        require_node(open_datadir(args), args.branch, args.node)
    with open_store(args) as store:
        _, secret = store.create(role, node=args.node, name=args.name, email=args.email)
    print(secret, flush=True)
    return 0


def run_list(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        tokens = store.list()
    rows = [("ID", "ROLE", "NODE", "NAME", "EMAIL", "CREATED")]
    for t in tokens:
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t.created_at))
        rows.append((t.id, t.role.value, t.node or "-", t.name, t.email, created))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        info = store.revoke(args.id)
    print(f"revoked token {info.id} ({info.role.value}, {info.name})")
    return 0
