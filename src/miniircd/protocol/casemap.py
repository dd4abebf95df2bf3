"""rfc1459 casemapping and the rules for nick and channel names.

Under rfc1459, `[]\\~` are the upper-case forms of `{}|^`, so `Nick[1]` and `nick{1}` are
the same nick. Every lookup by name goes through `fold`.
"""

from __future__ import annotations

import functools

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ[]\\~"
_LOWER = "abcdefghijklmnopqrstuvwxyz{}|^"
_FOLD = str.maketrans(_UPPER, _LOWER)

_NICK_SPECIAL = set("[]\\`_^{|}")
_NICK_FIRST = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") | _NICK_SPECIAL
_NICK_REST = _NICK_FIRST | set("0123456789-")
CHANNEL_TYPES = "#"
_CHANNEL_FORBIDDEN = set(" ,\x07\x00\r\n:")


# Most lookups are for the names of the people and rooms in use right now: a small cache
# serves those. It stays small because every name a client ever tries (a flood of random
# nicks, say) passes through here, and each entry costs about 230 bytes.
@functools.lru_cache(maxsize=4096)
def fold(name: str) -> str:
    """The rfc1459 case-folded form of a nick or channel name."""
    if name.isascii():  # str.lower() is C speed; translate() goes char by char
        lowered = name.lower()
        if "[" in lowered or "]" in lowered or "\\" in lowered or "~" in lowered:
            return lowered.translate(_FOLD)
        return lowered
    return name.translate(_FOLD)  # lower() would fold non-ASCII letters too: rfc1459 does not


def is_valid_nick(nick: str, max_length: int) -> bool:
    return (
        0 < len(nick) <= max_length
        and nick[0] in _NICK_FIRST
        and all(char in _NICK_REST for char in nick)
    )


def is_channel_name(name: str) -> bool:
    """Whether `name` is meant as a channel (starts with a channel type)."""
    return bool(name) and name[0] in CHANNEL_TYPES


def is_valid_channel(name: str, max_length: int) -> bool:
    return (
        1 < len(name) <= max_length
        and name[0] in CHANNEL_TYPES
        and not any(char in _CHANNEL_FORBIDDEN for char in name)
    )


def mask_matches(mask: str, name: str) -> bool:
    """IRC glob matching under rfc1459 folding: `*` any run, `?` any one character."""
    return _glob_match(fold(mask), fold(name))


def _glob_match(pattern: str, text: str) -> bool:
    # Iterative wildcard matching with backtracking to the last '*': linear in practice and
    # never recursive, so hostile masks like '*a*a*a*a*b' cannot blow the stack.
    p = t = 0
    star = -1
    mark = 0
    while t < len(text):
        if p < len(pattern) and pattern[p] in ("?", text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif star >= 0:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)
