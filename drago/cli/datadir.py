"""The ``--data DIR`` option (or ``DRAGO_DATA``) of the offline commands beside a server,
and ``--database URL`` (or ``DRAGO_DATABASE``) when the server keeps its runtime state
in PostgreSQL."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from drago.errors import InvalidRequest
from drago.server.datadir import DataDir
from drago.server.runtime.url import check_url


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, help="the server's data directory (or DRAGO_DATA)")


def open_data_directory(args: argparse.Namespace, *, ready: Callable[[DataDir], bool]) -> DataDir:
    """The data directory of ``--data`` or ``DRAGO_DATA``; InvalidRequest when there is
    none or it lacks what the command needs (``ready``): the server was never started."""
    root = args.data or (Path(os.environ["DRAGO_DATA"]) if os.environ.get("DRAGO_DATA") else None)
    if root is None:
        raise InvalidRequest("no data directory: give --data DIR (or DRAGO_DATA)")
    datadir = DataDir(root)
    if not ready(datadir):
        raise InvalidRequest(
            f"{root} is not a drago data directory (start `drago server --data {root}` once)"
        )
    return datadir


def add_database_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        help="the servers' PostgreSQL runtime database, postgresql://USER@HOST/DB "
        "(or DRAGO_DATABASE; default: the data directory's)",
    )


def database_url(args: argparse.Namespace) -> str | None:
    """The URL of ``--database`` or ``DRAGO_DATABASE`` (checked), or None: the data directory's."""
    url: str | None = args.database or os.environ.get("DRAGO_DATABASE") or None
    return None if url is None else check_url(url)
