"""docs/agent.md names every flag of ``drago-agent`` in its synopsis and every setting
in its table, so the page cannot fall behind the command line."""

from __future__ import annotations

import re
from pathlib import Path

from drago.agent.cli import parser
from drago.agent.settings import FIELDS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "agent.md").read_text()


def test_the_synopsis_names_every_flag() -> None:
    synopsis = DOC[DOC.index("```\ndrago-agent") : DOC.index("## Install")]
    flags = {o for a in parser()._actions for o in a.option_strings if o != "--help"} - {"-h"}
    missing = sorted(
        f for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", synopsis)
    )
    assert not missing, f"docs/agent.md's synopsis lacks {missing}"
    assert "rotate-key NETWORK" in synopsis


def test_the_settings_table_names_every_setting() -> None:
    table = DOC[DOC.index("## Settings") : DOC.index("## Permissions")]
    missing = [name for name in FIELDS if f"`{name}`" not in table]
    assert not missing, f"docs/agent.md's settings table lacks {missing}"
