"""Build the web UI while the Python package is built, so ``pip install`` is the only step.

A hatchling build hook for the wheel (and editable) target: when the UI sources in
``ui/`` are newer than the build in ``drago/server/ui_dist/``, it runs ``npm ci``
(only when the lockfile changed since the last install) and ``npm run build``. The
output is gitignored and shipped in the wheel through hatch ``artifacts``.

Set ``DRAGO_SKIP_UI_BUILD=1`` to skip the step (the server then shows a page that
explains how to build the UI). Without ``npm`` the step is skipped with a warning.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

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


def run(npm: str, args: list[str], cwd: Path) -> None:
    say(f"npm {' '.join(args)}")
    done = subprocess.run([npm, *args], cwd=cwd, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"`npm {' '.join(args)}` in {cwd} failed (exit {done.returncode}); "
            "fix the UI build or set DRAGO_SKIP_UI_BUILD=1 to install without the web UI"
        )


def build_ui(root: Path) -> None:
    ui = root / "ui"
    dist = root / "drago" / "server" / "ui_dist"
    if os.environ.get("DRAGO_SKIP_UI_BUILD") == "1":
        say("DRAGO_SKIP_UI_BUILD=1: not building the web UI")
        return
    if not (ui / "package.json").is_file():
        if not (dist / "index.html").is_file():
            say(f"no UI sources in {ui} and no build in {dist}: the web UI will be missing")
        return
    if not needs_build(ui, dist):
        say(f"{dist} is up to date")
        return
    npm = shutil.which("npm")
    if npm is None:
        say("npm not found: the web UI is not built (install Node.js 20+ and npm, then reinstall)")
        return
    if needs_install(ui):
        run(npm, ["ci", "--include=dev", "--no-audit", "--no-fund"], ui)
    run(npm, ["run", "build"], ui)


class UIBuildHook(BuildHookInterface[Any]):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        build_ui(Path(self.root))
