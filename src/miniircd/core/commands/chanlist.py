"""LIST and its search conditions, advertised as ISUPPORT `ELIST=CMNTU`.

Each comma-separated word of LIST's parameters is one condition:
- `<n` / `>n`: fewer / more than n members (U);
- `C<n` / `C>n`: created less / more than n minutes ago (C);
- `T<n` / `T>n`: topic set less / more than n minutes ago (T); a channel without a topic
  matches neither;
- `!mask`: the name does not match the mask (N);
- anything else is a name or a mask with `*` and `?` (M).
A channel is listed when its name matches one of the names and masks (if any were given),
none of the `!masks`, and every number condition. Secret channels are listed only to
their members, whatever the conditions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core.channel import Channel
from miniircd.core.session import Session
from miniircd.protocol.casemap import mask_matches
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import RPL_LIST, RPL_LISTEND, RPL_LISTSTART

if TYPE_CHECKING:
    from miniircd.core.server import Server

ELIST = "CMNTU"  # the conditions `ListQuery` understands, for ISUPPORT
_DIGITS = frozenset("0123456789")


class ListQuery:
    """LIST's conditions, parsed from its parameters."""

    __slots__ = ("excluded", "limits", "masks", "names")

    def __init__(self, words: list[str]) -> None:
        self.names: list[str] = []  # without wildcards: looked up, not matched
        self.masks: list[str] = []
        self.excluded: list[str] = []
        self.limits: list[tuple[str, str, int]] = []  # (U, C or T; < or >; members or seconds)
        for word in words:
            if word:
                self._add(word)

    def _add(self, word: str) -> None:
        kind = word[0].upper()
        if kind in ("C", "T") and word[1:2] in ("<", ">") and _is_number(word[2:]):
            self.limits.append((kind, word[1], int(word[2:]) * 60))
        elif word[0] in ("<", ">") and _is_number(word[1:]):
            self.limits.append(("U", word[0], int(word[1:])))
        elif word[0] == "!":
            self.excluded.append(word[1:])
        elif "*" in word or "?" in word:
            self.masks.append(word)
        else:
            self.names.append(word)

    def candidates(self, server: Server) -> list[Channel]:
        """The channels worth checking: the named ones when only names were given (no
        scan of every channel), else all of them."""
        if self.masks or not self.names:
            return list(server.state.channels.values())
        found: list[Channel] = []
        for name in self.names:
            channel = server.state.find_channel(name)
            if channel is not None and channel not in found:
                found.append(channel)
        return found

    def matches(self, channel: Channel, now: float) -> bool:
        name = channel.name
        if self.names or self.masks:
            named = any(mask_matches(word, name) for word in self.names)
            if not named and not any(mask_matches(mask, name) for mask in self.masks):
                return False
        if any(mask_matches(mask, name) for mask in self.excluded):
            return False
        for kind, op, bound in self.limits:
            if kind == "U":
                value = len(channel.members)
            elif kind == "C":
                value = int(now) - channel.created
            elif channel.topic:
                value = int(now) - channel.topic_time
            else:
                return False  # no topic: no topic time to compare
            if not (value < bound if op == "<" else value > bound):
                return False
        return True


def _is_number(text: str) -> bool:
    return bool(text) and all(char in _DIGITS for char in text)


# LIST [<channel or condition>{,<channel or condition>}] [<condition>{,<condition>}]
def list_(server: Server, session: Session, msg: Message) -> None:
    words: list[str] = []
    for param in msg.params[:2]:
        words.extend(param.split(","))
    query = ListQuery(words)
    out = server.outbox
    out.numeric(session, RPL_LISTSTART, "Channel", "Users  Name")
    for channel in query.candidates(server):
        if channel.visible_to(session) and query.matches(channel, server.now):
            out.numeric(session, RPL_LIST, channel.name, str(len(channel.members)), channel.topic)
    out.numeric(session, RPL_LISTEND, "End of /LIST")
