"""Tests for the numerics table: names, three-digit codes, no code used twice."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

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


def test_every_numeric_is_sent_by_the_server() -> None:
    """The table lists what the server sends, not every numeric there is: each name is used
    by some module of the server (the bundled client has its own tables)."""
    package = Path(numerics.__file__).parent.parent
    sources = [
        path.read_text()
        for path in package.rglob("*.py")
        if path.name != "numerics.py" and "client" not in path.relative_to(package).parts
    ]
    unused = [
        name
        for name in numerics.BY_NAME
        if not any(re.search(rf"\b{name}\b", text) for text in sources)
    ]
    assert unused == []
