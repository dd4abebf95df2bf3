"""RPL_ISUPPORT (005) tokens, and packing them into lines of at most 13 tokens."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

MAX_TOKENS_PER_LINE = 13


def format_tokens(tokens: Mapping[str, str | None]) -> list[str]:
    """`KEY=value`, or a bare `KEY` when the value is None or empty."""
    return [f"{key}={value}" if value else key for key, value in tokens.items()]


def chunks(tokens: Iterable[str], size: int = MAX_TOKENS_PER_LINE) -> Iterator[list[str]]:
    batch: list[str] = []
    for token in tokens:
        batch.append(token)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
