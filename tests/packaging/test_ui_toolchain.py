"""The web UI builds with the Node.js that Debian 12 and Ubuntu 24.04 ship (18.19),
and the package build says clearly when Node.js or npm is missing or too old."""

from __future__ import annotations

import importlib.util
import json
import re
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Generic, TypeVar
from unittest import mock

import pytest

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
#: Node.js of the distributions: Debian 12 (18.19.0), Ubuntu 24.04 (18.19.1), and later lines.
DISTRIBUTION_NODES = ("18.19.0", "18.19.1", "20.11.0", "22.12.0")


def _load_hook() -> ModuleType:
    """hatch_build.py, importable without hatchling (pip installs it only while building)."""
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    interface = ModuleType("hatchling.builders.hooks.plugin.interface")
    interface.BuildHookInterface = _Interface  # type: ignore[attr-defined]
    fakes = {"hatchling.builders.hooks.plugin.interface": interface}
    have_hatchling = importlib.util.find_spec("hatchling") is not None
    with mock.patch.dict(sys.modules, {} if have_hatchling else fakes):
        spec.loader.exec_module(module)
    return module


class _Interface(Generic[T]):
    """Stands in for hatchling's BuildHookInterface (only subclassed at import)."""


hook = _load_hook()


def _version(text: str) -> tuple[int, int, int]:
    major, minor, patch = [*(int(p) for p in re.findall(r"\d+", text)[:3]), 0, 0, 0][:3]
    return major, minor, patch


def _comparator(version: tuple[int, int, int], comparator: str) -> bool:
    """One npm semver comparator (the forms engines fields use: ^ ~ >= > <= < = and x)."""
    match = re.fullmatch(
        r"(\^|~|>=|<=|>|<|=)?v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?", comparator
    )
    assert match, f"engines comparator {comparator!r} is not understood by this test"
    op = match[1] or "="
    numbers = [match[2], match[3], match[4]]
    given = sum(1 for n in numbers if n is not None and n not in ("x", "*"))
    bound = _version(".".join(n for n in numbers if n is not None and n not in ("x", "*")))
    if op == "^":
        upper = (bound[0] + 1, 0, 0) if bound[0] else (0, bound[1] + 1, 0)
        return bound <= version < upper
    if op == "~":
        upper = (bound[0], bound[1] + 1, 0) if given >= 2 else (bound[0] + 1, 0, 0)
        return bound <= version < upper
    if op == "=" and given < 3:
        return version[:given] == bound[:given]
    return {
        ">=": version >= bound,
        "<=": version <= bound,
        ">": version > bound,
        "<": version < bound,
        "=": version == bound,
    }[op]


def satisfies(version: str, engines: str) -> bool:
    parsed = _version(version)
    engines = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", engines)  # ">= 12" means ">=12"
    return any(
        all(_comparator(parsed, c) for c in alternative.split())
        for alternative in engines.split("||")
    )


def test_the_semver_subset_reads_engines_fields_like_npm() -> None:
    assert satisfies("18.19.0", "^18.0.0 || ^20.0.0 || >=22.0.0")
    assert not satisfies("21.1.0", "^18.0.0 || ^20.0.0 || >=22.0.0")
    assert not satisfies("18.19.0", "^20.19.0 || >=22.12.0")  # Vite 7 and later
    assert satisfies("18.19.0", ">=14.17")
    assert not satisfies("16.20.2", ">=18")
    assert satisfies("18.19.0", ">= 12")  # npm allows a space after the operator
    assert satisfies("18.19.0", "18.x")


@pytest.mark.parametrize("node", DISTRIBUTION_NODES)
def test_every_locked_package_supports_the_distributions_node(node: str) -> None:
    lock = json.loads((ROOT / "ui" / "package-lock.json").read_text())
    refused = {
        name or "(the UI)": entry["engines"]["node"]
        for name, entry in lock["packages"].items()
        if isinstance(entry.get("engines"), dict)
        and "node" in entry["engines"]
        and not satisfies(node, entry["engines"]["node"])
    }
    assert not refused, f"these packages do not run on Node.js {node}: {refused}"


def test_the_hook_minimum_is_what_the_ui_declares() -> None:
    declared = json.loads((ROOT / "ui" / "package.json").read_text())["engines"]["node"]
    major, minor = hook.MIN_NODE
    assert satisfies(f"{major}.{minor}.0", declared)
    assert not satisfies(f"{major - 1}.99.0", declared)


def _fake_path(tmp_path: Path, version: str | None, *, npm: bool = True) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    programs = {"npm": "#!/bin/sh\nexit 0\n"} if npm else {}
    if version is not None:
        programs["node"] = f"#!/bin/sh\necho {version}\n"
    for name, text in programs.items():
        program = bin_dir / name
        program.write_text(text)
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return str(bin_dir)


@pytest.mark.parametrize(
    ("node", "npm", "message"),
    [
        (None, True, "node is not installed"),
        ("v18.19.0", False, "npm is not installed"),
        (None, False, "node and npm are not installed"),
        ("v16.20.2", True, "is Node.js 16.20"),
        ("garbage", True, "did not answer"),
    ],
)
def test_a_missing_or_old_toolchain_fails_the_build_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, node: str | None, npm: bool, message: str
) -> None:
    monkeypatch.setenv("PATH", _fake_path(tmp_path, node, npm=npm))
    with pytest.raises(hook.UIBuildError) as caught:
        hook.find_toolchain()
    assert message in str(caught.value)
    assert "apt-get install nodejs npm" in str(caught.value)
    assert "DRAGO_SKIP_UI_BUILD=1" in str(caught.value)


@pytest.mark.parametrize("node", ["v18.19.0", "v20.19.2", "v24.1.0"])
def test_the_distributions_node_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, node: str
) -> None:
    monkeypatch.setenv("PATH", _fake_path(tmp_path, node))
    assert hook.find_toolchain() == str(tmp_path / "bin" / "npm")


def test_a_stale_build_without_node_fails_unless_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "checkout"
    (root / "ui" / "src").mkdir(parents=True)
    (root / "ui" / "package.json").write_text("{}")
    monkeypatch.setenv("PATH", _fake_path(tmp_path, None, npm=False))
    monkeypatch.delenv("DRAGO_SKIP_UI_BUILD", raising=False)
    with pytest.raises(hook.UIBuildError, match="not installed"):
        hook.build_ui(root)
    monkeypatch.setenv("DRAGO_SKIP_UI_BUILD", "1")
    hook.build_ui(root)  # skipped on purpose: no error
    assert not (root / "drago" / "server" / "ui_dist").exists()


def test_no_sources_and_no_build_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRAGO_SKIP_UI_BUILD", raising=False)
    with pytest.raises(hook.UIBuildError, match="no UI sources"):
        hook.build_ui(tmp_path)
