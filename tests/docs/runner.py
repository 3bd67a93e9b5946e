"""Run the shell blocks of a Markdown document as a reader would type them.

:func:`sh_blocks` extracts the fenced ``sh`` blocks; :class:`Sandbox` is the
reader's machine, all of it in one temporary directory: a HOME for git's
config, ``~/.ssh`` and ``~/.config/git``, a ``bin/`` with ``drago`` (this
interpreter's drago, the one under test), an ``$EDITOR`` script that makes the
edits the text describes, and a ``GIT_ASKPASS`` program that answers git's
user name and password prompts the way a person would, counting how often it
is asked. Processes run in their own session: with no terminal to prompt on,
``ssh-keygen`` reads the (empty) passphrase from stdin.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_BLOCK_RE = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_LISTENING_RE = re.compile(r"listening on (https?://\S+)")


def sh_blocks(markdown: str) -> list[str]:
    """The fenced ``sh`` blocks of ``markdown``, in order."""
    return [m[1] for m in _BLOCK_RE.finditer(markdown)]


def section(markdown: str, heading: str) -> str:
    """The text under ``heading`` (a ``## `` line) up to the next heading of that level."""
    start = markdown.index(f"\n{heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end >= 0 else len(markdown)]


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@dataclass
class Sandbox:
    root: Path
    edits: dict[str, str] = field(default_factory=dict)  # file name -> Python edit code

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.bin = self.root / "bin"
        self.work = self.root / "work"
        for folder in (self.home, self.bin, self.work):
            folder.mkdir(parents=True, exist_ok=True)
        entry = "from drago.cli.main import entry; entry()"
        _executable(
            self.bin / "drago",
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c {shlex.quote(entry)} "$@"\n',
        )
        self.asked = self.root / "askpass.log"

    def answer_git_prompts(self, user: str, password: str) -> None:
        """GIT_ASKPASS: ``user`` for the user name prompt, ``password`` for the password."""
        _executable(
            self.root / "askpass",
            "#!/bin/sh\n"
            f'echo "$1" >> {shlex.quote(str(self.asked))}\n'
            'case "$1" in\n'
            f"  Username*) echo {shlex.quote(user)} ;;\n"
            f"  *) echo {shlex.quote(password)} ;;\n"
            "esac\n",
        )

    def password_prompts(self) -> int:
        if not self.asked.exists():
            return 0
        return sum(1 for line in self.asked.read_text().splitlines() if line.startswith("Password"))

    def editor(self) -> Path:
        """An ``$EDITOR`` that runs ``self.edits[name]`` (Python, with ``path`` bound) on a file."""
        cases = "\n".join(
            f"if path.name == {name!r}:\n    {code}\n    sys.exit(0)"
            for name, code in self.edits.items()
        )
        return _executable(
            self.root / "editor",
            f"#!{sys.executable}\nimport pathlib, sys\npath = pathlib.Path(sys.argv[1])\n{cases}\n"
            'sys.exit(f"the test editor has no edit for {path}")\n',
        )

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_ASKPASS": str(self.root / "askpass"),
            "EDITOR": str(self.editor()),
            "PYTHONUNBUFFERED": "1",
        }
        if "PYTHONPATH" in os.environ:  # a worktree under test stays first on the path
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        return {**env, **extra}

    def run(self, script: str, *, cwd: Path, env: dict[str, str], timeout: float = 180) -> str:
        """Run ``script`` in one bash (``set -eo pipefail``); its output, or AssertionError."""
        done = subprocess.run(
            ["bash", "-c", "set -eo pipefail\n" + script],
            cwd=cwd,
            env=env,
            input="\n" * 8,  # Enter at every prompt (ssh-keygen's passphrase: none)
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"exit {done.returncode}:\n{output[-6000:]}"
        return output


@dataclass
class Background:
    """A documented long-running command (``drago server ...``) started with bash ``exec``."""

    command: str
    cwd: Path
    env: dict[str, str]
    log_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""

    @property
    def out(self) -> str:
        return (self.log_dir / "stdout").read_text(errors="replace")

    @property
    def err(self) -> str:
        return (self.log_dir / "stderr").read_text(errors="replace")

    def start(self, timeout: float = 60) -> Background:
        with (
            (self.log_dir / "stdout").open("wb") as out,
            (self.log_dir / "stderr").open("wb") as err,
        ):
            self.proc = subprocess.Popen(
                ["bash", "-c", "exec " + self.command],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            found = _LISTENING_RE.search(self.out)
            if found:
                time.sleep(0.3)  # the rest of the announcement
                self.url = found[1]
                return self
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"`{self.command}` did not start:\n{self.out}\n{self.err[-4000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
