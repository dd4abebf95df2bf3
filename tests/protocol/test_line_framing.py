"""Tests for LineBuffer: CR-LF / LF / CR framing, empty lines, overflow, chunk independence."""

from __future__ import annotations

import re
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from miniircd.protocol.framing import LineBuffer, LineOverflow

# --- examples -----------------------------------------------------------------------------


@pytest.mark.parametrize("ending", [b"\r\n", b"\n", b"\r"])
def test_line_endings(ending: bytes) -> None:
    buf = LineBuffer()
    assert buf.feed(b"NICK a" + ending + b"USER b" + ending) == [b"NICK a", b"USER b"]


def test_mixed_line_endings() -> None:
    assert LineBuffer().feed(b"a\r\nb\nc\rd\n") == [b"a", b"b", b"c", b"d"]


def test_empty_lines_dropped() -> None:
    assert LineBuffer().feed(b"\r\n\r\n\n\ra\n\n\r\nb\r\n\r\n") == [b"a", b"b"]


def test_only_line_endings_yields_nothing() -> None:
    assert LineBuffer().feed(b"\r\n\n\r\r\n") == []


def test_partial_line_is_held() -> None:
    buf = LineBuffer()
    assert buf.feed(b"PRIV") == []
    assert buf.feed(b"MSG #c :hi") == []
    assert buf.feed(b"\r\nPI") == [b"PRIVMSG #c :hi"]
    assert buf.feed(b"NG x\n") == [b"PING x"]


def test_crlf_split_across_feeds() -> None:
    buf = LineBuffer()
    assert buf.feed(b"a\r") == [b"a"]
    assert buf.feed(b"\nb\r") == [b"b"]
    assert buf.feed(b"\n") == []


def test_spaces_and_binary_kept_verbatim() -> None:
    assert LineBuffer().feed(b"  a \xff\x00\tb  \r\n") == [b"  a \xff\x00\tb  "]


def test_empty_feed() -> None:
    buf = LineBuffer()
    assert buf.feed(b"") == []
    buf.feed(b"x")
    assert buf.feed(b"") == []
    assert buf.feed(b"\n") == [b"x"]


def test_exactly_max_pending_without_newline_is_fine() -> None:
    buf = LineBuffer(max_pending=16)
    assert buf.feed(b"x" * 16) == []
    assert buf.feed(b"\n") == [b"x" * 16]


def test_overflow_past_max_pending_in_one_feed() -> None:
    buf = LineBuffer(max_pending=16)
    with pytest.raises(LineOverflow):
        buf.feed(b"x" * 17)


def test_overflow_accumulated_over_feeds() -> None:
    buf = LineBuffer(max_pending=16)
    assert buf.feed(b"x" * 10) == []
    with pytest.raises(LineOverflow):
        buf.feed(b"x" * 7)


def test_overflow_of_tail_after_complete_lines() -> None:
    buf = LineBuffer(max_pending=16)
    with pytest.raises(LineOverflow):
        buf.feed(b"ok\n" + b"x" * 17)


def test_buffer_is_reset_after_overflow() -> None:
    buf = LineBuffer(max_pending=16)
    with pytest.raises(LineOverflow):
        buf.feed(b"x" * 40)
    assert buf.feed(b"fresh\n") == [b"fresh"]


def test_complete_line_in_one_feed_is_not_an_overflow() -> None:
    """Only data without a line ending counts against max_pending (line length is policed later)."""
    assert LineBuffer(max_pending=16).feed(b"y" * 100 + b"\n") == [b"y" * 100]


def test_default_max_pending() -> None:
    buf = LineBuffer()
    assert buf.max_pending == 8192
    assert buf.feed(b"x" * 8192) == []
    with pytest.raises(LineOverflow):
        buf.feed(b"x")


# --- properties ---------------------------------------------------------------------------

# Byte streams rich in line endings, with some arbitrary bytes mixed in.
streams = st.lists(
    st.one_of(
        st.sampled_from([b"\r\n", b"\n", b"\r", b"a", b"bc", b" ", b"\xff", b"\x00"]),
        st.binary(max_size=8),
    ),
    max_size=60,
).map(b"".join)


def _reference_lines(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete non-empty lines and the unterminated tail, computed independently."""
    *complete, tail = re.split(rb"\r\n|\r|\n", data)
    return [line for line in complete if line], tail


def _feed_chunks(buf: LineBuffer, data: bytes, cuts: list[int]) -> list[bytes]:
    lines: list[bytes] = []
    bounds = [0, *sorted(cuts), len(data)]
    for start, stop in pairwise(bounds):
        lines.extend(buf.feed(data[start:stop]))
    return lines


@settings(max_examples=500, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=20), st.integers(min_value=1, max_value=64))
def test_feed_only_raises_line_overflow(chunks: list[bytes], max_pending: int) -> None:
    buf = LineBuffer(max_pending=max_pending)
    for chunk in chunks:
        try:
            lines = buf.feed(chunk)
        except LineOverflow:
            continue
        for line in lines:
            assert line
            assert b"\r" not in line
            assert b"\n" not in line


@settings(max_examples=500, deadline=None)
@given(streams, st.data())
def test_chunk_boundaries_do_not_matter(data: bytes, draw: st.DataObject) -> None:
    cuts = draw.draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=12))
    at_once = LineBuffer()
    chunked = LineBuffer()
    assert _feed_chunks(chunked, data, cuts) == at_once.feed(data)
    # The held-back tail is the same too: flushing both gives the same final line.
    assert chunked.feed(b"\n") == at_once.feed(b"\n")


@settings(max_examples=300, deadline=None)
@given(streams, st.data())
def test_lines_match_reference_split(data: bytes, draw: st.DataObject) -> None:
    cuts = draw.draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=12))
    complete, tail = _reference_lines(data)
    buf = LineBuffer()
    assert _feed_chunks(buf, data, cuts) == complete
    assert buf.feed(b"\n") == ([tail] if tail else [])


@settings(max_examples=300, deadline=None)
@given(streams, st.data(), st.integers(min_value=1, max_value=16))
def test_small_buffer_without_overflow_matches_at_once(
    data: bytes, draw: st.DataObject, max_pending: int
) -> None:
    cuts = draw.draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=12))
    chunked = LineBuffer(max_pending=max_pending)
    try:
        lines = _feed_chunks(chunked, data, cuts)
    except LineOverflow:
        return  # the claim is only about streams that never overflow
    # If the chunked feed never overflowed, feeding everything at once cannot overflow either.
    assert lines == LineBuffer(max_pending=max_pending).feed(data)
