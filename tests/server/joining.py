"""A change set of many new nodes joining the example repository's full mesh of
core gateways (with keys): the heaviest request a reader can make."""

from __future__ import annotations

import base64
import hashlib


def joining_nodes(count: int, prefix: str = "join") -> dict[str, str]:
    """``count`` node and key files, as ``POST /api/v1/validate`` takes them."""
    changes: dict[str, str] = {}
    for index in range(count):
        name = f"{prefix}-{index:04d}"
        third, fourth = divmod(index + 10, 250)
        changes[f"nodes/{name}.toml"] = (
            f'endpoint = "{name}.example.net"\nlabels = {{ role = "core" }}\n'
            f'[interfaces.backbone]\naddress = "10.20.{third + 100}.{fourth + 1}/16"\n'
        )
        key = base64.b64encode(hashlib.sha256(name.encode()).digest()).decode()
        changes[f"keys/{name}.toml"] = f'[interfaces.backbone]\npublic_key = "{key}"\n'
    return changes
