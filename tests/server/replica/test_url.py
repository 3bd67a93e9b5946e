"""The primary's URL grammar: plain http(s) base URLs, never credentials."""

from __future__ import annotations

import pytest

from drago.server.replica.url import primary_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://drago.example.net", "https://drago.example.net"),
        ("https://[::1]:8443/drago/", "https://[::1]:8443/drago"),
    ],
)
def test_plain_urls_are_kept_without_a_trailing_slash(given: str, expected: str) -> None:
    assert primary_url(given) == expected


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("ftp://drago.example.net", "not an http"),
        ("drago.example.net:8080", "not an http"),
        ("http://x:secret@drago.example.net", "must not hold credentials"),
        ("http://drago.example.net:0", "port"),
        ("http://drago.example.net:99999", "port"),
        ("http://drago.example.net/?token=x", "no query"),
        ("http://drago.example.net/#x", "no query"),
        ("http://drago.example.net/a b", "not plain"),
        ("http://drago.example.net/a%0a", "not plain"),
        ("http://drago_net/", "not HOST"),
    ],
)
def test_anything_else_is_refused_with_the_reason(given: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        primary_url(given)
