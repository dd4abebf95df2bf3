"""PRIVMSG and NOTICE to channels and nicks, with comma-separated targets up to TARGMAX.

NOTICE never provokes an error reply (modern.ircdocs: no automatic replies to NOTICE),
so its refusals are dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from miniircd.core.commands import nickserv
from miniircd.core.commands.user_queries import away_reply
from miniircd.core.errors import Fail, IrcError
from miniircd.core.session import Session
from miniircd.protocol.casemap import fold, is_channel_name
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_CANNOTSENDTOCHAN,
    ERR_NORECIPIENT,
    ERR_NOSUCHNICK,
    ERR_NOTEXTTOSEND,
    ERR_TOOMANYTARGETS,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

# folded service nick -> what handles a PRIVMSG to it
SERVICES: dict[str, Callable[[Server, Session, str], None]] = {"nickserv": nickserv.handle}


# PRIVMSG <target>{,<target>} <text to be sent>
def privmsg(server: Server, session: Session, msg: Message) -> None:
    try:
        _relay(server, session, msg, report=True)
    finally:
        session.last_active = server.now


# NOTICE <target>{,<target>} <text to be sent>
def notice(server: Server, session: Session, msg: Message) -> None:
    _relay(server, session, msg, report=False)


def _relay(server: Server, session: Session, msg: Message, report: bool) -> None:
    verb = msg.verb
    out = server.outbox
    if not msg.params or not msg.params[0]:
        if report:
            raise IrcError(ERR_NORECIPIENT, f"No recipient given ({verb})")
        return
    if len(msg.params) < 2 or not msg.params[1]:
        if report:
            raise IrcError(ERR_NOTEXTTOSEND, "No text to send")
        return
    targets = msg.params[0].split(",")
    limit = server.config.targmax
    if len(targets) > limit:
        if report:
            raise IrcError(ERR_TOOMANYTARGETS, msg.params[0], f"Too many targets (max {limit})")
        return
    text = msg.params[1]
    for target in targets:
        try:
            _deliver(server, session, verb, target, text)
        except (IrcError, Fail) as refusal:
            if report:
                out.refuse(session, refusal)


def _deliver(server: Server, session: Session, verb: str, target: str, text: str) -> None:
    if is_channel_name(target):
        require_account(server, session, verb, target)
        channel = server.find_channel(target)
        if channel is None or not channel.visible_to(session):
            raise IrcError(ERR_NOSUCHNICK, target, "No such nick/channel")
        if not channel.can_speak(session):
            raise IrcError(ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send to channel")
        line = Message(verb, [channel.name, text], session.prefix)
        server.outbox.send_many((m for m in channel.members if m is not session), line, session)
        return
    service = SERVICES.get(fold(target))
    if service is not None:
        if verb == "PRIVMSG":
            service(server, session, text)
        return
    require_account(server, session, verb, target)
    recipient = server.find_user(target)
    if recipient is None:
        raise IrcError(ERR_NOSUCHNICK, target, "No such nick/channel")
    server.outbox.send(recipient, Message(verb, [recipient.name, text], session.prefix), session)
    if verb == "PRIVMSG":
        away_reply(server, session, recipient)


def require_account(server: Server, session: Session, verb: str, target: str) -> None:
    """With `require_account` on, guests may talk only to services until they log in."""
    if server.config.require_account and session.account is None:
        text = "You must log in first (see /msg NickServ HELP)"
        raise Fail(verb, "ACCOUNT_REQUIRED", target, text)
