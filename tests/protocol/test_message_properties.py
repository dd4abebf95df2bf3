"""Hypothesis properties of the message codec: round trips and total, exception-safe parsing."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from miniircd.protocol.message import (
    Message,
    ParseError,
    decode,
    escape_tag_value,
    parse,
    unescape_tag_value,
)

FAST = settings(max_examples=300, deadline=None)

# Anything but the characters that end a line or separate words.
_WORD_CHARS = st.characters(codec="utf-8", exclude_characters=" \r\n\x00")
_LINE_CHARS = st.characters(codec="utf-8", exclude_characters="\r\n\x00")

verbs = st.one_of(
    st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=12),
    st.text(alphabet=string.digits, min_size=3, max_size=3),
)
middle_params = st.text(alphabet=_WORD_CHARS, min_size=1, max_size=20).filter(
    lambda param: not param.startswith(":")
)
last_params = st.text(alphabet=_LINE_CHARS, max_size=40)
params = st.one_of(
    st.just([]),
    st.builds(
        lambda middle, last: [*middle, last],
        st.lists(middle_params, max_size=14),
        last_params,
    ),
)
sources = st.one_of(st.none(), st.text(alphabet=_WORD_CHARS, min_size=1, max_size=30))
tag_keys = st.text(alphabet=string.ascii_letters + string.digits + "-/.+", min_size=1, max_size=15)
# Arbitrary (any encodable character): escaping must cope with everything.
tag_values = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
tags = st.dictionaries(tag_keys, tag_values, max_size=5)

messages = st.builds(Message, verbs, params, sources, tags)


@FAST
@given(tag_values)
def test_tag_escaping_round_trips(value: str) -> None:
    escaped = escape_tag_value(value)
    for forbidden in " ;\r\n":
        assert forbidden not in escaped
    assert unescape_tag_value(escaped) == value


@FAST
@given(messages)
def test_serialize_then_parse_round_trips(msg: Message) -> None:
    line = msg.serialize()
    assert "\r" not in line
    assert "\n" not in line
    assert parse(line) == msg


@FAST
@given(messages)
def test_round_trip_through_bytes(msg: Message) -> None:
    line = msg.serialize()
    assert parse(decode(line.encode("utf-8"))) == msg


@FAST
@given(st.binary(max_size=200))
def test_decode_is_total(raw: bytes) -> None:
    text = decode(raw)
    try:
        expected = raw.decode("utf-8")
    except UnicodeDecodeError:
        expected = raw.decode("latin-1")
    assert text == expected


def _check_parse_is_safe(line: str) -> None:
    try:
        msg = parse(line)
    except ParseError:
        return
    # Whatever parses is a usable message that can be relayed again.
    assert msg.verb
    assert " " not in msg.verb
    for param in msg.params[:-1]:
        assert param
        assert " " not in param
        assert not param.startswith(":")
    msg.serialize()


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_parse_of_arbitrary_bytes_only_raises_parse_error(raw: bytes) -> None:
    _check_parse_is_safe(decode(raw))


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["@", ":", " ", "  ", ";", "=", "\\", " :", "a", "B", "1", "\t"]),
            st.text(max_size=5),
        ),
        max_size=25,
    ).map("".join)
)
def test_parse_of_ircish_text_only_raises_parse_error(line: str) -> None:
    _check_parse_is_safe(line)
