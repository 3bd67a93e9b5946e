"""The grammar of config values: each pattern agrees with the parser it stands for,
Python's ``re`` and pydantic-core's regex engine agree with each other, and nothing
a pattern admits can end a line."""

from __future__ import annotations

import base64
import ipaddress
import re
from typing import Annotated

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import StringConstraints, TypeAdapter, ValidationError

from drago import grammar
from drago.errors import UnsafeValue

LINE_BREAKERS = "\n\r\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
ALL_PATTERNS = {
    name: getattr(grammar, name)
    for name in (
        "IPV4",
        "IPV6",
        "IP",
        "CIDR",
        "HOST",
        "PORT",
        "ENDPOINT",
        "IP_ENDPOINT",
        "PUBLIC_KEY",
        "HEX_KEY",
        "NAME",
        "IFNAME",
        "CONFIG_HASH",
        "REVISION",
    )
}


def rust_matches(pattern: str, value: str) -> bool:
    """What pydantic-core (the rendered config's checker) makes of ``value``."""
    adapter: TypeAdapter[str] = TypeAdapter(
        Annotated[str, StringConstraints(pattern=grammar.anchored(pattern))]
    )
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


ipv4s = st.ip_addresses(v=4).map(str)
ipv6s = st.one_of(
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda a: a.exploded),
    st.ip_addresses(v=6).map(lambda a: a.exploded.upper()),
    st.ip_addresses(v=4).map(lambda a: f"::ffff:{a}"),
    st.builds(lambda a, b: f"{a.exploded[:29]}:{b}", st.ip_addresses(v=6), st.ip_addresses(v=4)),
)
ip_like = st.text(alphabet="0123456789abcdefABCDEF:.%/ x\n", max_size=45)


@given(ipv4s)
def test_every_ipv4_address_matches(text: str) -> None:
    assert grammar.matches(grammar.IPV4, text)
    assert grammar.matches(grammar.IP, text)


@given(ipv6s)
def test_every_ipv6_text_form_matches(text: str) -> None:
    ipaddress.IPv6Address(text)  # the generator makes only valid forms
    assert grammar.matches(grammar.IPV6, text), text


@given(ip_like)
@example("fd00::1%eth0")
@example("fd00::1%\nPreUp = id")
@example("1:2:3:4:5:6:7::")
@example("::1:2:3:4:5:6:7")
@example("1::2:3:4:5:6:1.2.3.4")
@example("1.2.3.04")
def test_a_match_is_an_address_without_a_zone(text: str) -> None:
    """Whatever the pattern admits, ``ipaddress`` reads as the same kind of address."""
    if grammar.matches(grammar.IP, text):
        parsed = ipaddress.ip_address(text)
        assert "%" not in str(parsed)
    else:
        try:
            parsed = ipaddress.ip_address(text)
        except ValueError:
            return
        assert "%" in text, f"{text!r} is an address the grammar refuses"


@given(st.one_of(ipv4s, ipv6s), st.integers(0, 140))
def test_cidr_prefix_bounds(address: str, prefix: int) -> None:
    text = f"{address}/{prefix}"
    limit = 32 if ":" not in address else 128
    assert grammar.matches(grammar.CIDR, text) == (prefix <= limit)


@given(st.binary(min_size=32, max_size=32))
def test_every_key_in_canonical_base64_matches(raw: bytes) -> None:
    text = base64.b64encode(raw).decode()
    assert grammar.matches(grammar.PUBLIC_KEY, text)
    assert grammar.key_bytes(text) == raw


@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
        min_size=44,
        max_size=44,
    )
)
def test_a_matching_key_is_canonical(text: str) -> None:
    if grammar.matches(grammar.PUBLIC_KEY, text):
        raw = base64.b64decode(text, validate=True)
        assert len(raw) == 32 and base64.b64encode(raw).decode() == text


def test_other_spellings_of_a_key_are_refused_with_the_canonical_one() -> None:
    key = base64.b64encode(bytes(range(1, 33))).decode()
    last = key[-2]
    alias = key[:-2] + chr(ord(last) + 1) + "="  # same 32 bytes, unused bits set
    assert base64.b64decode(alias) == base64.b64decode(key)
    with pytest.raises(ValueError, match=re.escape(f"did you mean {key}?")):
        grammar.check_public_key(alias)
    with pytest.raises(ValueError, match="all-zero"):
        grammar.check_public_key(grammar.ZERO_KEY)
    for bad in (key + "\n", " " + key, key[:-1], "-" + key[1:], key + "AAAA"):
        with pytest.raises(ValueError):
            grammar.check_public_key(bad)


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("fra-1.example.net", True),
        ("localhost", True),
        ("a" * 63 + ".example", True),
        ("xn--bcher-kva.example", True),
        ("example.net.", False),
        ("-a.example", False),
        ("a-.example", False),
        ("a..b", False),
        ("a" * 64 + ".example", False),
        (".".join(["a" * 63] * 4), False),  # 255 characters
        ("10.1", False),
        ("0x7f.1", False),  # inet_aton would read it as 127.0.0.1
        ("1.2.3.4.5", False),
        ("host_name", False),
        ("ex ample.net", False),
        ("example.net\n", False),
    ],
)
def test_host_names_follow_rfc_1123(host: str, ok: bool) -> None:
    if ok:
        assert grammar.check_host(host) == host
    else:
        with pytest.raises(ValueError):
            grammar.check_host(host)


@pytest.mark.parametrize(
    ("value", "shown"),
    [("fd00::1", "fd00::1"), ("[fd00::1]", "fd00::1"), ("192.0.2.1", "192.0.2.1")],
)
def test_endpoint_hosts_are_addresses_or_names(value: str, shown: str) -> None:
    assert grammar.check_endpoint_host(value) == shown


@pytest.mark.parametrize(
    "value", ["fd00::1%eth0", "fd00::1%x y", "[fd00::1]:51820", "1.2.3.4:51820", "a b"]
)
def test_endpoint_hosts_refuse_zones_ports_and_spaces(value: str) -> None:
    with pytest.raises(ValueError):
        grammar.check_endpoint_host(value)


@pytest.mark.parametrize("text", ["Frankfurt gateway (Hetzner) — 2 x 10 Gbit/s", "", "a=b #c"])
def test_text_may_hold_spaces_and_punctuation(text: str) -> None:
    assert grammar.check_text(text) == text


@pytest.mark.parametrize("bad", list(LINE_BREAKERS + "\t\x1b\x7f\u202e\u200b\ufeff"))
def test_text_refuses_control_and_invisible_characters(bad: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        grammar.check_text(f"one{bad}two")
    with pytest.raises(UnsafeValue):
        grammar.require_text("comment", f"one{bad}two")


@settings(max_examples=300)
@given(st.sampled_from(sorted(ALL_PATTERNS)), st.text(max_size=60))
def test_no_pattern_admits_a_line_break_or_space(name: str, text: str) -> None:
    pattern = ALL_PATTERNS[name]
    for candidate in (text, text + "\n", "\n" + text, text + " x"):
        if grammar.matches(pattern, candidate):
            assert not any(ch.isspace() or ch in LINE_BREAKERS for ch in candidate)
            assert "#" not in candidate


@settings(max_examples=300)
@given(
    st.sampled_from(sorted(ALL_PATTERNS)),
    st.one_of(st.text(max_size=50), ip_like, ipv6s.map(lambda a: a + "\n")),
)
@example("IP", "fd00::1\n")
@example("PUBLIC_KEY", base64.b64encode(bytes(32)).decode() + "\n")
def test_python_and_pydantic_core_agree(name: str, text: str) -> None:
    """The writers (Python ``re``) and the rendered config (pydantic-core) must
    admit exactly the same strings, a final newline included."""
    pattern = ALL_PATTERNS[name]
    assert grammar.matches(pattern, text) == rust_matches(pattern, text)


def test_require_refuses_what_does_not_match() -> None:
    assert grammar.require("endpoint", grammar.ENDPOINT, "a.example:1") == "a.example:1"
    with pytest.raises(UnsafeValue, match="refusing to write endpoint"):
        grammar.require("endpoint", grammar.ENDPOINT, "a.example:1\nPreUp = id")
    with pytest.raises(UnsafeValue):
        grammar.require("endpoint", grammar.ENDPOINT, 5)
    assert grammar.require_int("port", 5, 1, 9) == 5
    for bad in (True, 0, 10, "5", 5.0):
        with pytest.raises(UnsafeValue):
            grammar.require_int("port", bad, 1, 9)


def test_commit_messages_refuse_control_characters_but_newline_and_tab() -> None:
    message_problem, escape_message_text = grammar.message_problem, grammar.escape_message_text
    assert message_problem("subject\n\n\tbody, ünïcode and emoji \U0001f600") is None
    for ch in [*map(chr, range(0x20)), "\x7f", *map(chr, range(0x80, 0xA0)), "\u2028", "\u202e"]:
        if ch not in "\n\t":
            assert message_problem(f"a{ch}b") is not None, repr(ch)
            assert message_problem(escape_message_text(f"a{ch}b")) is None
    assert escape_message_text("x\x1b[2K") == "x\\x1b[2K"
