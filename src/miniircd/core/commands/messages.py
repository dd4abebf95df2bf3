"""PRIVMSG, NOTICE and TAGMSG to channels, nicks, accounts and services.

Comma-separated targets go up to TARGMAX. Every PRIVMSG/NOTICE to a room, and every
private one involving an account, is recorded before it is delivered; one to an account
that is offline waits in its inbox.

NOTICE never provokes an error reply (modern.ircdocs: no automatic replies to NOTICE),
so its refusals are dropped silently.

A channel name behind prefix symbols (ISUPPORT STATUSMSG, `@#chan`, `+#chan`) addresses
the members holding that prefix or a higher one; the sender must be allowed to speak in
the channel. Such a message is not stored: history is replayed to every member.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from miniircd.core import events, multiline
from miniircd.core.channel import PREFIXES
from miniircd.core.commands import chanserv, memoserv, nickserv
from miniircd.core.commands.private import (
    find_recipients,
    inbox_full,
    inbox_full_note,
    keep_private,
    offline_note,
)
from miniircd.core.commands.user_queries import away_reply
from miniircd.core.errors import Fail, IrcError, Refusal, no_such_nick
from miniircd.core.history import client_tags, live_tags, record
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold, is_channel_name
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_CANNOTSENDTOCHAN,
    ERR_NORECIPIENT,
    ERR_NOTEXTTOSEND,
    ERR_TOOMANYTARGETS,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

# folded service nick -> what handles a PRIVMSG to it (from a user here or, on the
# services hub, behind a link: core.s2s_events)
SERVICES: dict[str, Callable[[Server, User, str], None]] = {
    "nickserv": nickserv.handle,
    "chanserv": chanserv.handle,
    "memoserv": memoserv.handle,
}


STATUS_SYMBOLS = "".join(symbol for _mode, symbol in PREFIXES)  # ISUPPORT STATUSMSG


# PRIVMSG <target>{,<target>} <text to be sent>
def privmsg(server: Server, session: Session, msg: Message) -> None:
    session.last_active = server.now  # WHOIS idle time counts from the last PRIVMSG
    _relay(server, session, msg, report=True)


# NOTICE <target>{,<target>} <text to be sent>
def notice(server: Server, session: Session, msg: Message) -> None:
    _relay(server, session, msg, report=False)


# TAGMSG <target>{,<target>}   (only client-only tags; only for clients with message-tags)
def tagmsg(server: Server, session: Session, msg: Message) -> None:
    _relay(server, session, msg, report=True)


def _relay(server: Server, session: Session, msg: Message, report: bool) -> None:
    verb = msg.verb
    out = server.outbox
    if not msg.params or not msg.params[0]:
        if report:
            raise IrcError(ERR_NORECIPIENT, f"No recipient given ({verb})")
        return
    if verb != "TAGMSG" and (len(msg.params) < 2 or not msg.params[1]):
        if report:
            raise IrcError(ERR_NOTEXTTOSEND, "No text to send")
        return
    targets = msg.params[0].split(",")
    limit = server.config.targmax
    if len(targets) > limit:
        if report:
            raise IrcError(ERR_TOOMANYTARGETS, msg.params[0], f"Too many targets (max {limit})")
        return
    text = msg.params[1] if verb != "TAGMSG" else ""
    tags = client_tags(msg.tags)
    for target in targets:
        try:
            _deliver(server, session, verb, target, text, tags)
        except Refusal as refusal:
            if report:
                out.refuse(session, refusal)


def _deliver(
    server: Server, session: Session, verb: str, target: str, text: str, tags: dict[str, str]
) -> None:
    name = target.lstrip(STATUS_SYMBOLS)
    if is_channel_name(name):
        _to_channel(server, session, verb, target[: len(target) - len(name)], name, text, tags)
        return
    service = SERVICES.get(fold(target))
    if service is not None:
        if verb == "PRIVMSG":
            service(server, session, text)
        return
    require_account(server, session, verb, target)
    recipient, recipients, account = find_recipients(server, target)
    offline = not recipients
    if offline and verb == "PRIVMSG" and account is not None and inbox_full(server, account):
        raise Fail("PRIVMSG", "INBOX_FULL", account, inbox_full_note(account))
    shown = recipient.name if recipient is not None else account or target
    audience = _audience(session, verb, recipients)
    kept = keep_private(server, session, verb, shown, recipients, account, text, tags)
    if kept is not None:
        line_tags = kept
    elif any(member.tag_caps for member in audience):
        line_tags = live_tags(server, tags)
    else:
        line_tags = {}  # not stored, and no one would see a msgid or time: skip making them
    params = [shown] if verb == "TAGMSG" else [shown, text]
    line = Message(verb, params, session.prefix, line_tags)
    _send(server, session, line, audience, to_self=session in recipients)
    if offline and verb == "PRIVMSG":
        server.outbox.from_server(session, "NOTICE", session.name, offline_note(account))
    elif verb == "PRIVMSG" and recipient is not None:
        away_reply(server, session, recipient)


def _to_channel(
    server: Server,
    session: Session,
    verb: str,
    status: str,
    target: str,
    text: str,
    tags: dict[str, str],
) -> None:
    """To a channel, or with `status` symbols (STATUSMSG) to its members of that rank."""
    require_account(server, session, verb, target)
    channel = server.state.find_channel(target)
    if channel is None or not channel.visible_to(session):
        raise no_such_nick(status + target)
    if not channel.can_speak(session):
        raise IrcError(ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send to channel")
    if "C" in channel.modes and is_ctcp(text):
        text = "Cannot send CTCP to channel (+C: only ACTION is allowed)"
        raise IrcError(ERR_CANNOTSENDTOCHAN, channel.name, text)
    shown = status + channel.name
    others = [m for m in channel.members if m is not session]
    if status:
        # the lowest rank named counts: `+#chan` reaches voiced members and ops
        ranks = _ranks_from(max(STATUS_SYMBOLS.index(symbol) for symbol in status))
        others = [m for m in others if not ranks.isdisjoint(channel.members[m])]
    # a CTCP query is for whoever is there now: replayed, it would make every later
    # joiner's client answer it
    if (verb == "TAGMSG" and not events.persisted(tags)) or status or is_ctcp(text):
        line_tags = live_tags(server, tags)
    else:
        line_tags = record(server, session, verb, channel.name, fold(channel.name), text, tags)
    params = [shown] if verb == "TAGMSG" else [shown, text]
    line = Message(verb, params, session.prefix, line_tags)
    multiline.send_many(server.outbox, _audience(session, verb, others), line, session)


def _ranks_from(index: int) -> set[str]:
    """The prefix modes at PREFIXES[index] and above."""
    return {mode for mode, _symbol in PREFIXES[: index + 1]}


def is_ctcp(text: str) -> bool:
    """Whether the text holds a CTCP other than ACTION, on any of its lines for a
    draft/multiline message: what channel mode +C refuses and history does not keep."""
    if "\x01" not in text:  # nearly every message: no lines to split
        return False
    return any(_is_ctcp_line(line) for line, _joined in multiline.split(text))


def _is_ctcp_line(text: str) -> bool:
    if not text.startswith("\x01"):
        return False
    command = text[1:].rstrip("\x01").split(" ", 1)[0]
    return command.upper() != "ACTION"


def _send(
    server: Server, sender: Session, line: Message, audience: list[User], to_self: bool
) -> None:
    """Queue `line` for its audience. In a message the sender sent to itself (its nick, or
    an account it is logged in to), the copy it gets as a recipient is a side effect, not
    the answer to its command; the echo is that answer (labeled-response), so the
    delivered copy goes aside."""
    if to_self and sender in audience:
        multiline.send_aside(server.outbox, sender, line, sender)
        audience = audience.copy()
        audience.remove(sender)  # the first is the delivered copy; an echo comes last
    multiline.send_many(server.outbox, audience, line, sender)


def _audience(sender: Session, verb: str, recipients: list[User]) -> list[User]:
    """Who gets the line: the recipients, and the sender too if it asked for echo-message."""
    if "echo-message" in sender.caps:
        recipients = [*recipients, sender]
    if verb == "TAGMSG":
        recipients = [r for r in recipients if "message-tags" in r.caps]
    return recipients


def require_account(server: Server, session: Session, verb: str, target: str) -> None:
    """With `require_account` on, guests may talk only to services until they log in."""
    if server.config.require_account and session.account is None:
        text = "You must log in first (see /msg NickServ HELP)"
        raise Fail(verb, "ACCOUNT_REQUIRED", target, text)
