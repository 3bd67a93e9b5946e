"""The plan in API answers is typed (PlanOut): every plan's data reads as the model
and serialises back to exactly the same JSON."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from drago.render.configdiff import Limits, plan_configs
from drago.server.api.models import PlanOut
from tests.render.test_configdiff import NET, NODES, configs


def _variants() -> list[tuple[Any, Any, Limits | None]]:
    moved = copy.deepcopy(NODES)
    moved["nyc-1"]["endpoint"] = "5.6.7.8"
    moved["fra-1"]["interfaces"]["bb"]["listen_port"] = 51000
    fewer = {k: v for k, v in NODES.items() if k != "sgp-1"}
    net = {**NET, "persistent_keepalive": 10}
    return [
        (configs(), configs(), None),
        (configs(), configs(moved), None),
        (configs(), configs(moved), Limits(nodes=1, changes=1, budget=1)),
        (configs(), configs(moved), Limits(only="fra-1")),
        (configs(fewer), configs(), None),
        (configs(), configs(fewer), None),
        (configs(), configs(net=net), Limits(nodes=2, changes=2)),
    ]


@pytest.mark.parametrize(("old", "new", "limits"), _variants())
def test_the_plan_model_keeps_the_answer_as_it_is(
    old: Any, new: Any, limits: Limits | None
) -> None:
    data = plan_configs(old, new, limits).to_dict()
    assert PlanOut.model_validate(data, strict=True).model_dump(mode="json") == data
