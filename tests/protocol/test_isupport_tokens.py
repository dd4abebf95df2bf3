"""Tests for RPL_ISUPPORT token formatting and packing into lines of at most 13 tokens."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miniircd.protocol.isupport import (
    MAX_TOKENS_PER_LINE,
    chanmodes,
    chunks,
    format_tokens,
    prefix,
)


def test_format_tokens() -> None:
    tokens = {"CASEMAPPING": "rfc1459", "SAFELIST": None, "EXCEPTS": "", "CHANTYPES": "#"}
    assert format_tokens(tokens) == ["CASEMAPPING=rfc1459", "SAFELIST", "EXCEPTS", "CHANTYPES=#"]


def test_format_tokens_empty() -> None:
    assert format_tokens({}) == []


def test_max_tokens_per_line() -> None:
    assert MAX_TOKENS_PER_LINE == 13


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(0, []), (1, [1]), (12, [12]), (13, [13]), (14, [13, 1]), (26, [13, 13]), (27, [13, 13, 1])],
)
def test_chunks_of_thirteen(count: int, sizes: list[int]) -> None:
    tokens = [f"T{i}" for i in range(count)]
    batches = list(chunks(tokens))
    assert [len(batch) for batch in batches] == sizes
    assert [token for batch in batches for token in batch] == tokens


def test_chunks_custom_size_and_generator_input() -> None:
    batches = list(chunks((f"T{i}" for i in range(7)), size=3))
    assert batches == [["T0", "T1", "T2"], ["T3", "T4", "T5"], ["T6"]]


def test_chunks_batches_are_independent_lists() -> None:
    first, second = chunks(["a", "b", "c"], size=2)
    first.append("x")
    assert second == ["c"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), max_size=60), st.integers(1, 20))
def test_chunks_preserve_order_and_bound_size(tokens: list[str], size: int) -> None:
    batches = list(chunks(tokens, size))
    assert [token for batch in batches for token in batch] == tokens
    assert all(1 <= len(batch) <= size for batch in batches)
    assert all(len(batch) == size for batch in batches[:-1])


def test_chanmodes_lists_the_four_kinds_in_order() -> None:
    assert chanmodes("b", "k", "l", "imnst") == "b,k,l,imnst"
    assert chanmodes("beI", "k", "", "mt") == "beI,k,,mt"


def test_prefix_pairs_modes_with_symbols_highest_first() -> None:
    assert prefix([("o", "@"), ("v", "+")]) == "(ov)@+"
    assert prefix(iter([("q", "~"), ("o", "@")])) == "(qo)~@"
    assert prefix([]) == "()"
