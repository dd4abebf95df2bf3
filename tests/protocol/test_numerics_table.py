"""Tests for the numerics table: names, three-digit codes, no code used twice."""

from __future__ import annotations

from collections import Counter

import pytest

from miniircd.protocol import numerics


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("RPL_WELCOME", "001"),
        ("RPL_ISUPPORT", "005"),
        ("RPL_ENDOFMOTD", "376"),
        ("ERR_NOMOTD", "422"),
        ("ERR_NICKNAMEINUSE", "433"),
        ("ERR_NEEDMOREPARAMS", "461"),
        ("RPL_SASLSUCCESS", "903"),
    ],
)
def test_well_known_numerics(name: str, code: str) -> None:
    assert numerics.BY_NAME[name] == code
    assert getattr(numerics, name) == code


def test_every_code_is_three_digits() -> None:
    for name, code in numerics.BY_NAME.items():
        assert isinstance(code, str), name
        assert len(code) == 3, name
        assert code.isdigit() and code.isascii(), name


def test_no_code_assigned_to_two_names() -> None:
    duplicates = {code: n for code, n in Counter(numerics.BY_NAME.values()).items() if n > 1}
    assert duplicates == {}


def test_names_are_rpl_or_err() -> None:
    assert numerics.BY_NAME
    assert all(name.startswith(("RPL_", "ERR_")) for name in numerics.BY_NAME)


def test_by_name_lists_every_module_numeric() -> None:
    defined = {
        name: value for name, value in vars(numerics).items() if name.startswith(("RPL_", "ERR_"))
    }
    assert defined == numerics.BY_NAME
