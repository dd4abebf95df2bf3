"""IRCv3 draft/message-redaction: REDACT, deleting a message from history.

Who may redact a stored PRIVMSG, NOTICE or TAGMSG (a reaction; see `core.events`):
- its sender: the same account, or for a message a guest sent, the same connection
  under the same nick!user@host, holding that nick since before it was sent (a guest is
  known by nothing else);
- in a room, also its channel operators and the IRC operators; an IRC operator need not
  be in the room, everyone else must be;
- in a private conversation, no one else (its recipient neither).

A redacted message is forgotten: its text and tags are dropped at once, and the history
keeps only a placeholder row (`Store.redact`) that no replay, CHATHISTORY, HISTORY or
inbox shows. The REDACT line goes, with a time and a msgid of its own, to the room's
members (or the private recipient's connections) that negotiated the capability, and
back to the redacter; clients without the capability are sent nothing. There is no time
window: a message can be redacted as long as the history keeps it.

TAGMSGs that are not kept (typing notifications and the like) and messages between two
guests are not stored, so they cannot be redacted: their msgids are UNKNOWN_MSGID, as is
a msgid from another conversation than the target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core.errors import Fail
from miniircd.core.history import correspondent, live_tags, party, private_conversation
from miniircd.core.params import echo
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold, is_channel_name
from miniircd.protocol.message import Message
from miniircd.store.base import MESSAGE_VERBS, StoredMessage

if TYPE_CHECKING:
    from miniircd.core.server import Server

CAP = "draft/message-redaction"
REDACTABLE = (*MESSAGE_VERBS, "TAGMSG")


# REDACT <target> <msgid> [:<reason>]
def redact(server: Server, session: Session, msg: Message) -> None:
    target, msgid = msg.params[0], msg.params[1]
    reason = msg.params[2:3]
    is_oper = "o" in session.modes
    if is_channel_name(target):
        channel = server.state.find_channel(target)
        if channel is None or (session not in channel.members and not is_oper):
            raise _invalid_target(target)
        conversation, shown = fold(channel.name), channel.name
        audience: list[User] = list(channel.members)
        moderator = is_oper or channel.is_op(session)
    else:
        other = correspondent(server, session, target)
        if other is None:
            raise _invalid_target(target)
        conversation, shown = private_conversation(party(session), other[0]), other[1]
        audience = _connections(server, other[0])
        moderator = False
    stored = server.store.message_by_msgid(msgid)
    if stored is None or stored.conversation != conversation or stored.verb not in REDACTABLE:
        text = "This message does not exist or is too old"
        raise Fail("REDACT", "UNKNOWN_MSGID", echo(target), echo(msgid), text)
    if not (moderator or _sent_by(session, stored)):
        text = "You are not authorised to delete this message"
        raise Fail("REDACT", "REDACT_FORBIDDEN", echo(target), msgid, text)
    server.store.redact(stored.id)
    line = Message("REDACT", [shown, msgid, *reason], session.prefix, live_tags(server, {}))
    others = [user for user in audience if user is not session and CAP in user.caps]
    server.outbox.send_many([*others, session], line, session)


def _invalid_target(target: str) -> Fail:
    return Fail("REDACT", "INVALID_TARGET", echo(target), "You cannot delete messages from there")


def _sent_by(session: Session, stored: StoredMessage) -> bool:
    """Whether `session` is who sent the stored message (see the module's docstring)."""
    if stored.account is not None:
        return session.account is not None and fold(session.account) == fold(stored.account)
    # a guest's message is its own if sent under this prefix since it took the nick: no
    # one else could hold that nick meanwhile (a later holder of the nick is not its sender)
    sent_since_taking_the_nick = stored.time_ms >= int(session.nick_since * 1000)
    return stored.source == session.prefix and sent_since_taking_the_nick


def _connections(server: Server, other: str) -> list[User]:
    """The users online as the private party `other` (see `core.history.party`)."""
    return [user for user in server.state.users.values() if party(user) == other]
