"""Example-based tests for IRC message parsing, serialization and tag escaping."""

from __future__ import annotations

import pytest

from miniircd.protocol.message import (
    Message,
    ParseError,
    decode,
    escape_tag_value,
    parse,
    unescape_tag_value,
)

# --- tag value escaping -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        (";", "\\:"),
        (" ", "\\s"),
        ("\\", "\\\\"),
        ("\r", "\\r"),
        ("\n", "\\n"),
        ("plain", "plain"),
        ("", ""),
        ("a;b c\\d\r\ne", "a\\:b\\sc\\\\d\\r\\ne"),
        ("ünïcödé", "ünïcödé"),
    ],
)
def test_escape_and_unescape(raw: str, escaped: str) -> None:
    assert escape_tag_value(raw) == escaped
    assert unescape_tag_value(escaped) == raw


@pytest.mark.parametrize(
    ("escaped", "raw"),
    [
        ("value\\1", "value1"),  # unknown escape: the backslash is dropped
        ("\\a\\b\\c", "abc"),
        ("\\t", "t"),
        ("value1\\", "value1"),  # trailing lone backslash is dropped
        ("\\", ""),
        ("\\\\\\", "\\"),  # escaped backslash, then a lone one
        ("value\\\\ntest", "value\\ntest"),  # char-at-a-time, no double replacement
        ("\\\\s", "\\s"),
    ],
)
def test_unescape_lenient_forms(escaped: str, raw: str) -> None:
    assert unescape_tag_value(escaped) == raw


def test_parse_tags_with_escapes() -> None:
    msg = parse("@a=b\\sc;d=e\\:f;g=h\\\\i;j=\\r\\n;k= FOO")
    assert msg.tags == {"a": "b c", "d": "e;f", "g": "h\\i", "j": "\r\n", "k": ""}


def test_parse_tags_value_with_equals_sign() -> None:
    assert parse("@a=b=c FOO").tags == {"a": "b=c"}


def test_parse_tags_duplicate_key_last_wins() -> None:
    assert parse("@a=1;b=2;a=3 FOO").tags == {"a": "3", "b": "2"}


def test_parse_tags_skips_empty_items() -> None:
    assert parse("@;a=1;;b FOO").tags == {"a": "1", "b": ""}


def test_serialize_escapes_tag_values() -> None:
    msg = Message("FOO", tags={"a": "x y;z\\\r\n", "b": ""})
    assert msg.serialize() == "@a=x\\sy\\:z\\\\\\r\\n;b FOO"


# --- parsing ------------------------------------------------------------------------------


def test_parse_full_message() -> None:
    msg = parse("@id=1 :nick!user@host privmsg #chan :hello there")
    assert msg == Message("PRIVMSG", ["#chan", "hello there"], "nick!user@host", {"id": "1"})


def test_parse_upper_cases_verb_only() -> None:
    msg = parse("privmsg Nick :Hello")
    assert msg.verb == "PRIVMSG"
    assert msg.params == ["Nick", "Hello"]


def test_parse_runs_of_spaces_separate_params() -> None:
    assert parse("  FOO   a    b  :  c ") == Message("FOO", ["a", "b", "  c "])


def test_parse_multiple_spaces_after_tags_and_source() -> None:
    assert parse("@a=1   :src   FOO  x") == Message("FOO", ["x"], "src", {"a": "1"})


def test_parse_trailing_only() -> None:
    assert parse("PING :") == Message("PING", [""])
    assert parse("PING ::x") == Message("PING", [":x"])


def test_parse_no_params() -> None:
    assert parse("QUIT") == Message("QUIT")
    assert parse("QUIT   ") == Message("QUIT")


@pytest.mark.parametrize("separator", ["\t", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u3000"])
def test_parse_only_ascii_space_separates(separator: str) -> None:
    msg = parse(f"FOO a{separator}b c")
    assert msg.params == [f"a{separator}b", "c"]


@pytest.mark.parametrize(
    "line",
    [
        "",
        " ",
        "    ",
        "@a=b",
        "@a=b ",
        "@a=b   ",
        ":src",
        ":src ",
        ":src   ",
        ":",
        ":src :x",
        " :x",
    ],
)
def test_parse_without_verb_raises(line: str) -> None:
    with pytest.raises(ParseError):
        parse(line)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(ParseError, ValueError)


def test_parse_numeric_verb() -> None:
    msg = parse(":irc.example.com 001 nick :Welcome")
    assert msg == Message("001", ["nick", "Welcome"], "irc.example.com")


# --- serialization ------------------------------------------------------------------------


def test_serialize_plain() -> None:
    assert Message("NICK", ["alice"]).serialize() == "NICK alice"


def test_serialize_without_params() -> None:
    assert Message("QUIT").serialize() == "QUIT"


@pytest.mark.parametrize(
    ("last", "wire"),
    [
        ("word", "word"),
        ("two words", ":two words"),
        ("", ":"),
        (":colon", "::colon"),
        ("a:b", "a:b"),
        (" lead", ": lead"),
    ],
)
def test_serialize_last_param(last: str, wire: str) -> None:
    assert Message("FOO", ["x", last]).serialize() == f"FOO x {wire}"


def test_serialize_with_source_and_tags() -> None:
    msg = Message("PRIVMSG", ["#c", "hi there"], "n!u@h", {"time": "2024", "bot": ""})
    assert msg.serialize() == "@time=2024;bot :n!u@h PRIVMSG #c :hi there"


@pytest.mark.parametrize("source", [None, ""])
def test_serialize_omits_missing_source(source: str | None) -> None:
    assert Message("PING", ["x"], source).serialize() == "PING x"


def test_serialize_omits_empty_tags() -> None:
    assert Message("PING", ["x"], tags={}).serialize() == "PING x"


@pytest.mark.parametrize("middle", ["", "two words", ":colon", " "])
def test_serialize_refuses_unsendable_middle_param(middle: str) -> None:
    with pytest.raises(ValueError, match="middle parameter"):
        Message("FOO", [middle, "last"]).serialize()


def test_serialize_accepts_params_tuple() -> None:
    msg = Message("FOO", ("a", "b c"))
    assert msg.params == ["a", "b c"]
    assert msg.serialize() == "FOO a :b c"


# --- Message value semantics --------------------------------------------------------------


def test_message_equality() -> None:
    assert Message("A", ["b"], "s", {"t": "v"}) == Message("A", ("b",), "s", {"t": "v"})
    assert Message("A", ["b"]) != Message("A", ["c"])
    assert Message("A") != Message("A", source="s")
    assert Message("A") != Message("A", tags={"t": ""})
    assert Message("A") != "A"


def test_message_defaults_are_not_shared() -> None:
    first, second = Message("A"), Message("B")
    first.tags["x"] = "1"
    first.params.append("p")
    assert second.tags == {}
    assert second.params == []


def test_message_repr_evaluates_back() -> None:
    msg = Message("A", ["b", "c d"], "s", {"t": "v"})
    assert eval(repr(msg), {"Message": Message}) == msg


# --- decoding -----------------------------------------------------------------------------


def test_decode_utf8() -> None:
    assert decode("héllo ☃".encode()) == "héllo ☃"


def test_decode_falls_back_to_latin1() -> None:
    raw = b"caf\xe9 \xff\xfe"
    assert decode(raw) == "café ÿþ"


def test_decode_mixed_invalid_line_is_latin1_throughout() -> None:
    raw = "é".encode() + b"\xe9"
    assert decode(raw) == raw.decode("latin-1")


def test_decode_then_parse_latin1_line() -> None:
    msg = parse(decode(b"PRIVMSG #chan :caf\xe9"))
    assert msg.params == ["#chan", "café"]
