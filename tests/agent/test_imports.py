"""The agent must run without the server's dependencies."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = (
    "starlette",
    "dulwich",
    "uvicorn",
    "watchfiles",
    "drago.server",
    "drago.store",
    "drago.cli",
)


def test_agent_does_not_import_server_dependencies() -> None:
    code = (
        "import json, sys\n"
        "import drago.agent.cli, drago.agent.loop, drago.agent.backends\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = json.loads(out.stdout)
    assert "drago.agent.cli" in modules and "pyroute2" in modules
    leaked = [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert leaked == []
