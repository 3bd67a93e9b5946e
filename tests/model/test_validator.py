"""A validator owns its caches: two validators share nothing, and no module of
drago.model keeps a cache of its own."""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections import OrderedDict

import drago.model
from drago.model.load import ParseCache
from drago.model.memo import IdentityMemo
from drago.model.validate import Validator
from tests.model.repo import example_files


def test_two_validators_share_nothing() -> None:
    first, second = Validator(), Validator()
    state = first.validate_files(example_files())
    parsed = first.parse_cache.misses
    assert parsed > 0
    second.validate_files(example_files())
    assert second.parse_cache.misses == parsed
    assert second.topology(state, "backbone") is not first.topology(state, "backbone")


def test_no_model_module_holds_a_cache() -> None:
    caches = (IdentityMemo, ParseCache, OrderedDict, threading.local)
    for info in pkgutil.iter_modules(drago.model.__path__):
        module = importlib.import_module(f"drago.model.{info.name}")
        held = [name for name, value in vars(module).items() if isinstance(value, caches)]
        assert held == [], f"drago.model.{info.name} holds {held}"
