"""RPL_ISUPPORT (005) tokens, and packing them into lines of at most 13 tokens."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

MAX_TOKENS_PER_LINE = 13


def format_tokens(tokens: Mapping[str, str | None]) -> list[str]:
    """`KEY=value`, or a bare `KEY` when the value is None or empty."""
    return [f"{key}={value}" if value else key for key, value in tokens.items()]


def chanmodes(lists: str, always: str, when_set: str, flags: str) -> str:
    """The CHANMODES value: list modes, modes that always take a parameter, modes that take
    one only when set, and modes that never do, comma-separated: `b,k,l,imnst`."""
    return ",".join((lists, always, when_set, flags))


def prefix(ranks: Iterable[tuple[str, str]]) -> str:
    """The PREFIX value from (mode, symbol) pairs, highest rank first: `(ov)@+`."""
    pairs = list(ranks)
    return "(" + "".join(mode for mode, _ in pairs) + ")" + "".join(sym for _, sym in pairs)


def chunks(tokens: Iterable[str], size: int = MAX_TOKENS_PER_LINE) -> Iterator[list[str]]:
    batch: list[str] = []
    for token in tokens:
        batch.append(token)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
