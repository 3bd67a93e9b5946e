"""What every benchmark shares: the machine it ran on, and its section of docs/benchmarks.md.

Each benchmark owns one section of ``docs/benchmarks.md`` between
``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` and rewrites only that.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def machine() -> str:
    """CPU count and model, and the Python version, for the figures' footnote."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def _pattern(name: str) -> re.Pattern[str]:
    begin, end = _markers(name)
    return re.compile(re.escape(begin) + r"\n?(.*?)" + re.escape(end), re.DOTALL)


def read_section(name: str) -> str:
    """The current body of section ``name`` (empty when there is none yet)."""
    text = DOC.read_text() if DOC.exists() else ""
    found = _pattern(name).search(text)
    return found.group(1) if found else ""


def write_section(name: str, body: str) -> None:
    """Replace section ``name`` with ``body`` (appended when the section is new)."""
    begin, end = _markers(name)
    section = f"{begin}\n{body.strip(chr(10))}\n{end}"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = _pattern(name)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text)
