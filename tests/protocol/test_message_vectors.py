"""The public ircdocs parser test vectors (msg-split, msg-join) run against our codec."""

from __future__ import annotations

from typing import Any

import pytest
from parser_tests.data import msg_join, msg_split

from miniircd.protocol.message import Message, parse

SPLIT_CASES: list[dict[str, Any]] = msg_split["tests"]
JOIN_CASES: list[dict[str, Any]] = msg_join["tests"]


def _case_id(index: int, text: str) -> str:
    return f"{index}:{text[:40]!r}"


def _expected(atoms: dict[str, Any]) -> Message:
    """The Message an atoms dict describes; absent keys mean empty/None, as the vectors say."""
    tags = {
        key: value if value is not None else "" for key, value in (atoms.get("tags") or {}).items()
    }
    return Message(
        atoms["verb"],
        list(atoms.get("params") or []),
        atoms.get("source"),
        tags,
    )


def test_vectors_loaded() -> None:
    assert len(SPLIT_CASES) > 20
    assert len(JOIN_CASES) > 10


@pytest.mark.parametrize(
    "case",
    SPLIT_CASES,
    ids=[_case_id(i, case["input"]) for i, case in enumerate(SPLIT_CASES)],
)
def test_msg_split(case: dict[str, Any]) -> None:
    expected = _expected(case["atoms"])
    msg = parse(case["input"])
    # Our parser upper-cases the verb; the vectors use mixed case ("foo").
    assert msg.verb == expected.verb.upper()
    assert msg.params == expected.params
    assert msg.source == expected.source
    assert msg.tags == expected.tags


@pytest.mark.parametrize(
    "case",
    JOIN_CASES,
    ids=[_case_id(i, case.get("desc", "")) for i, case in enumerate(JOIN_CASES)],
)
def test_msg_join(case: dict[str, Any]) -> None:
    line = _expected(case["atoms"]).serialize()
    assert line in case["matches"]


@pytest.mark.parametrize(
    "case",
    JOIN_CASES,
    ids=[_case_id(i, case.get("desc", "")) for i, case in enumerate(JOIN_CASES)],
)
def test_msg_join_matches_parse_back(case: dict[str, Any]) -> None:
    """Every accepted wire form of a join vector parses back to its atoms."""
    expected = _expected(case["atoms"])
    for line in case["matches"]:
        msg = parse(line)
        assert msg.verb == expected.verb.upper()
        assert (msg.params, msg.source, msg.tags) == (
            expected.params,
            expected.source,
            expected.tags,
        )
