"""Test like an attacker with write access to one file: no value in any field that
reaches a rendered config can add a line to a wg-quick file or a UAPI stream.

Either the validator refuses the repository, or everything rendered from it parses
back (with the strict parsers of :mod:`tests.render.hostile`) to exactly the intended
sections and keys. ``hostile_corpus.json`` keeps cases that must always be refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drago.render import render_state, to_wg_quick
from tests.render.hostile import FIELDS, check_outputs, validate

CORPUS = json.loads((Path(__file__).parent / "hostile_corpus.json").read_text())

VALID_STARTS = [
    "fd00::1",
    "fd00::1%",
    "10.20.0.9/16",
    "10.30.0.0/16",
    "192.0.2.1",
    "fra-1.example.net",
    "role=core",
    "wg0",
    "cWxd0Hq8a7uVDcX3UbKlQfZ1QOjYm2rE5x7N0yQ2VnM=",
    "",
]
BREAKS = ["", "\n", "\r", "\r\n", "\x00", "%", "%\n", " ", "\t", "#", "=", ",", "\u2028", "\x85"]
PAYLOADS = [
    "PreUp = touch /tmp/pwned",
    "[Interface]",
    "[Peer]",
    "Key = value",
    "public_key=" + "ab" * 32,
    "allowed_ip=0.0.0.0/0",
    "/64",
    "",
]
hostile = st.one_of(
    st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(VALID_STARTS),
        st.sampled_from(BREAKS),
        st.sampled_from(PAYLOADS),
    ),
    st.text(max_size=40),
    st.text(alphabet="0123456789abcdef:.%/[]\n =", max_size=30),
    st.text(min_size=200, max_size=400),
)


def test_the_corpus_is_large_and_covers_every_field() -> None:
    assert len(CORPUS) >= 200
    assert {case["field"] for case in CORPUS} == set(FIELDS)


@pytest.mark.parametrize("case", CORPUS, ids=[f"{i}-{c['field']}" for i, c in enumerate(CORPUS)])
def test_every_corpus_case_is_refused(case: dict[str, str]) -> None:
    assert validate(case["field"], case["value"]) is None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FIELDS)), hostile)
@example("node endpoint", "fd00::1%\nPreUp = touch /tmp/pwned")
@example("connection allowed ips", "fd00::%\n[Interface]/64")
@example("node endpoint", "fd00::1%x y")
def test_a_hostile_value_is_refused_or_renders_only_intended_lines(field: str, value: str) -> None:
    state = validate(field, value)
    if state is None:
        return
    for config in render_state(state, "c0ffee").values():
        check_outputs(config, to_wg_quick)


def test_the_example_repository_renders_only_intended_lines() -> None:
    """The checker itself accepts honest output (so a pass above means something)."""
    state = validate("node description", "Frankfurt gateway (Hetzner)")
    assert state is not None
    configs = render_state(state, "c0ffee")
    assert len(configs) >= 7
    for config in configs.values():
        check_outputs(config, to_wg_quick)
