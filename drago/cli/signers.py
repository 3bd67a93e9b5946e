"""``drago signers add|remove|list --data DIR``: who may sign commits of the live branch.

The list is ``DIR/allowed_signers`` in git's allowed_signers format; the
server re-reads it when it changes, so no restart is needed. ``list`` prints
it with the server's own key first, ready for ``gpg.ssh.allowedSignersFile``.

With ``--database URL`` (or ``DRAGO_DATABASE``) the list is the one that the
servers sharing that PostgreSQL database trust (each server's own key is in it
too); a change is seen by every server at once.

These commands work beside a running server (they do not take its lock on
DIR): the file is replaced atomically, so the server reads the old list or
the new one, and edits are serialised, so two at once both land.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from drago.cli.datadir import (
    add_data_argument,
    add_database_argument,
    database_url,
    open_data_directory,
)
from drago.errors import InvalidRequest
from drago.server.datadir import DataDir
from drago.server.runtime.stores import open_runtime
from drago.signing import PublicKey, ServerKey, TrustedSigners


def register(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "signers", help="add, remove or list trusted commit signers", description=__doc__
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="trust an SSH public key for a principal (email)")
    add_data_argument(add)
    add_database_argument(add)
    add.add_argument("--principal", required=True, help="who the key belongs to (email)")
    add.add_argument("pubkey", type=Path, help="the public key file (e.g. ~/.ssh/id_ed25519.pub)")
    add.set_defaults(run=run_add)

    remove = actions.add_parser("remove", help="stop trusting every key of a principal")
    add_data_argument(remove)
    add_database_argument(remove)
    remove.add_argument("--principal", required=True)
    remove.set_defaults(run=run_remove)

    listing = actions.add_parser("list", help="print the trusted signers (allowed_signers format)")
    add_data_argument(listing)
    add_database_argument(listing)
    listing.set_defaults(run=run_list)


def data_directory(args: argparse.Namespace) -> DataDir:
    """The data directory, which must hold the server key (its first start made it)."""
    return open_data_directory(args, ready=lambda datadir: datadir.server_key.is_file())


@contextmanager
def open_signers(args: argparse.Namespace) -> Iterator[TrustedSigners]:
    """The trusted signers of ``--database`` or of the data directory, while editing.

    Edits of the file are serialised between processes (:meth:`DataDir.editing`);
    the database serialises its own.
    """
    datadir = data_directory(args)
    url = database_url(args)
    server_key = ServerKey.load_or_create(datadir.server_key)
    if url is None:
        with datadir.editing(datadir.allowed_signers):
            yield TrustedSigners.load(datadir.allowed_signers, server_key)
        return
    runtime = open_runtime(datadir, url)
    try:
        yield TrustedSigners.load(runtime.signers, server_key)
    finally:
        runtime.close()


def run_add(args: argparse.Namespace) -> int:
    path: Path = args.pubkey
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidRequest(f"cannot read {path}: {exc.strerror}") from None
    key, _ = PublicKey.from_line(text)
    if key.key_type != "ssh-ed25519":
        raise InvalidRequest(f"{key.key_type} keys are not supported; sign with an ssh-ed25519 key")
    key.ed25519_raw()
    with open_signers(args) as signers:
        signer = signers.add(args.principal, key)
    print(f"trusted {signer.key.fingerprint} for {args.principal}")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    with open_signers(args) as signers:
        count = signers.remove(args.principal)
    print(f"removed {count} key{'s' if count != 1 else ''} of {args.principal}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with open_signers(args) as signers:
        lines = signers.lines()
    for line in lines:
        print(line)
    return 0
