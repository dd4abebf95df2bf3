"""Connection registration and liveness: CAP, PASS, NICK, USER, PING, PONG, QUIT.

Registration completes, with the welcome burst, as soon as the session has a nick and a
user and is not in the middle of CAP negotiation.
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from miniircd.core import actions, capabilities, links, metadata
from miniircd.core.commands import accounts, history, modes, monitor, nickserv, server_queries
from miniircd.core.errors import Fail, IrcError, need_more_params
from miniircd.core.outbox import TAG_CAPS
from miniircd.core.params import parse_count
from miniircd.core.services import is_service
from miniircd.core.session import Session
from miniircd.logs import fields
from miniircd.protocol.casemap import is_valid_nick
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_ALREADYREGISTERED,
    ERR_ERRONEUSNICKNAME,
    ERR_INVALIDCAPCMD,
    ERR_NICKNAMEINUSE,
    ERR_NONICKNAMEGIVEN,
    ERR_PASSWDMISMATCH,
    ERR_SASLABORTED,
    RPL_CREATED,
    RPL_MYINFO,
    RPL_WELCOME,
    RPL_YOURHOST,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.core")

CAP_LS_LINE_BUDGET = 400  # room left for capability names in one CAP LS line
FALLBACK_USER = "user"  # the user name (before '~') when USER gives none that can be used


# CAP <subcommand> [:<capabilities>]
def cap(server: Server, session: Session, msg: Message) -> None:
    subcommand = msg.params[0].upper()
    out = server.outbox
    if subcommand == "LS":
        if not session.registered:
            session.cap_negotiating = True
        version = msg.params[1] if len(msg.params) > 1 else ""
        if (wanted := parse_count(version)) is not None:
            session.cap_version = max(session.cap_version, wanted)
        _cap_ls(server, session, capabilities.ls_tokens(session.cap_version, server.config))
    elif subcommand == "LIST":
        out.from_server(session, "CAP", session.name, "LIST", " ".join(sorted(session.caps)))
    elif subcommand == "REQ":
        if not session.registered:
            session.cap_negotiating = True
        requested = " ".join(msg.params[1:])  # HexChat sends the names without a ':'
        names = requested.split()
        known = all(name.removeprefix("-") in capabilities.CAPABILITIES for name in names)
        if not names or not known:
            out.from_server(session, "CAP", session.name, "NAK", requested)
            return
        for name in names:
            if name.startswith("-"):
                session.caps.discard(name[1:])
            else:
                session.caps.add(name)
        session.tag_caps = frozenset(session.caps & TAG_CAPS)
        out.from_server(session, "CAP", session.name, "ACK", " ".join(names))
    elif subcommand == "END":
        if session.sasl_mechanism is not None and not session.busy:
            session.sasl_mechanism, session.sasl_buffer = None, ""
            session.sasl_scram, session.sasl_account = None, None
            out.numeric(session, ERR_SASLABORTED, "SASL authentication aborted")
        if not session.registered and session.cap_negotiating:
            session.cap_negotiating = False
            try_register(server, session)
    else:
        raise IrcError(ERR_INVALIDCAPCMD, msg.params[0], "Invalid CAP command")


def _cap_ls(server: Server, session: Session, tokens: list[str]) -> None:
    """Send CAP LS, split over several lines (`*` marks all but the last) for CAP 302."""
    lines: list[list[str]] = [[]]
    size = 0
    for token in tokens:
        if lines[-1] and size + len(token) + 1 > CAP_LS_LINE_BUDGET and session.cap_version:
            lines.append([])
            size = 0
        lines[-1].append(token)
        size += len(token) + 1
    for index, line in enumerate(lines):
        more = ["*"] if index < len(lines) - 1 else []
        server.outbox.from_server(session, "CAP", session.name, "LS", *more, " ".join(line))


# PASS <password>
def pass_(server: Server, session: Session, msg: Message) -> None:
    if session.registered:
        raise IrcError(ERR_ALREADYREGISTERED, "You may not reregister")
    session.password = msg.params[0]
    session.pass_params = msg.params


# NICK <nickname>
def nick(server: Server, session: Session, msg: Message) -> None:
    new = msg.params[0] if msg.params else ""
    if not new:
        raise IrcError(ERR_NONICKNAMEGIVEN, "No nickname given")
    if not is_valid_nick(new, server.config.nicklen):
        raise IrcError(ERR_ERRONEUSNICKNAME, new, "Erroneous nickname")
    holder = server.state.find_nick(new)
    if is_service(new) or (holder is not None and holder is not session):
        session.nick_refused = new  # what `REGISTER *` means until a nick is accepted
        raise IrcError(ERR_NICKNAMEINUSE, new, "Nickname is already in use")
    if new == session.nick:
        return
    actions.change_nick(server, session, new)
    if not session.registered:
        try_register(server, session)


# USER <username> <mode> <unused> :<realname>
def user(server: Server, session: Session, msg: Message) -> None:
    if session.registered:
        raise IrcError(ERR_ALREADYREGISTERED, "You may not reregister")
    if not msg.params[0] or not msg.params[3]:
        raise need_more_params("USER")
    # A user name given but with nothing usable left gets the default value the spec
    # asks for instead of a 461, which would leave the client waiting for a welcome.
    username = "".join(ch for ch in msg.params[0] if ch.isalnum() or ch in "-._")
    # No ident lookup is done, so the user name is marked as unverified with '~'.
    session.user = "~" + (username or FALLBACK_USER)[: server.config.userlen - 1]
    session.realname = msg.params[3][: server.config.namelen]
    try_register(server, session)


# SETNAME :<realname>   (IRCv3 setname)
def setname(server: Server, session: Session, msg: Message) -> None:
    realname = msg.params[0]
    if not realname or len(realname) > server.config.namelen:
        raise Fail("SETNAME", "INVALID_REALNAME", "Realname is not valid")
    session.realname = realname
    near = server.state.peers_and_self(session)
    watchers = monitor.audience(server, session, "setname", near)  # + extended-monitor
    server.outbox.send_many(watchers, Message("SETNAME", [realname], session.prefix), session)
    links.realname_changed(server, session)


# PING <token>
def ping(server: Server, session: Session, msg: Message) -> None:
    server.outbox.from_server(session, "PONG", server.name, msg.params[0])


# PONG [<server>] <token>
def pong(server: Server, session: Session, msg: Message) -> None:
    """Receiving any line already counts as a sign of life; nothing more to do."""


# QUIT [:<reason>]
def quit(server: Server, session: Session, msg: Message) -> None:
    reason = f"Quit: {msg.params[0]}" if msg.params and msg.params[0] else "Client Quit"
    actions.quit(server, session, reason)


def try_register(server: Server, session: Session) -> None:
    if session.registered or session.cap_negotiating or not session.nick or not session.user:
        return
    if session.busy:
        return  # a login is being checked; its continuation calls us again
    expected = server.config.password
    if expected is None and session.password is not None and session.account is None:
        accounts.pass_login(server, session)
        if session.busy:
            return  # the server retries registration after the check
        # answered at once (no way to the services hub): registration goes on
    if expected is not None:
        given = (session.password or "").encode()
        if not hmac.compare_digest(given, expected.encode()):
            server.outbox.numeric(session, ERR_PASSWDMISMATCH, "Password incorrect")
            actions.quit(server, session, "Bad password")
            return
    server.state.register(session)
    links.introduce(server, session)
    log.info("client registered", extra=fields(nick=session.nick, host=session.host))
    welcome(server, session)


def welcome(server: Server, session: Session) -> None:
    out = server.outbox
    network = server.config.network
    out.numeric(session, RPL_WELCOME, f"Welcome to the {network} Network, {session.prefix}")
    out.numeric(
        session, RPL_YOURHOST, f"Your host is {server.name}, running version {server.version}"
    )
    out.numeric(session, RPL_CREATED, f"This server was created {server.created}")
    out.numeric(
        session,
        RPL_MYINFO,
        server.name,
        server.version,
        "".join(sorted(modes.USER_MODES)),
        "".join(sorted(modes.CHANNEL_MODES)),
        "".join(sorted(modes.CHANNEL_MODES_WITH_PARAM)),
    )
    server_queries.send_isupport(server, session)
    server_queries.send_lusers(server, session)
    server_queries.send_motd(server, session)
    metadata.burst(server, session)
    monitor.signed_on(server, session)
    nickserv.protect_nick(server, session)
    history.deliver_unread(server, session)
