"""What the client session hands to its front: display events and I/O requests, and how
each display event is written as one line of text.

`ClientSession.command()` and `ClientSession.receive()` both return a list of outputs:

- `Send(line)`: an IRC line (no CR-LF) for the server;
- `Connect(...)`, `Close()`, `Quit()`: open the connection, close it, end the program;
- the display events `Info`, `Error`, `Notice`, `Activity`, `RoomMessage`, `PrivateMessage`.

`format_event` turns a display event into the line the terminal shows. Times are kept in
UTC and shown in the local time zone (or the one given): `HH:MM` for live messages, the
date too for replayed history. Text from the network is cleaned of control characters so a
message can never move the cursor or change the terminal's colours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

__all__ = [
    "Activity",
    "Close",
    "Connect",
    "Error",
    "Event",
    "Info",
    "Notice",
    "Output",
    "PrivateMessage",
    "Quit",
    "RoomMessage",
    "Send",
    "clean",
    "format_event",
]


@dataclass(frozen=True)
class Send:
    """One IRC line for the server, without the line ending."""

    line: str


@dataclass(frozen=True)
class Connect:
    """Open a connection; the front then calls `connected()` or `connection_failed()`."""

    host: str
    port: int
    tls: bool = False
    insecure: bool = False


@dataclass(frozen=True)
class Close:
    """Close the connection once the lines before this one are sent."""


@dataclass(frozen=True)
class Quit:
    """End the program."""


@dataclass(frozen=True)
class Info:
    """A message from the client itself: a confirmation, a listing, a header."""

    text: str


@dataclass(frozen=True)
class Error:
    """A refusal, by the client or by the server, in plain words, on one line."""

    text: str


@dataclass(frozen=True)
class Notice:
    """A NOTICE: from a user, or (`user` False) from a service or, `sender` "", the server."""

    when: datetime
    sender: str
    text: str
    room: str | None = None
    user: bool = False


@dataclass(frozen=True)
class Activity:
    """Something a user did: joined, left, quit, changed nick, set a topic, was kicked."""

    when: datetime
    text: str
    room: str | None = None


@dataclass(frozen=True)
class RoomMessage:
    when: datetime
    room: str
    sender: str
    text: str
    own: bool = False
    action: bool = False
    replay: bool = False


@dataclass(frozen=True)
class PrivateMessage:
    """A personal message: `peer` sent it to us, or (`outgoing`) we sent it to `peer`."""

    when: datetime
    peer: str
    text: str
    outgoing: bool = False
    action: bool = False
    replay: bool = False


Event = Info | Error | Notice | Activity | RoomMessage | PrivateMessage
Output = Send | Connect | Close | Quit | Event

# mIRC colours (\x03 with up to two numbers), then every other C0 control and DEL.
_COLOUR = re.compile(r"\x03(\d{1,2}(,\d{1,2})?)?")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\u0080-\u009f]")


def clean(text: str) -> str:
    """Text safe to print: no formatting codes, no escape sequences, tabs as spaces."""
    return _CONTROL.sub("", _COLOUR.sub("", text)).replace("\t", " ")


def _stamp(when: datetime, replay: bool, tz: tzinfo | None) -> str:
    local = when.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M" if replay else "%H:%M")


def format_event(event: Event, tz: tzinfo | None = None) -> str:
    """The one line shown for an event (`tz`: the zone for times; default the local one)."""
    if isinstance(event, Info):
        return f"* {event.text}"
    if isinstance(event, Error):
        return f"! {event.text}"
    if isinstance(event, RoomMessage):
        stamp = _stamp(event.when, event.replay, tz)
        who = f"* {event.sender}" if event.action else f"<{event.sender}>"
        body = f"{who} {event.text}"
        return f"[{stamp}] {event.room} {clean(body)}"
    if isinstance(event, PrivateMessage):
        stamp = _stamp(event.when, event.replay, tz)
        mark = f"[PM to {event.peer}]" if event.outgoing else f"[PM from {event.peer}]"
        body = f"* {event.text}" if event.action else event.text
        return f"[{stamp}] {clean(mark)} {clean(body)}"
    if isinstance(event, Notice):
        if not event.user:
            who = f"{clean(event.sender)}: " if event.sender else ""
            return f"* {who}{clean(event.text)}"
        where = f"{event.room} " if event.room else ""
        stamp = _stamp(event.when, False, tz)
        return f"[{stamp}] {clean(where)}-{clean(event.sender)}- {clean(event.text)}"
    stamp = _stamp(event.when, False, tz)
    where = f"{event.room} " if event.room else ""
    return f"[{stamp}] {clean(where)}-- {clean(event.text)}"
