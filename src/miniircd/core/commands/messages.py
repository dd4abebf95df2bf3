"""PRIVMSG and NOTICE to channels and nicks, with comma-separated targets up to TARGMAX.

NOTICE never provokes an error reply (modern.ircdocs: no automatic replies to NOTICE),
so its refusals are dropped silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core.commands.user_queries import away_reply
from miniircd.core.errors import IrcError
from miniircd.core.session import Session
from miniircd.protocol.casemap import is_channel_name
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
        except IrcError as err:
            if report:
                out.numeric(session, err.numeric, *err.params)


def _deliver(server: Server, session: Session, verb: str, target: str, text: str) -> None:
    if is_channel_name(target):
        channel = server.find_channel(target)
        if channel is None or not channel.visible_to(session):
            raise IrcError(ERR_NOSUCHNICK, target, "No such nick/channel")
        if not channel.can_speak(session):
            raise IrcError(ERR_CANNOTSENDTOCHAN, channel.name, "Cannot send to channel")
        line = Message(verb, [channel.name, text], session.prefix)
        server.outbox.send_many((m for m in channel.members if m is not session), line)
        return
    recipient = server.find_user(target)
    if recipient is None:
        raise IrcError(ERR_NOSUCHNICK, target, "No such nick/channel")
    server.outbox.send(recipient, Message(verb, [recipient.name, text], session.prefix))
    if verb == "PRIVMSG":
        away_reply(server, session, recipient)
