"""Tests for rfc1459 casemapping, mask matching and the nick / channel name rules."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miniircd.protocol.casemap import (
    CHANNEL_TYPES,
    fold,
    is_channel_name,
    is_valid_channel,
    is_valid_nick,
    mask_matches,
)

# --- fold ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Nick", "nick"),
        ("NICK[1]", "nick{1}"),
        ("a\\b", "a|b"),
        ("x~y", "x^y"),
        ("[]\\~", "{}|^"),
        ("{}|^", "{}|^"),
        ("#Chan", "#chan"),
        ("123-_`", "123-_`"),
        ("", ""),
    ],
)
def test_fold(name: str, folded: str) -> None:
    assert fold(name) == folded


def test_rfc1459_equivalents_fold_together() -> None:
    assert fold("Nick[1]") == fold("nick{1}")
    assert fold("A\\B~") == fold("a|b^")


def test_fold_leaves_non_ascii_alone() -> None:
    assert fold("ÉÀÜ") == "ÉÀÜ"
    assert fold("İ") == "İ"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_fold_is_idempotent_and_length_preserving(name: str) -> None:
    folded = fold(name)
    assert fold(folded) == folded
    assert len(folded) == len(name)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz{}|^0123456789-_`", max_size=30))
def test_fold_ignores_rfc1459_case(name: str) -> None:
    upper = name.translate(
        str.maketrans("abcdefghijklmnopqrstuvwxyz{}|^", "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~")
    )
    assert fold(upper) == fold(name) == name


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=30) | st.text(alphabet="AZaz[]\\~{}|^09-É", max_size=30))
def test_fold_is_exactly_the_rfc1459_table(name: str) -> None:
    """The ASCII shortcut (str.lower) must agree with the table, character for character."""
    table = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~", "abcdefghijklmnopqrstuvwxyz{}|^")
    assert fold(name) == name.translate(table)


# --- nicks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nick",
    ["a", "Z", "alice", "Bob42", "x-y", "[away]", "\\o", "`tick", "_under", "^hat", "{x}", "a|b"],
)
def test_valid_nicks(nick: str) -> None:
    assert is_valid_nick(nick, 30)


@pytest.mark.parametrize(
    "nick",
    [
        "",
        "1abc",  # digit first
        "-abc",  # dash first
        "9",
        "a b",
        "a,b",
        "a!b",
        "a@b",
        "#chan",
        "a.b",
        ":nick",
        "a*",
        "a~b",  # ~ is not a nick character (only its fold ^ is)
        "nïck",
        "a\tb",
    ],
)
def test_invalid_nicks(nick: str) -> None:
    assert not is_valid_nick(nick, 30)


def test_nick_length_limit() -> None:
    assert is_valid_nick("a" * 9, 9)
    assert not is_valid_nick("a" * 10, 9)
    assert not is_valid_nick("a", 0)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_folded_valid_nick_stays_valid(nick: str) -> None:
    if is_valid_nick(nick, 20):
        assert is_valid_nick(fold(nick), 20)


# --- channels -----------------------------------------------------------------------------


def test_channel_types() -> None:
    assert CHANNEL_TYPES == "#"


@pytest.mark.parametrize(
    ("name", "expected"), [("#a", True), ("#", True), ("a", False), ("", False), ("&a", False)]
)
def test_is_channel_name(name: str, expected: bool) -> None:
    assert is_channel_name(name) is expected


@pytest.mark.parametrize("name", ["#a", "#chan", "#Chan-1", "##", "#ünï", "#[x]", "#a.b!c@d"])
def test_valid_channels(name: str) -> None:
    assert is_valid_channel(name, 50)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "#",  # prefix only
        "chan",  # no prefix
        "&chan",  # only '#' channels exist
        "+chan",
        "#a b",
        "#a,b",
        "#a\x07b",
        "#a:b",
        "#a\x00b",
        "#a\rb",
        "#a\nb",
    ],
)
def test_invalid_channels(name: str) -> None:
    assert not is_valid_channel(name, 50)


def test_channel_length_limit() -> None:
    assert is_valid_channel("#" + "c" * 9, 10)
    assert not is_valid_channel("#" + "c" * 10, 10)


# --- masks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "name", "expected"),
    [
        ("*", "", True),
        ("*", "anything!at@all", True),
        ("", "", True),
        ("", "x", False),
        ("nick", "nick", True),
        ("nick", "nicks", False),
        ("?", "a", True),
        ("?", "", False),
        ("??", "a", False),
        ("n?ck", "nick", True),
        ("*!*@host", "nick!user@host", True),
        ("*!*@host", "nick!user@otherhost", False),
        ("*!*@*host", "nick!user@otherhost", True),
        ("*!*@host", "nick!user@host.com", False),
        ("*!*@*.example.com", "a!b@irc.example.com", True),
        ("*!*@*.example.com", "a!b@example.com", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "aXbY", False),
        ("**", "x", True),
    ],
)
def test_mask_matches(mask: str, name: str, expected: bool) -> None:
    assert mask_matches(mask, name) is expected


def test_mask_matches_folds_case() -> None:
    assert mask_matches("NICK[1]!*@*", "nick{1}!u@h")
    assert mask_matches("nick{1}!*@*", "Nick[1]!u@h")
    assert mask_matches("*\\*", "a|b")


def test_mask_matches_hostile_pattern_is_fast() -> None:
    start = time.perf_counter()
    assert not mask_matches("*a" * 30 + "*b", "a" * 3000)
    assert time.perf_counter() - start < 2


def _reference_match(mask: str, name: str) -> bool:
    pattern = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in fold(mask)
    )
    return re.fullmatch(pattern, fold(name), re.DOTALL) is not None


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab*?[{", max_size=10), st.text(alphabet="ab[{", max_size=10))
def test_mask_matches_agrees_with_regex_reference(mask: str, name: str) -> None:
    assert mask_matches(mask, name) is _reference_match(mask, name)
