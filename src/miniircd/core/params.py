"""Reading what clients send in parameters, and echoing it back.

The rules several commands share, each written once: a count (`parse_count`), a
`timestamp=` (`parse_timestamp`), and what a reply may echo of the client's input
(`is_word`, `echo`). Handlers turn a None from a parser into their own refusal.

Below the command modules: it imports only `core.history` (server-time's format), so any
module of the core may use it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from miniircd.core.history import iso_time

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_word(text: str) -> bool:
    """Whether `text` can be sent as a middle parameter (only a last one may hold spaces)."""
    return bool(text) and " " not in text and not text.startswith(":")


def echo(text: str, *, command: bool = False) -> str:
    """`text`, to echo client input back in a middle parameter, or `*` when it is unusable:
    not a word (see `is_word`), so it could not have named anything anyway; or for a
    command name (`command`), anything but ASCII letters and digits, as in a line that was
    not UTF-8, whose undecodable part may be the command itself."""
    usable = text.isascii() and text.isalnum() if command else is_word(text)
    return text if usable else "*"


def parse_count(text: str) -> int | None:
    """A positive integer in ASCII digits (a count, a limit, CAP LS's version), or None.
    ASCII because `"²".isdigit()`, but `int("²")` fails."""
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    return None


def parse_timestamp(text: str) -> int | None:
    """`timestamp=YYYY-MM-DDThh:mm:ss.sssZ` in ms since the epoch, or None if malformed.

    Well formed means it reads back exactly as server-time writes it (`iso_time`).
    """
    kind, _, value = text.partition("=")
    if kind != "timestamp" or not value.endswith("Z"):
        return None
    try:
        stamp = datetime.fromisoformat(value)
        time_ms = (stamp - EPOCH) // timedelta(milliseconds=1)
        return time_ms if iso_time(time_ms) == value else None
    except (ValueError, OverflowError, OSError):
        return None
