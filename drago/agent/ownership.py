"""The record of interfaces the agent created: it touches nothing else.

Kept as ``owned.json`` in the state directory (ifname -> network), written
before an interface is created so that a crash cannot orphan it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


class Ownership:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "owned.json"
        self._owned: dict[str, str] = {}
        if self.path.exists():
            data = json.loads(self.path.read_text())
            self._owned = {str(k): str(v) for k, v in data.get("interfaces", {}).items()}

    def owns(self, ifname: str) -> bool:
        return ifname in self._owned

    def interfaces(self) -> dict[str, str]:
        """ifname -> network of every owned interface."""
        return dict(self._owned)

    def add(self, ifname: str, network: str) -> None:
        if self._owned.get(ifname) != network:
            self._owned[ifname] = network
            self._save()

    def remove(self, ifname: str) -> None:
        if self._owned.pop(ifname, None) is not None:
            self._save()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"interfaces": self._owned}, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.path)
