"""Signing depends on nothing of drago but ``drago.errors``."""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED = ("drago", "drago.errors", "drago.signing")


def test_signing_imports_nothing_of_drago_but_errors() -> None:
    code = "import json, sys\nimport drago.signing\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = [m for m in json.loads(out.stdout) if m == "drago" or m.startswith("drago.")]
    assert "drago.signing.trust" in modules
    others = [m for m in modules if not any(m == a or m.startswith(a + ".") for a in ALLOWED)]
    assert others == []
