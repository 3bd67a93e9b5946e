"""The last config the agent applied, cached so it can be re-applied at boot."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from drago.render.config import NodeConfig


class ConfigCache:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "config.json"

    def load(self) -> NodeConfig | None:
        """The cached config, or None when there is none or it is damaged."""
        try:
            return NodeConfig.model_validate_json(self.path.read_bytes())
        except (FileNotFoundError, ValidationError):
            return None

    def save(self, config: NodeConfig) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(config.to_json())
        os.replace(tmp, self.path)
