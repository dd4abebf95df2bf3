"""Message history: which conversation a message belongs to, recording it, replaying it.

A room's conversation is its folded name. A private conversation is keyed by its two
parties, each an account (folded) or, for a guest, `~` and the folded nick, so that
history between accounts follows the accounts, not the nicks they used. A private target
(a nick or an account name) names its party through `correspondent`; a guest that has
left is still named by its nick in the messages exchanged with it.

Recording happens in the loop turn's open transaction before the message is handed to
anyone (the loop commits before it flushes). Replays are bracketed: inside a `chathistory`
batch for clients that negotiated `batch`, between two server NOTICEs otherwise; clients
without `server-time` get each line's time written in front of its text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from miniircd.core import multiline
from miniircd.core.session import Session
from miniircd.core.user import RemoteUser, User
from miniircd.protocol.casemap import fold, is_channel_name
from miniircd.protocol.message import Message, format_tags, parse_tags
from miniircd.store.base import MESSAGE_VERBS, StoredMessage

ROOM_FIRST = ("JOIN", "PART", "KICK", "TOPIC")  # the stored events that name their room first

if TYPE_CHECKING:
    from miniircd.core.server import Server


def party(user: User) -> str:
    # A user behind a link is logged in to its own server's account, which is not ours
    # (another person may own that name here): it is a party by nick, as a guest is;
    # unless the two servers share a services hub, and so their accounts.
    if user.account and (not isinstance(user, RemoteUser) or user.network_account):
        return fold(user.account)
    return "~" + fold(user.name)


def private_conversation(one: str, other: str) -> str:
    """The key of the private conversation between two parties (see `party`)."""
    return " ".join(sorted((one, other)))


def correspondent(server: Server, session: Session, target: str) -> tuple[str, str] | None:
    """The party (see `party`) that `target` names in `session`'s private conversations,
    and its name as spelled by its owner; None if it names no one.

    A nick in use names its user, else an account name its account, else the nick of a
    guest that has left names that guest as long as `session` exchanged messages with it
    (spelled as in the latest of them).
    """
    user = server.state.find_user(target)
    if user is not None:
        return party(user), user.name
    account = server.store.get_account(target)
    if account is not None:
        return fold(account.name), account.name
    guest = "~" + fold(target)
    conversation = private_conversation(party(session), guest)
    latest = server.store.messages(conversation, limit=1, ascending=False, verbs=None)
    return (guest, spelling(guest, latest[0])) if latest else None


def spelling(other: str, stored: StoredMessage) -> str:
    """How the private message `stored` spells its party `other`: the sender's nick if
    `other` sent it, else the target it was sent to."""
    nick = stored.source.split("!", 1)[0]
    sender = fold(stored.account) if stored.account else "~" + fold(nick)
    return nick if sender == other else stored.target


_last_iso: tuple[int, str] = (-1, "")


def iso_time(time_ms: int) -> str:
    """server-time format: 2026-11-24T12:00:00.000Z"""
    global _last_iso
    if _last_iso[0] == time_ms:  # every message of one loop turn has the same time
        return _last_iso[1]
    stamp = datetime.fromtimestamp(time_ms / 1000, UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time_ms % 1000:03d}Z"
    _last_iso = (time_ms, text)
    return text


def client_tags(tags: dict[str, str]) -> dict[str, str]:
    """The client-only tags (`+name`) of a message a client sent."""
    if not tags:
        return tags
    return {key: value for key, value in tags.items() if key.startswith("+")}


def record(
    server: Server,
    sender: User,
    verb: str,
    target: str,
    conversation: str,
    text: str,
    tags: dict[str, str],
    recipient: str | None = None,
    unread: bool = False,
    stamp: tuple[int, str] | None = None,
) -> dict[str, str]:
    """Store one PRIVMSG/NOTICE (or a TAGMSG to keep: see `core.events.persisted`); return
    the tags to send it with (time, msgid, client tags). `stamp`: the time (ms) and msgid
    the server that first showed the message gave it (core.link: tags links)."""
    if verb == "TAGMSG":  # a reaction is history, but never waits in an inbox
        recipient, unread = None, False
    time_ms, msgid = stamp or (int(server.now * 1000), server.ids.msgid())
    stored = StoredMessage(
        0, conversation, time_ms, msgid, verb, sender.prefix, sender.account, target,
        fold(recipient) if recipient else None, text, format_tags(tags),
    )  # fmt: skip
    server.replica.add(server, stored, unread, first=stamp is None)
    return {"time": iso_time(time_ms), "msgid": msgid, **tags}


def live_tags(
    server: Server, tags: dict[str, str], stamp: tuple[int, str] | None = None
) -> dict[str, str]:
    """Tags for a message that is not stored (between guests): time and a msgid all the
    same (`stamp`: as in `record`)."""
    time_ms, msgid = stamp or (int(server.now * 1000), server.ids.msgid())
    line_tags = {"time": iso_time(time_ms), "msgid": msgid}
    if tags:
        line_tags.update(tags)
    return line_tags


def as_message(stored: StoredMessage, timestamp_text: bool) -> Message:
    """The original line of a stored message; its time goes in the text if asked. A
    stored channel event (see `core.events`) is its line, with its time in a tag only."""
    tags = parse_tags(stored.tags) if stored.tags else {}
    tags.update(time=iso_time(stored.time_ms), msgid=stored.msgid)
    if stored.account:
        tags["account"] = stored.account
    if stored.verb == "TAGMSG":
        return Message("TAGMSG", [stored.target], stored.source, tags)
    if stored.verb not in MESSAGE_VERBS:
        params = [str(p) for p in json.loads(stored.text)]
        if stored.verb in ROOM_FIRST and params:
            params[0] = stored.target  # the room's name now, after any RENAME
        return Message(stored.verb, params, stored.source, tags)
    text = stored.text
    if timestamp_text:
        stamp = datetime.fromtimestamp(stored.time_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        action = "\x01ACTION "
        if text.startswith(action):  # inside the CTCP, or the client shows it raw
            text = f"{action}[{stamp}] {text[len(action):]}"
        else:
            text = f"[{stamp}] {text}"
    return Message(stored.verb, [stored.target, text], stored.source, tags)


def replay(
    server: Server,
    session: Session,
    target: str,
    messages: Iterable[StoredMessage],
    what: str = "history",
    batch_type: str = "chathistory",
) -> None:
    """Send stored messages as their original lines, bracketed as history."""
    out = server.outbox
    messages = list(messages)
    batched = "batch" in session.caps
    timestamp_text = "server-time" not in session.caps
    if batched:
        ref = server.ids.batch_ref()
        out.from_server(session, "BATCH", f"+{ref}", batch_type, target)
    else:
        # the markers show in the room's window, or for private history as a notice to self
        where = target if is_channel_name(target) else session.name
        count = len(messages)
        out.from_server(session, "NOTICE", where, f"*** {what}: {count} message(s) follow")
    plain_join = "extended-join" not in session.caps
    for stored in messages:
        line = as_message(stored, timestamp_text)
        if plain_join and line.verb == "JOIN":
            # a JOIN is stored in its extended-join form
            line = Message("JOIN", line.params[:1], line.source, line.tags)
        if batched:
            line.tags["batch"] = ref
        multiline.send_many(out, (session,), line)  # a multiline message as one batch
    if batched:
        out.from_server(session, "BATCH", f"-{ref}")
    else:
        out.from_server(session, "NOTICE", where, f"*** end of {what}")
