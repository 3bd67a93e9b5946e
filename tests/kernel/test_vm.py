"""The kernel tier: the kernel-backend tests, run inside a VM with the real module.

The host cannot load the ``wireguard`` module, so one session fixture boots
Debian's kernel under QEMU (``scripts/kernel-vm``) and runs pytest inside it on
the kernel-backend tests: the backend contract (``[kernel]`` of
``tests/agent/test_backend_contract.py``) and the agent end to end
(``tests/kernel/test_agent_e2e.py``). The guest writes a JUnit report into the
shared work directory; each guest test becomes one host test here that fails
with the guest's output. A VM that cannot start fails every test of the tier.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNEL_VM = ROOT / "scripts" / "kernel-vm"
#: guest module -> the parameter id its kernel tests carry ("" when not parametrized)
GUEST_MODULES = {
    "tests.agent.test_backend_contract": "[kernel]",
    "tests.kernel.test_agent_e2e": "",
}
#: Booting, Python start-up and the tests, emulated on a busy 2-core machine.
VM_TIMEOUT = 900

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(VM_TIMEOUT + 60)]


def guest_tests() -> list[str]:
    """The ids the guest run must report: ``module::test[param]`` for each guest test."""
    ids: list[str] = []
    for name, param in GUEST_MODULES.items():
        module = importlib.import_module(name)
        ids.extend(
            f"{name}::{attr}{param}"
            for attr in sorted(vars(module))
            if attr.startswith("test_") and callable(getattr(module, attr))
        )
    return ids


@dataclass(frozen=True)
class GuestResult:
    outcome: str  #: passed, failed, error or skipped
    details: str


@dataclass(frozen=True)
class GuestRun:
    code: int
    results: dict[str, GuestResult]
    output: str


def read_junit(path: Path) -> dict[str, GuestResult]:
    """``module::name`` -> result, from pytest's JUnit XML."""
    results: dict[str, GuestResult] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        key = f"{case.get('classname')}::{case.get('name')}"
        outcome, details = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                details = "\n".join(
                    part for part in (child.get("message") or "", child.text or "") if part
                )
                break
        captured = "\n".join(
            child.text or "" for child in case if child.tag in ("system-out", "system-err")
        )
        results[key] = GuestResult(outcome, f"{details}\n{captured}".strip())
    return results


def vm_unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("qemu-system-x86_64", "busybox", "modprobe", "depmod", "cpio", "apt-get"):
        if shutil.which(tool) is None:
            return f"needs {tool} (scripts/install-system-deps)"
    return None


@pytest.fixture(scope="session")
def guest_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GuestRun]:
    """One VM for the session: pytest on the kernel-backend tests inside it."""
    reason = vm_unavailable()
    if reason:
        pytest.fail(f"the kernel tier cannot run: {reason}")
    work = tmp_path_factory.mktemp("kernel-vm")
    junit = work / "junit.xml"
    command = [
        "env",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1",
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "pytest_timeout",
        "-p",
        "no:cacheprovider",
        "-m",
        "kernel",
        "--durations=5",
        f"--junitxml={junit}",
        *(name.replace(".", "/") + ".py" for name in GUEST_MODULES),
    ]
    vm = [sys.executable, str(KERNEL_VM), "run", "--work", str(work)]
    done = subprocess.run(
        [*vm, "--timeout", str(VM_TIMEOUT - 30), "--", *command],
        capture_output=True,
        text=True,
        timeout=VM_TIMEOUT,
    )
    output_file = work / "output.log"
    output = output_file.read_text(errors="replace") if output_file.exists() else ""
    if done.returncode not in (0, 1) or not junit.exists():
        pytest.fail(
            f"the kernel VM run failed (exit {done.returncode}):\n{done.stderr[-6000:]}\n"
            f"--- guest output\n{output[-6000:]}",
            pytrace=False,
        )
    yield GuestRun(done.returncode, read_junit(junit), output)


@pytest.mark.parametrize("test_id", guest_tests())
def test_in_vm(guest_run: GuestRun, test_id: str) -> None:
    result = guest_run.results.get(test_id)
    if result is None:
        pytest.fail(
            f"the guest did not run {test_id}; it ran {sorted(guest_run.results)}\n"
            f"--- guest output\n{guest_run.output[-6000:]}",
            pytrace=False,
        )
    if result.outcome != "passed":
        pytest.fail(f"{result.outcome} in the kernel VM:\n{result.details}", pytrace=False)


def test_guest_ran_nothing_else(guest_run: GuestRun) -> None:
    """Every guest test is mirrored here: a new one cannot fail unseen."""
    assert sorted(guest_run.results) == sorted(guest_tests())


def test_a_vm_that_cannot_start_fails_loudly(tmp_path: Path) -> None:
    """What the fixture sees when QEMU gives up (here: too little memory for the
    initramfs): exit 125 and QEMU's reason, never a silent pass."""
    reason = vm_unavailable()
    if reason:
        pytest.fail(f"the kernel tier cannot run: {reason}")
    done = subprocess.run(
        [
            sys.executable,
            str(KERNEL_VM),
            "run",
            "--work",
            str(tmp_path),
            "--memory",
            "1",
            "--timeout",
            "120",
            "--",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 125, done.stderr
    assert "the guest never reported" in done.stderr
    assert "qemu" in done.stderr
    assert not (tmp_path / "exit-code").exists()
