"""The ``--data DIR`` option (or ``DRAGO_DATA``) of the offline commands beside a server."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from drago.errors import InvalidRequest
from drago.server.datadir import DataDir


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
