"""core/params.py: the rules shared by commands for reading and echoing parameters.

`parse_timestamp` is tested in test_readmarker.py, where MARKREAD's cases live.
"""

from __future__ import annotations

from miniircd.core.params import echo, is_word, parse_count


def test_parse_count_takes_positive_ascii_integers_only() -> None:
    assert parse_count("1") == 1
    assert parse_count("007") == 7
    assert parse_count("99999999999999999999999") == 99999999999999999999999
    for text in ("", "0", "00", "-1", "+1", " 1", "1_000", "1e3", "0x10", "\u00b2", "\uff11"):
        assert parse_count(text) is None, text


def test_echo_stars_what_cannot_be_one_middle_parameter() -> None:
    assert [echo(text) for text in ("#x", "a:b", "\u00e9t\u00e9")] == ["#x", "a:b", "\u00e9t\u00e9"]
    assert [echo(text) for text in ("", "a b", ":x", ":")] == ["*"] * 4
    assert not is_word("") and not is_word(":x") and is_word("x:")


def test_echo_of_a_command_name_takes_ascii_letters_and_digits_only() -> None:
    assert echo("PRIVMSG", command=True) == "PRIVMSG"
    assert echo("001", command=True) == "001"
    for verb in ("", "PRIV\u00e9MSG", "A-B", "\u00ff\u00fe"):
        assert echo(verb, command=True) == "*", verb
