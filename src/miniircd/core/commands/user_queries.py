"""Queries about users, and the away state: WHO, WHOIS, WHOWAS, ISON, USERHOST, AWAY.

Visibility: a secret (+s) channel is shown only to its members (`Channel.visible_to`), and
an invisible (+i) user is listed by WHO <mask> only to themselves and to those who share a
channel with them, and by WHO <channel> only to its members; WHO <exact nick>, WHOIS, ISON
and USERHOST name one nick exactly, so they answer for anyone (modern.ircdocs WHO).
`away_reply` is shared with PRIVMSG, which answers a message to an away user with 301.

WHOX (`WHO <mask> %<fields>[,<token>]`, IRCv3): each match is one 354 carrying exactly the
fields asked for, in the fixed order of `WHOX_ORDER` whatever order they were asked in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from miniircd.core import links
from miniircd.core.channel import Channel
from miniircd.core.commands import monitor, network
from miniircd.core.commands.server_queries import server_info
from miniircd.core.errors import IrcError, no_such_nick
from miniircd.core.params import parse_count
from miniircd.core.services import SERVICE_HOST, SERVICE_INFO, service_nick
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold, is_channel_name, mask_matches
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_NONICKNAMEGIVEN,
    ERR_WASNOSUCHNICK,
    RPL_AWAY,
    RPL_ENDOFWHO,
    RPL_ENDOFWHOIS,
    RPL_ENDOFWHOWAS,
    RPL_ISON,
    RPL_NOWAWAY,
    RPL_UNAWAY,
    RPL_USERHOST,
    RPL_WHOISACCOUNT,
    RPL_WHOISBOT,
    RPL_WHOISCHANNELS,
    RPL_WHOISIDLE,
    RPL_WHOISOPERATOR,
    RPL_WHOISSERVER,
    RPL_WHOISUSER,
    RPL_WHOREPLY,
    RPL_WHOSPCRPL,
    RPL_WHOWASUSER,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

USERHOST_MAX = 5
WHO_EVERYONE = ("", "0", "*")
# WHOX fields in the order replies give them (the token first, the realname last).
WHOX_ORDER = "tcuihsnfdlaor"


def away_reply(server: Server, asker: User, target: User) -> None:
    """301 to `asker` when `target` is away."""
    if target.away is not None:
        server.outbox.numeric(asker, RPL_AWAY, target.name, target.away)


def _multi(session: User) -> bool:
    return "multi-prefix" in session.caps


def _first_nick(msg: Message, index: int) -> str:
    """The first of a comma-separated list of nicks in `params[index]`, or 431 if none."""
    nick = msg.params[index].split(",")[0] if len(msg.params) > index else ""
    if not nick:
        raise IrcError(ERR_NONICKNAMEGIVEN, "No nickname given")
    return nick


# WHO <mask> [o][%<fields>[,<token>]]
def who(server: Server, session: Session, msg: Message) -> None:
    mask = msg.params[0]
    # The second parameter holds selection flags, then (WHOX) '%', the fields and a token;
    # "o" among the flags asks for operators only.
    selectors, whox, spec = (msg.params[1] if len(msg.params) > 1 else "").partition("%")
    opers_only = "o" in selectors
    channel = server.state.find_channel(mask) if is_channel_name(mask) else None
    members: Iterator[User]
    if channel is not None:
        members = _channel_who(channel, session)
    elif is_channel_name(mask):
        members = iter(())
    else:
        members = _mask_who(server, session, mask)
    out = server.outbox
    fields, _, token = spec.partition(",")
    token = _whox_token(token)
    wanted = [field for field in WHOX_ORDER if field in fields]  # unknown letters are ignored
    whox = whox if wanted else ""  # `%` with no known field: an ordinary WHO
    for member in members:
        if opers_only and "o" not in member.modes:
            continue
        flags = "H" if member.away is None else "G"
        if "o" in member.modes:
            flags += "*"
        if "B" in member.modes:
            flags += "B"  # IRCv3 bot mode
        if channel is not None:
            flags += channel.prefix(member, _multi(session))
        if whox:
            values = _whox_values(server, member, channel, flags, token)
            out.numeric(session, RPL_WHOSPCRPL, *(values[field] for field in wanted))
            continue
        out.numeric(
            session,
            RPL_WHOREPLY,
            channel.name if channel is not None else "*",
            member.user or "*",
            member.host,
            member.server or server.name,
            member.name,
            flags,
            f"{member.hops} {member.realname}",
        )
    out.numeric(session, RPL_ENDOFWHO, mask, "End of WHO list")


def _whox_token(token: str) -> str:
    """The client's query token: one to three digits, echoed as given; `0` for anything
    else (a token that could not be echoed safely is no token)."""
    return token if 0 < len(token) <= 3 and token.isascii() and token.isdigit() else "0"


def _whox_values(
    server: Server, member: User, channel: Channel | None, flags: str, token: str
) -> dict[str, str]:
    """Every WHOX field of one reply, by its letter."""
    return {
        "t": token,
        "c": channel.name if channel is not None else "*",
        "u": member.user or "*",
        "i": _ip(member.host),
        "h": member.host,
        "s": member.server or server.name,
        "n": member.name,
        "f": flags,
        "d": str(member.hops),
        "l": str(int(server.now - member.last_active)),
        "a": member.account or "0",
        "o": "n/a",  # channel op level: there are no op levels here (ircu's +A/+U)
        "r": member.realname,
    }


def _ip(host: str) -> str:
    """The user's IP address; the spec's placeholder when the host is not one."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "255.255.255.255"
    return host


def _channel_who(channel: Channel, asker: Session) -> Iterator[User]:
    """A channel's members as the asker may see them: all of them to a member, else the
    visible ones of a channel that is not secret."""
    if not channel.visible_to(asker):
        return
    inside = asker in channel.members
    for member in channel.members:
        if inside or "i" not in member.modes:
            yield member


def _mask_who(server: Server, asker: Session, mask: str) -> Iterator[User]:
    """The user whose nick is exactly `mask`, invisible or not; else the registered users
    whose nick, user, host or realname match `mask`, minus the invisible ones the asker
    shares no channel with. The channel field is then always `*`."""
    named = server.state.find_user(mask) if mask not in WHO_EVERYONE else None
    if named is not None:
        yield named
        return
    peers = server.state.peers(asker)
    everyone = mask in WHO_EVERYONE
    for user in server.state.users.values():
        if not user.registered:
            continue
        if "i" in user.modes and user is not asker and user not in peers:
            continue
        fields = (user.name, user.user or "", user.host, user.realname)
        if everyone or any(mask_matches(mask, field) for field in fields):
            yield user


# WHOIS [<target>] <nick>
def whois(server: Server, session: Session, msg: Message) -> None:
    # With two parameters the first names the server to ask: a server, a mask or a user's
    # nick (its server). Another server's answer comes back through the link (core.s2s).
    nick = _first_nick(msg, 1 if len(msg.params) > 1 else 0)  # TARGMAX WHOIS:1
    if len(msg.params) > 1 and service_nick(msg.params[0]) is None:
        remote = network.remote_target(server, msg.params[0])
        if remote is not None:
            network.forward(server, session, remote, "WHOIS", [remote.name, nick])
            return
    send_whois(server, session, nick)


def send_whois(server: Server, asker: User, nick: str) -> None:
    """The WHOIS numerics about `nick`, to a user here or one on another server."""
    out = server.outbox
    target = server.state.find_user(nick)
    service = service_nick(nick)
    if service is not None:
        info = SERVICE_INFO[fold(service)]
        out.numeric(asker, RPL_WHOISUSER, service, service, SERVICE_HOST, "*", info)
        out.numeric(asker, RPL_WHOISSERVER, service, server.name, "Services")
        out.numeric(asker, RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    if target is None:
        out.refuse(asker, no_such_nick(nick))
        out.numeric(asker, RPL_ENDOFWHOIS, nick, "End of /WHOIS list")
        return
    name = target.name
    out.numeric(asker, RPL_WHOISUSER, name, target.user or "*", target.host, "*", target.realname)
    shown = [
        channel.prefix(target, _multi(asker)) + channel.name
        for channel in target.channels.values()
        if channel.visible_to(asker)
    ]
    out.numeric_words(asker, RPL_WHOISCHANNELS, [name], shown)
    home = target.server or server.name
    remote = server.state.find_server(home) if target.server else None
    info = remote.info if remote is not None else server_info(server)
    out.numeric(asker, RPL_WHOISSERVER, name, home, info)
    if "o" in target.modes:
        out.numeric(asker, RPL_WHOISOPERATOR, name, "is an IRC operator")
    if "B" in target.modes:
        out.numeric(asker, RPL_WHOISBOT, name, "is a bot")
    if target.account is not None:
        out.numeric(asker, RPL_WHOISACCOUNT, name, target.account, "is logged in as")
    away_reply(server, asker, target)
    if target.server is None:  # a remote user's idle time is its own server's to know
        idle = str(int(server.now - target.last_active))
        signon = str(int(target.connected_at))
        out.numeric(asker, RPL_WHOISIDLE, name, idle, signon, "seconds idle, signon time")
    out.numeric(asker, RPL_ENDOFWHOIS, nick, "End of /WHOIS list")


# WHOWAS <nick> [<count>]
def whowas(server: Server, session: Session, msg: Message) -> None:
    nick = _first_nick(msg, 0)
    wanted = msg.params[1] if len(msg.params) > 1 else ""
    count = parse_count(wanted) or 0
    out = server.outbox
    folded = fold(nick)
    entries = [entry for entry in server.state.whowas if fold(entry.nick) == folded]
    if count > 0:
        entries = entries[:count]
    for entry in entries:
        user = entry.user or "*"
        out.numeric(session, RPL_WHOWASUSER, entry.nick, user, entry.host, "*", entry.realname)
        when = datetime.fromtimestamp(entry.time, UTC).ctime()
        out.numeric(session, RPL_WHOISSERVER, entry.nick, entry.server or server.name, when)
    if not entries:
        out.numeric(session, ERR_WASNOSUCHNICK, nick, "There was no such nickname")
    out.numeric(session, RPL_ENDOFWHOWAS, nick, "End of WHOWAS")


def _nick_list(msg: Message) -> list[str]:
    """Nicks given as separate parameters, as one space-separated trailing one, or both."""
    return " ".join(msg.params).split()


# ISON <nickname>{ <nickname>}
def ison(server: Server, session: Session, msg: Message) -> None:
    found = (server.state.find_user(nick) for nick in _nick_list(msg))
    present = [user.name for user in found if user is not None]
    server.outbox.numeric(session, RPL_ISON, " ".join(present))


# USERHOST <nickname>{ <nickname>}
def userhost(server: Server, session: Session, msg: Message) -> None:
    replies = []
    for nick in _nick_list(msg)[:USERHOST_MAX]:
        user = server.state.find_user(nick)
        if user is None:
            continue
        oper = "*" if "o" in user.modes else ""
        here = "+" if user.away is None else "-"
        replies.append(f"{user.name}{oper}={here}{user.user}@{user.host}")
    server.outbox.numeric(session, RPL_USERHOST, " ".join(replies))


# AWAY [<text>]
def away(server: Server, session: Session, msg: Message) -> None:
    text = msg.params[0] if msg.params else ""
    if text:
        session.away = text[: server.config.awaylen]
        server.outbox.numeric(session, RPL_NOWAWAY, "You have been marked as being away")
    else:
        session.away = None
        server.outbox.numeric(session, RPL_UNAWAY, "You are no longer marked as being away")
    # away-notify: peers that asked are told, `AWAY :text` or a bare `AWAY` when back;
    # so are its MONITOR watchers with extended-monitor
    watchers = monitor.audience(server, session, "away-notify", server.state.peers(session))
    params = [session.away] if session.away is not None else []
    server.outbox.send_many(watchers, Message("AWAY", params, session.prefix), session)
    links.away_changed(server, session)
