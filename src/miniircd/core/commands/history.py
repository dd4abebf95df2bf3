"""Reading history the plain way: HISTORY and INBOX, and the inbox delivered at login.

These answer like the replay on join (see `core.history.replay`), so netcat users and
older clients get history without CHATHISTORY.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core import replica
from miniircd.core.commands import readmarker
from miniircd.core.errors import Fail, no_such_channel, no_such_nick
from miniircd.core.history import correspondent, party, private_conversation, replay
from miniircd.core.params import parse_count
from miniircd.core.session import Session
from miniircd.protocol.casemap import fold, is_channel_name
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server


def _count(server: Server, msg: Message, index: int, default: int) -> int:
    """An optional count parameter, capped at chathistory_max."""
    if len(msg.params) <= index:
        return default
    text = msg.params[index]
    count = parse_count(text)
    if count is None:
        raise Fail(msg.verb, "INVALID_PARAMS", text, "The count must be a positive number")
    return min(count, server.config.chathistory_max)


def conversation_of(server: Server, session: Session, target: str, verb: str) -> tuple[str, str]:
    """The conversation `session` may read under `target` and the target's own spelling,
    or a refusal. A private target is a user, an account or a guest that has left (see
    `core.history.correspondent`)."""
    if is_channel_name(target):
        channel = server.state.find_channel(target)
        if channel is None or not channel.visible_to(session):
            raise no_such_channel(target)
        return fold(channel.name), channel.name
    if session.account is None:
        raise Fail(verb, "ACCOUNT_REQUIRED", target, "Log in to read private history")
    other = correspondent(server, session, target)
    if other is None:
        raise no_such_nick(target)
    return private_conversation(party(session), other[0]), other[1]


# HISTORY <target> [<count>]
def history(server: Server, session: Session, msg: Message) -> None:
    target = msg.params[0]
    count = _count(server, msg, 1, server.config.history_replay or server.config.chathistory_max)
    conversation, _ = conversation_of(server, session, target, "HISTORY")
    messages = server.store.messages(conversation, limit=count, ascending=False)
    replay(server, session, target, messages, "history")


# INBOX [<count>]
def inbox(server: Server, session: Session, msg: Message) -> None:
    count = _count(server, msg, 0, server.config.inbox_show)
    show_inbox(server, session, count)


def show_inbox(server: Server, session: Session, count: int) -> None:
    """The latest private messages to the session's account, read or not."""
    if session.account is None:
        raise Fail("INBOX", "ACCOUNT_REQUIRED", "*", "Log in to read your inbox")
    messages = server.store.personal(session.account, count)
    replay(server, session, session.name, messages, "inbox")


def deliver_unread(server: Server, session: Session) -> None:
    """At login: the private messages that arrived while the account was offline."""
    if session.account is None or not session.registered:
        return
    unread = server.store.unread(session.account)
    if not unread:
        return
    server.outbox.from_server(
        session, "NOTICE", session.name, f"You have {len(unread)} unread message(s)"
    )
    replay(server, session, session.name, unread, "unread messages")
    server.store.mark_read([message.id for message in unread])
    replica.read(server, [message.msgid for message in unread])
    readmarker.delivered(server, session, unread)
