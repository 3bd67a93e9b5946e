"""Property: whatever the old file and the new data, the edited file holds exactly the
new data, and applying a file's own data changes nothing."""

from __future__ import annotations

import tomllib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drago.model import documents

keys = st.text(alphabet="abcdefghij-_=.", min_size=1, max_size=6)
scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.text(max_size=12),
)
leaf = st.one_of(scalars, st.lists(st.text(max_size=8), max_size=3))
flat = st.dictionaries(keys, leaf, max_size=4)
value = st.one_of(
    leaf,
    flat,
    st.dictionaries(keys, flat, min_size=1, max_size=3),
    st.lists(flat.filter(bool), min_size=1, max_size=3),
)
data = st.dictionaries(keys, value, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=data, new=data)
def test_update_holds_exactly_the_new_data(old: dict[str, Any], new: dict[str, Any]) -> None:
    text = documents.create(old)
    assert tomllib.loads(text) == old
    updated = documents.update("x.toml", text, new)
    assert tomllib.loads(updated) == new


@settings(max_examples=100, deadline=None)
@given(old=data)
def test_own_data_changes_nothing(old: dict[str, Any]) -> None:
    text = documents.create(old)
    assert documents.update("x.toml", text, tomllib.loads(text)) == text
