"""IRCv3 draft/read-marker: MARKREAD keeps what an account has read, per target.

A marker is the time (ms since the epoch) of the last message an account has read in one
target. It belongs to the account, so every client of the account agrees on it, and it is
keyed the way the history keys conversations (see `core.history`): a room by its folded
name, a private conversation by its other party (a folded account, or `~` and the folded
nick of a guest). A marker on a nick follows the account behind it, not the nick.

Where the spec (ircv3.net/specs/extensions/read-marker) leaves room, this server:
- refuses MARKREAD from a client that is not logged in (`FAIL MARKREAD ACCOUNT_REQUIRED`):
  markers are what the clients of one account share, and a guest has neither an account
  nor stored private history. A malformed timestamp is refused before that, as
  INVALID_PARAMS from anyone. A guest with the capability still gets `MARKREAD <room> *`
  on JOIN, as the spec requires of every client that negotiated it;
- clamps a marker to the current time and only moves it forward: an older (or equal)
  timestamp changes nothing and the sender is answered with the stored one;
- always answers the sender, capability or not; when the marker moved, it tells every
  registered session of the account that negotiated the capability (the sender once);
- refuses a target it does not know (no such room, or a secret one the client is not in;
  no such nick or account, nor a guest that left and that the account exchanged messages
  with; see `core.history.correspondent`) with `FAIL MARKREAD INVALID_PARAMS <target>`,
  and a malformed timestamp with `FAIL MARKREAD INVALID_PARAMS <that parameter>`.

The inbox's read state follows the markers both ways: moving a private marker marks that
conversation's unread messages up to it as read, so they are not delivered again at the
next login; and delivering unread messages at login (`commands.history.deliver_unread`)
moves each conversation's marker to its newest delivered message (`delivered`).

This module sits below `commands.history` (which calls `delivered`) and so imports nothing
from the other command modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from miniircd.core.channel import Channel
from miniircd.core.errors import Fail
from miniircd.core.history import correspondent, iso_time, party, private_conversation
from miniircd.core.session import Session
from miniircd.protocol.casemap import fold, is_channel_name
from miniircd.protocol.message import Message
from miniircd.store.base import StoredMessage

if TYPE_CHECKING:
    from miniircd.core.server import Server

CAP = "draft/read-marker"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# MARKREAD <target> [timestamp=YYYY-MM-DDThh:mm:ss.sssZ]
def markread(server: Server, session: Session, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        raise Fail("MARKREAD", "NEED_MORE_PARAMS", "Missing parameters")
    target = msg.params[0]
    wanted = None
    if len(msg.params) > 1:  # the set command; a malformed one is refused first of all
        wanted = parse_timestamp(msg.params[1])
        if wanted is None:
            raise _fail("INVALID_PARAMS", msg.params[1], "Invalid timestamp")
    if session.account is None:
        raise _fail("ACCOUNT_REQUIRED", target, "Log in to keep read markers")
    key, name = _resolve(server, session, target)
    if wanted is None:  # the get command
        stored = server.store.read_marker(session.account, key)
        _tell(server, [session], name, stored)
        return
    advance(server, session.account, key, name, min(wanted, int(server.now * 1000)), session)


def on_join(server: Server, session: Session, channel: Channel) -> None:
    """After a JOIN: tell a read-marker client where it had read up to in `channel`."""
    if CAP not in session.caps:
        return
    stored = None
    if session.account is not None:
        stored = server.store.read_marker(session.account, fold(channel.name))
    _tell(server, [session], channel.name, stored)


def delivered(server: Server, session: Session, messages: Iterable[StoredMessage]) -> None:
    """At login, once the unread private messages (oldest first) were sent to `session`:
    move each conversation's marker to its newest delivered message."""
    if session.account is None:
        return
    me = party(session)
    newest: dict[str, StoredMessage] = {}
    for stored in messages:
        newest[stored.conversation] = stored  # oldest first: the newest one stays
    for conversation, stored in newest.items():
        one, _, two = conversation.partition(" ")
        other = two if one == me else one
        nick = stored.source.split("!", 1)[0]  # the name the client got them under
        advance(server, session.account, other, nick, stored.time_ms)


def advance(
    server: Server,
    account: str,
    key: str,
    name: str,
    time_ms: int,
    asker: Session | None = None,
) -> None:
    """Move `account`'s marker on `key` forward to `time_ms` if that is later; tell its
    read-marker sessions when it moved, and `asker` (if any) where it stands either way."""
    stored = server.store.read_marker(account, key)
    told: list[Session] = []
    if stored is None or time_ms > stored:
        stored = time_ms
        server.store.set_read_marker(account, key, time_ms)
        if not is_channel_name(key):  # a private conversation: the inbox follows
            conversation = private_conversation(fold(account), key)
            server.store.mark_read_until(account, conversation, time_ms)
        told = _sessions_of(server, account)
    if asker is not None and asker not in told:
        told.append(asker)
    _tell(server, told, name, stored)


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


def _resolve(server: Server, session: Session, target: str) -> tuple[str, str]:
    """The marker key of `target` and the name to send it under, or INVALID_PARAMS."""
    if is_channel_name(target):
        channel = server.find_channel(target)
        if channel is None or not channel.visible_to(session):
            raise _fail("INVALID_PARAMS", target, "No such channel")
        return fold(channel.name), channel.name
    other = correspondent(server, session, target)
    if other is None:
        raise _fail("INVALID_PARAMS", target, "No such nick/channel")
    return other


def _sessions_of(server: Server, account: str) -> list[Session]:
    """The registered sessions logged in to `account` that negotiated the capability."""
    folded = fold(account)
    return [
        session
        for session in server.sessions.values()
        if session.registered
        and session.account is not None
        and fold(session.account) == folded
        and CAP in session.caps
    ]


def _tell(server: Server, sessions: list[Session], name: str, time_ms: int | None) -> None:
    """`MARKREAD <name> timestamp=<time>`, or `MARKREAD <name> *` for no marker."""
    value = f"timestamp={iso_time(time_ms)}" if time_ms is not None else "*"
    server.outbox.send_many(sessions, Message("MARKREAD", [name, value], server.name))


def _fail(code: str, context: str, text: str) -> Fail:
    """FAIL MARKREAD <code> <context> :<text>; context that echoes unusable client input
    (with a space, or starting with ':') is sent as `*`."""
    usable = context and " " not in context and context[0] != ":"
    return Fail("MARKREAD", code, context if usable else "*", text)
