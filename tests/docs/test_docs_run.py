"""The README's quick start and every ``sh`` block of docs/gitops.md, run as written
against a real server in a temporary directory: a doc that drifts from the code fails.

Substituted, and nothing else (see :mod:`tests.docs.runner` for the sandbox):

README quick start
    ``sudo apt-get ...`` (system packages), ``python3 -m venv .venv``,
    ``. .venv/bin/activate`` and ``pip install .`` are skipped: the tests run in an
    environment where drago is installed already, and a test installs nothing.
    The rest runs as written in a directory holding a copy of ``example-repo``,
    with ``/tmp/drago-demo`` replaced by a temporary directory and
    ``DRAGO_LISTEN=127.0.0.1:0`` (the server's own setting) so that runs do not
    fight over port 8080.
docs/gitops.md
    ``http://drago.example.net:8080`` is the quick start's server,
    ``/var/lib/drago`` its data directory, ``drago_XXXX`` its bootstrap admin
    token, ``anna.pub`` the public key the guide created; ``pip install
    drago-...whl`` is skipped (installed already). ``$EDITOR`` makes the edits the
    text describes; git's password prompt is answered with the token through
    ``GIT_ASKPASS``, as a person would type it. All blocks run in one shell, in
    order, like a reader typing them into one terminal.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.docs.runner import Background, Sandbox, section, sh_blocks

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
#: The quick start's install steps, skipped here because the package is installed.
INSTALL_STEPS = ["python3 -m venv .venv", ". .venv/bin/activate", "pip install ."]
DEMO_DATA = "/tmp/drago-demo"
DOC_URL = "http://drago.example.net:8080"
DOC_DATA = "/var/lib/drago"
DOC_TOKEN = "drago_XXXX"
#: What the reader's editor does in docs/gitops.md (Python with ``path`` bound).
EDITS = {
    "fra-1.toml": "path.write_text(path.read_text().replace("
    "'endpoint = \"fra-1.example.net\"', 'endpoint = \"fra-1.new.example.net\"', 1))",
    "ham-gw.toml": 'path.write_text(\'description = "Hamburg office gateway"\\n'
    'endpoint = "198.51.100.20"\\n'
    'labels = { role = "office", site = "spoke" }\\n\\n'
    '[interfaces.site]\\naddress = "10.30.3.1/16"\\nroutes = ["192.168.71.0/24"]\\n\')',
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    box = Sandbox(tmp_path_factory.mktemp("reader"), edits=EDITS)
    shutil.copytree(ROOT / "example-repo", box.work / "example-repo")
    return box


def quick_start_commands() -> tuple[list[str], str]:
    """(commands run in order, the server command) of the README's quick start."""
    block = sh_blocks(section((ROOT / "README.md").read_text(), "## Quick start"))[0]
    lines = block.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("sudo apt-get "), block  # system packages
    steps = lines[1].split(" && ")
    assert steps[:3] == INSTALL_STEPS, "the install steps changed: update INSTALL_STEPS"
    *commands, server = steps[3:]
    assert server.startswith("drago server "), server
    return commands, server


@pytest.fixture(scope="module")
def server(sandbox: Sandbox) -> Iterator[Background]:
    """The README's quick start, as written (but for INSTALL_STEPS), leaving its server up."""
    commands, command = quick_start_commands()
    assert DEMO_DATA in command
    data = sandbox.root / "drago-demo"
    env = sandbox.env(DRAGO_LISTEN="127.0.0.1:0")
    sandbox.run(" && ".join(commands), cwd=sandbox.work, env=env)
    running = Background(command.replace(DEMO_DATA, str(data)), sandbox.work, env, sandbox.root)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _printed(output: str, label: str) -> str:
    found = re.search(rf"^  {label}:\s+(\S+)", output, re.MULTILINE)
    assert found, f"the server did not print {label!r}:\n{output}"
    return found[1]


def test_quick_start_prints_urls_that_answer(server: Background, sandbox: Sandbox) -> None:
    data = sandbox.root / "drago-demo"
    token = (data / "bootstrap-token").read_text().strip()
    assert _printed(server.out, "bootstrap admin token") == token
    ui = httpx.get(_printed(server.out, "web UI"))
    assert ui.status_code == 200 and "<html" in ui.text.lower()
    api = httpx.get(_printed(server.out, "API"))
    assert api.status_code == 200
    assert httpx.get(server.url + api.json()["openapi"]).status_code == 200
    refs = httpx.get(
        _printed(server.out, "git") + "/info/refs",
        params={"service": "git-upload-pack"},
        auth=("anyone", token),
    )
    assert refs.status_code == 200 and b"refs/heads/main" in refs.content


def gitops_script(url: str, data: Path, token: str) -> str:
    """docs/gitops.md's sh blocks with the substitutions of this module's docstring."""
    substitutions = {
        DOC_URL: url,
        DOC_DATA: str(data),
        DOC_TOKEN: token,
        " anna.pub ": " ~/.ssh/id_ed25519.pub ",
    }
    parts = []
    for number, block in enumerate(sh_blocks((ROOT / "docs" / "gitops.md").read_text()), 1):
        for text, replacement in substitutions.items():
            block = block.replace(text, replacement)
        lines = []
        for line in block.splitlines():
            # ssh-keygen's default key path comes from the password database, not $HOME:
            # without -f it would write to the real ~/.ssh of whoever runs the tests.
            assert "ssh-keygen" not in line or " -f ~/" in line, line
            if line.startswith("pip install "):
                lines.append(f"# skipped, installed already: {line}")
            else:
                lines.append(line)
        parts.append(f"echo '--- docs/gitops.md sh block {number}' >&2\n" + "\n".join(lines))
    return "\n".join(parts) + "\n"


def test_gitops_guide_runs_as_written(server: Background, sandbox: Sandbox) -> None:
    data = sandbox.root / "drago-demo"
    token = (data / "bootstrap-token").read_text().strip()
    sandbox.answer_git_prompts("anna", token)
    script = gitops_script(server.url, data, token)
    assert script.count("sh block") >= 9
    output = sandbox.run(script, cwd=sandbox.work, env=sandbox.env())

    # The token typed at the clone was kept by the credential helper: asked once.
    assert sandbox.password_prompts() == 1
    assert (sandbox.home / ".git-credentials").is_file()
    assert 'Good "git" signature' in output  # git verify-commit HEAD
    log = subprocess.run(
        ["git", "--git-dir", str(data / "repo.git"), "log", "--format=%s", "main"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert log[:2] == ["Hamburg office gateway", "fra-1: move to the new endpoint"]
    # The CI snippet: `drago plan origin/main HEAD` in the clone.
    plan = (sandbox.work / "network" / "plan.md").read_text()
    assert "ham-gw" in plan
    # The branch list and plan answered JSON.
    assert any(line.startswith("{") and "review/new-office" in line for line in output.splitlines())

    # The server's log at INFO: drago's own lines, not the libraries' chatter.
    log_lines = server.err.splitlines()
    assert any("drago.server.live" in line for line in log_lines)
    chatter = [line for line in log_lines if re.search(r" INFO (dulwich|watchfiles|uvicorn)", line)]
    assert not chatter, chatter[:5]
    json.loads(httpx.get(server.url + "/healthz").text)
