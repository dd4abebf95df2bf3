"""IRCv3 draft/multiline: how a message of several lines is kept and how it goes out.

A multiline message is one PRIVMSG or NOTICE whose text holds its lines, each line after
the first preceded by a line feed; a line sent with `draft/multiline-concat` (joined to
the one before without a line break) starts with a carriage return as well:
`hello\\n#how is \\n\\reveryone?`. No line a client sends can hold either character (line
framing splits on both), so text with a line feed is always a multiline message. It is
stored and delivered as one message: one row, one `msgid`, one `time`.

`send_many` delivers such a line (any other line goes to `Outbox.send_many` as it is):
- to a client with `draft/multiline` and `batch`, as a `draft/multiline` batch whose
  opening line carries the message's tags (msgid, time, account, client-only tags) and
  whose lines carry only `batch` and, for joined lines, `draft/multiline-concat`;
- to others, as its lines one by one, blank lines left out: the first carries every tag,
  the rest all but the msgid (the spec: a msgid only on the first line).
A line that already belongs to a batch (a history replay) keeps it: the multiline batch
nests inside it, and fallback lines carry its tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from miniircd.core.user import User
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.outbox import Outbox

CAP = "draft/multiline"
BATCH_TYPE = "draft/multiline"
CONCAT = "draft/multiline-concat"
BREAK = "\n"  # before each line after the first
JOINED = "\r"  # after BREAK: this line is joined to the previous one without a break


@dataclass(slots=True)
class OpenBatch:
    """A `draft/multiline` batch a client has opened and not yet closed."""

    ref: str  # the client's reference, without the '+'
    target: str  # as given in `BATCH +<ref> draft/multiline <target>`
    tags: dict[str, str]  # the client-only tags of the opening line: the message's tags
    label: str | None  # labeled-response: the batch's answer carries the opening's label
    verb: str = ""  # PRIVMSG or NOTICE, from the first line
    lines: list[tuple[str, bool]] = field(default_factory=list)  # see `join`
    size: int = 0  # bytes of the combined message, line feeds between lines included
    failed: bool = False  # refused: its remaining lines are dropped until it closes


def join(lines: list[tuple[str, bool]]) -> str:
    """The text of the message made of `lines`: (text, joined to the previous one)."""
    parts = [lines[0][0]]
    parts.extend((JOINED + text) if concat else text for text, concat in lines[1:])
    return BREAK.join(parts)


def split(text: str) -> list[tuple[str, bool]]:
    """`join` undone: the lines of a message, each with whether it is joined."""
    return [(part[1:], True) if part[:1] == JOINED else (part, False) for part in text.split(BREAK)]


def combined(text: str) -> str:
    """The message as the spec combines it: line feeds between lines, none where joined."""
    return text.replace(BREAK + JOINED, "")


def is_multiline(line: Message) -> bool:
    return len(line.params) == 2 and BREAK in line.params[1]


def wants_batch(user: User) -> bool:
    return CAP in user.caps and "batch" in user.caps


def send_many(
    out: Outbox, sessions: Iterable[User], line: Message, sender: User | None = None
) -> None:
    """`Outbox.send_many` for PRIVMSG and NOTICE, multiline messages included."""
    if not is_multiline(line):
        out.send_many(sessions, line, sender)
        return
    batched: list[User] = []
    plain: list[User] = []
    for session in sessions:
        (batched if wants_batch(session) else plain).append(session)
    ref = out.ids.batch_ref()
    for session_group, batch in ((batched, True), (plain, False)):
        if session_group:
            for part, tagged in _lines(line, ref, batch):
                out.send_many(session_group, part, sender if tagged else None)


def send_aside(out: Outbox, session: User, line: Message, sender: User | None = None) -> None:
    """`Outbox.send_aside` for PRIVMSG and NOTICE, multiline messages included."""
    if not is_multiline(line):
        out.send_aside(session, line, sender)
        return
    for part, tagged in _lines(line, out.ids.batch_ref(), wants_batch(session)):
        out.send_aside(session, part, sender if tagged else None)


def _lines(line: Message, ref: str, batch: bool) -> list[tuple[Message, bool]]:
    """The lines that carry the multiline `line` to a client, as a batch named `ref` or
    one by one; each with whether it takes the sender's tags (account, bot)."""
    target, text = line.params
    verb, source, tags = line.verb, line.source, line.tags
    outer = {"batch": tags["batch"]} if "batch" in tags else {}
    if batch:
        found: list[tuple[Message, bool]] = [
            (Message("BATCH", [f"+{ref}", BATCH_TYPE, target], source, tags), True)
        ]
        for part, concat in split(text):
            inner = {"batch": ref, CONCAT: ""} if concat else {"batch": ref}
            found.append((Message(verb, [target, part], source, inner), False))
        found.append((Message("BATCH", [f"-{ref}"], source, outer), False))
        return found
    rest = {key: value for key, value in tags.items() if key != "msgid"}
    found = []
    for part, _ in split(text):
        if part:  # the spec: no blank lines to clients without multiline
            found.append((Message(verb, [target, part], source, rest if found else tags), True))
    return found
