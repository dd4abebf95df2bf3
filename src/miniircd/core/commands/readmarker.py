"""IRCv3 draft/read-marker: MARKREAD keeps what a client has read, per target.

A marker is the time (ms since the epoch) of the last message read in one target. It is
keyed the way the history keys conversations (see `core.history`): a room by its folded
name, a private conversation by its other party (a folded account, or `~` and the folded
nick of a guest). A marker on a nick follows the account behind it, not the nick.

Who holds the markers (`_holder`):
- a client logged in to an account uses the account's, in the store: every client of the
  account shares them, and they outlive the connection and restarts;
- a client that is not logged in has its own, on its session (`Session.read_markers`):
  the spec ties markers to the capability, not to an account, so a guest's get and set
  work too; but the server keeps nothing of a guest past its connection, so they are lost
  when it disconnects. They are never merged into an account the client logs in to
  (logged in, it sees the account's; logged out again, its own), and they cover at most
  `GUEST_MARKERS` targets: moving the marker of one more drops the one moved least
  recently, so a set is never refused for want of room.

Where the spec (ircv3.net/specs/extensions/read-marker) leaves room, this server:
- clamps a marker to the current time and only moves it forward: an older (or equal)
  timestamp changes nothing and the sender is answered with the stored one;
- always answers the sender, capability or not; when the marker moved, it tells every
  registered session of the holder that negotiated the capability (the sender once);
- answers a get on a target it does not know (no such room, or a secret one the client
  is not in; no such nick or account, nor a guest that left and that the client exchanged
  messages with; see `core.history.correspondent`) with the marker kept under the key
  that name would have (a room's, or a departed guest's), as given: so `*`, the spec's
  "no known timestamp", unless one was set while the target was known. A target that is
  neither a channel name nor a nick is an invalid selector: `FAIL MARKREAD INVALID_PARAMS`;
- refuses a set on a target it does not know with `FAIL MARKREAD INVALID_PARAMS <target>`
  (the spec's error for invalid selectors): there is no buffer to keep a marker for, and
  refusing keeps the store free of markers on made-up names. A malformed timestamp is
  `FAIL MARKREAD INVALID_PARAMS <that parameter>`, checked before the target.

The inbox's read state follows an account's markers both ways: moving a private marker
marks that conversation's unread messages up to it as read, so they are not delivered
again at the next login; and delivering unread messages at login
(`commands.history.deliver_unread`) moves each conversation's marker to its newest
delivered message (`delivered`).

This module sits below `commands.history` (which calls `delivered`) and so imports nothing
from the other command modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from miniircd.core.channel import Channel
from miniircd.core.errors import Fail
from miniircd.core.history import correspondent, iso_time, party, private_conversation
from miniircd.core.params import echo, parse_timestamp
from miniircd.core.session import Session
from miniircd.protocol.casemap import fold, is_channel_name, is_valid_channel, is_valid_nick
from miniircd.protocol.message import Message
from miniircd.store.base import StoredMessage

if TYPE_CHECKING:
    from miniircd.core.server import Server

CAP = "draft/read-marker"
GUEST_MARKERS = 1000  # the most targets a client that is not logged in keeps markers for

# Whose markers a client uses: its account's (the account name), or its own (its session).
Holder = str | Session


# MARKREAD <target> [timestamp=YYYY-MM-DDThh:mm:ss.sssZ]
def markread(server: Server, session: Session, msg: Message) -> None:
    if not msg.params or not msg.params[0]:
        raise Fail("MARKREAD", "NEED_MORE_PARAMS", "Missing parameters")
    target = msg.params[0]
    if len(msg.params) == 1:  # the get command
        key, name = _resolve(server, session, target) or _unknown(server, target)
        _tell(server, [session], name, _read(server, _holder(session), key))
        return
    wanted = parse_timestamp(msg.params[1])  # the set command
    if wanted is None:
        raise _fail("INVALID_PARAMS", msg.params[1], "Invalid timestamp")
    found = _resolve(server, session, target)
    if found is None:
        text = "No such channel" if is_channel_name(target) else "No such nick/channel"
        raise _fail("INVALID_PARAMS", target, text)
    key, name = found
    time_ms = min(wanted, int(server.now * 1000))
    advance(server, _holder(session), key, name, time_ms, session)


def on_join(server: Server, session: Session, channel: Channel) -> None:
    """After a JOIN: tell a read-marker client where it had read up to in `channel`."""
    if CAP in session.caps:
        stored = _read(server, _holder(session), fold(channel.name))
        _tell(server, [session], channel.name, stored)


def room_renamed(server: Server, old: str, new: str) -> None:
    """A room's folded name went from `old` to `new`: the markers of the clients that are
    not logged in follow it, as the store moves the accounts' (`Store.rename_room`); one
    on both names keeps the later."""
    if old == new:
        return
    for user in server.state.users.values():
        if isinstance(user, Session) and old in user.read_markers:
            markers = user.read_markers
            moved = markers.pop(old)
            markers[new] = max(moved, markers.pop(new, moved))


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
    holder: Holder,
    key: str,
    name: str,
    time_ms: int,
    asker: Session | None = None,
) -> None:
    """Move `holder`'s marker on `key` forward to `time_ms` if that is later; tell its
    read-marker sessions when it moved, and `asker` (if any) where it stands either way."""
    stored = _read(server, holder, key)
    told: list[Session] = []
    if stored is None or time_ms > stored:
        stored = time_ms
        told = _write(server, holder, key, time_ms)
    if asker is not None and asker not in told:
        told.append(asker)
    _tell(server, told, name, stored)


def _holder(session: Session) -> Holder:
    """Whose markers `session` uses: its account's if it is logged in, else its own."""
    return session if session.account is None else session.account


def _read(server: Server, holder: Holder, key: str) -> int | None:
    """`holder`'s marker on `key`, or None for none."""
    if isinstance(holder, Session):
        return holder.read_markers.get(key)
    return server.store.read_marker(holder, key)


def _write(server: Server, holder: Holder, key: str, time_ms: int) -> list[Session]:
    """Set `holder`'s marker on `key`; return the sessions to tell that it moved."""
    if isinstance(holder, Session):  # kept in the order last moved, the oldest first
        markers = holder.read_markers
        markers.pop(key, None)
        if len(markers) >= GUEST_MARKERS:
            del markers[next(iter(markers))]
        markers[key] = time_ms
        return [holder] if CAP in holder.caps else []
    server.store.set_read_marker(holder, key, time_ms)
    if not is_channel_name(key):  # a private conversation: the inbox follows
        conversation = private_conversation(fold(holder), key)
        server.store.mark_read_until(holder, conversation, time_ms)
    return _sessions_of(server, holder)


def _resolve(server: Server, session: Session, target: str) -> tuple[str, str] | None:
    """The marker key of `target` and the name to send it under; None if it names no
    channel `session` can see and no one (see `core.history.correspondent`)."""
    if is_channel_name(target):
        channel = server.state.find_channel(target)
        if channel is None or not channel.visible_to(session):
            return None
        return fold(channel.name), channel.name
    return correspondent(server, session, target)


def _unknown(server: Server, target: str) -> tuple[str, str]:
    """For a `target` that `_resolve` does not know: the key it would have (a room's, or a
    departed guest's) and the name as given; INVALID_PARAMS if it is neither a channel
    name nor a nick."""
    if is_valid_channel(target, server.config.channellen):
        return fold(target), target
    if is_valid_nick(target, server.config.nicklen):
        return "~" + fold(target), target
    raise _fail("INVALID_PARAMS", target, "Invalid target")


def _sessions_of(server: Server, account: str) -> list[Session]:
    """The registered sessions logged in to `account` that negotiated the capability."""
    folded = fold(account)
    return [
        session
        for session in server.state.users.values()
        if isinstance(session, Session)  # a remote one hears from its own server
        and session.registered
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
    (see `core.params.echo`) is sent as `*`."""
    return Fail("MARKREAD", code, echo(context), text)
