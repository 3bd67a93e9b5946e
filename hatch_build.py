"""Build the web UI while the Python package is built, so ``pip install`` is the only step.

A hatchling build hook for the wheel (and editable) target: when the UI sources in
``ui/`` are newer than the build in ``drago/server/ui_dist/``, it runs ``npm ci``
(only when the lockfile changed since the last install) and ``npm run build``. The
output is gitignored and shipped in the wheel through hatch ``artifacts``.

The build needs Node.js 18 or newer with npm (the distribution's packages do:
Debian 12 and Ubuntu 24.04 ship Node.js 18). When they are missing or too old the
build fails with a message saying what to install, because pip hides a hook's
warnings and a server without its UI is a worse surprise. Set
``DRAGO_SKIP_UI_BUILD=1`` to install without the web UI on purpose (``drago-agent``
on a node; the server then shows a page that explains how to build the UI).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: The oldest Node.js the UI toolchain supports (Vite 6: ``^18.0.0 || ^20.0.0 || >=22.0.0``).
MIN_NODE = (18, 0)
SKIP_HINT = "or set DRAGO_SKIP_UI_BUILD=1 to install without the web UI (e.g. for drago-agent)"

#: What the build reads, besides everything under ``ui/src``.
INPUTS = ("index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts")


def newest_mtime(paths: Iterable[Path]) -> float:
    return max((p.stat().st_mtime for p in paths if p.is_file()), default=0.0)


def sources(ui: Path) -> list[Path]:
    return [ui / name for name in INPUTS] + sorted((ui / "src").rglob("*"))


def needs_build(ui: Path, dist: Path) -> bool:
    index = dist / "index.html"
    if not index.is_file():
        return True
    return newest_mtime(sources(ui)) > index.stat().st_mtime


def needs_install(ui: Path) -> bool:
    """``npm ci`` when node_modules is missing or older than the lockfile."""
    installed = ui / "node_modules" / ".package-lock.json"
    if not installed.is_file():
        return True
    return (ui / "package-lock.json").stat().st_mtime > installed.stat().st_mtime


def say(message: str) -> None:
    print(f"drago ui: {message}", file=sys.stderr, flush=True)


class UIBuildError(RuntimeError):
    """The web UI cannot be built; the message says what to install or set."""


def node_version(node: str) -> tuple[int, int] | None:
    """(major, minor) of the ``node`` program, or None when it does not answer."""
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+\S*", done.stdout.strip())
    return (int(match[1]), int(match[2])) if done.returncode == 0 and match else None


def find_toolchain() -> str:
    """The ``npm`` program to build with; UIBuildError when Node.js or npm is missing or old."""
    wanted = f"Node.js {MIN_NODE[0]}.{MIN_NODE[1]} or newer and npm"
    install = "install them (Debian/Ubuntu: apt-get install nodejs npm) and run pip again"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = [name for name, path in (("node", node), ("npm", npm)) if path is None]
        raise UIBuildError(
            f"the web UI needs {wanted} to build, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed: "
            f"{install}, {SKIP_HINT}"
        )
    version = node_version(node)
    if version is None:
        raise UIBuildError(f"`{node} --version` did not answer: {install}, {SKIP_HINT}")
    if version < MIN_NODE:
        raise UIBuildError(
            f"the web UI needs {wanted} to build, and {node} is Node.js "
            f"{version[0]}.{version[1]}: {install}, {SKIP_HINT}"
        )
    return npm


def run(npm: str, args: list[str], cwd: Path) -> None:
    say(f"npm {' '.join(args)}")
    done = subprocess.run([npm, *args], cwd=cwd, check=False)
    if done.returncode != 0:
        raise UIBuildError(
            f"`npm {' '.join(args)}` in {cwd} failed (exit {done.returncode}): "
            f"see its output above, {SKIP_HINT}"
        )


def build_ui(root: Path) -> None:
    ui = root / "ui"
    dist = root / "drago" / "server" / "ui_dist"
    if os.environ.get("DRAGO_SKIP_UI_BUILD") == "1":
        say("DRAGO_SKIP_UI_BUILD=1: not building the web UI")
        return
    if not (ui / "package.json").is_file():
        if not (dist / "index.html").is_file():
            raise UIBuildError(f"no UI sources in {ui} and no build in {dist}: {SKIP_HINT}")
        return
    if not needs_build(ui, dist):
        say(f"{dist} is up to date")
        return
    npm = find_toolchain()
    if needs_install(ui):
        run(npm, ["ci", "--include=dev", "--no-audit", "--no-fund"], ui)
    run(npm, ["run", "build"], ui)


class UIBuildHook(BuildHookInterface[Any]):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        build_ui(Path(self.root))
