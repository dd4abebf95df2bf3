"""Queries about the server itself: MOTD, LUSERS, VERSION, TIME, INFO, HELP (LINKS and
MAP, about the network, are core.commands.network's).

The help texts themselves live in `core.help`, one per verb of the command table.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from miniircd.core import help as help_texts
from miniircd.core.errors import IrcError
from miniircd.core.params import echo
from miniircd.core.session import Session
from miniircd.protocol.casemap import mask_matches
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_HELPNOTFOUND,
    ERR_NOMOTD,
    ERR_NOSUCHSERVER,
    RPL_ENDOFHELP,
    RPL_ENDOFINFO,
    RPL_ENDOFMOTD,
    RPL_GLOBALUSERS,
    RPL_HELPSTART,
    RPL_HELPTXT,
    RPL_INFO,
    RPL_ISUPPORT,
    RPL_LOCALUSERS,
    RPL_LUSERCHANNELS,
    RPL_LUSERCLIENT,
    RPL_LUSERME,
    RPL_LUSEROP,
    RPL_LUSERUNKNOWN,
    RPL_MOTD,
    RPL_MOTDSTART,
    RPL_TIME,
    RPL_VERSION,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server


def _check_target(server: Server, msg: Message) -> None:
    """These queries take an optional server name, which can only be this server."""
    if msg.params:
        _check_server(server, msg.params[0])


def _check_server(server: Server, target: str) -> None:
    """`target` must name this server: its name in any case, or a mask matching it."""
    if not mask_matches(target, server.name):
        raise IrcError(ERR_NOSUCHSERVER, echo(target), "No such server")


# MOTD [<target>]
def motd(server: Server, session: Session, msg: Message) -> None:
    _check_target(server, msg)
    send_motd(server, session)


# LUSERS
def lusers(server: Server, session: Session, msg: Message) -> None:
    send_lusers(server, session)


# VERSION [<target>]
def version(server: Server, session: Session, msg: Message) -> None:
    _check_target(server, msg)
    server.outbox.numeric(session, RPL_VERSION, server.version, server.name, "")
    send_isupport(server, session)


# TIME [<server>]
def time(server: Server, session: Session, msg: Message) -> None:
    _check_target(server, msg)
    stamp = datetime.fromtimestamp(server.now, UTC)
    human = stamp.strftime("%A %B %d %Y -- %H:%M:%S +00:00")
    server.outbox.numeric(session, RPL_TIME, server.name, str(int(server.now)), "0", human)


# INFO [<target>]
def info(server: Server, session: Session, msg: Message) -> None:
    _check_target(server, msg)
    out = server.outbox
    for line in (
        f"{server.version}: a small, fast, dependable IRC server in Python",
        "Accounts, rooms that keep their history and an offline inbox; MIT licence",
        f"Running since {server.created}",
    ):
        out.numeric(session, RPL_INFO, line)
    out.numeric(session, RPL_ENDOFINFO, "End of INFO list")


# HELP [<subject>]   (HELPOP is the same command)
def help_(server: Server, session: Session, msg: Message) -> None:
    subject = msg.params[0] if msg.params and msg.params[0] else None
    if subject is None:
        lines = [help_texts.INDEX_TITLE, "", help_texts.INDEX_HEAD, *_index_lines()]
        lines.append(help_texts.INDEX_FOOT)
        _send_help(server, session, "*", lines)
        return
    # ASCII only: str.upper() turns some other letters into ASCII (a dotless i into I)
    text = help_texts.TEXTS.get(subject.upper()) if subject.isascii() else None
    if text is None:
        raise IrcError(ERR_HELPNOTFOUND, echo(subject), "No help available on this topic")
    title, *body = text
    _send_help(server, session, echo(subject), [title, "", *body])


def _index_lines() -> list[str]:
    """The verbs with help, alphabetically, a few to a line."""
    lines: list[str] = []
    line = ""
    for verb in sorted(help_texts.TEXTS):
        if line and len(line) + 1 + len(verb) > help_texts.INDEX_WIDTH:
            lines.append(line)
            line = ""
        line = f"{line} {verb}" if line else verb
    if line:
        lines.append(line)
    return lines


def _send_help(server: Server, session: Session, subject: str, lines: list[str]) -> None:
    """The first line as `704`, the last as `706`, those between as `705`."""
    out = server.outbox
    out.numeric(session, RPL_HELPSTART, subject, lines[0])
    for line in lines[1:-1]:
        out.numeric(session, RPL_HELPTXT, subject, line)
    out.numeric(session, RPL_ENDOFHELP, subject, lines[-1])


def server_info(server: Server) -> str:
    """The one-line description of this server (`server_info`), as LINKS shows it."""
    return server.config.server_info or f"{server.config.network} IRC server"


def send_motd(server: Server, session: Session) -> None:
    out = server.outbox
    lines = server.config.motd
    if lines is None:
        out.numeric(session, ERR_NOMOTD, "MOTD File is missing")
        return
    out.numeric(session, RPL_MOTDSTART, f"- {server.name} Message of the day - ")
    for line in lines:
        out.numeric(session, RPL_MOTD, f"- {line}")
    out.numeric(session, RPL_ENDOFMOTD, "End of /MOTD command.")


def send_lusers(server: Server, session: Session) -> None:
    out = server.outbox
    users = server.state.registered_count
    invisible = server.state.invisible_count
    opers = server.state.oper_count
    unknown = len(server.state.users) - users
    visible = users - invisible
    state = server.state
    servers = 1 + len(state.servers)
    text = f"There are {visible} users and {invisible} invisible on {servers} servers"
    out.numeric(session, RPL_LUSERCLIENT, text)
    out.numeric(session, RPL_LUSEROP, str(opers), "operator(s) online")
    out.numeric(session, RPL_LUSERUNKNOWN, str(unknown), "unknown connection(s)")
    out.numeric(session, RPL_LUSERCHANNELS, str(len(server.state.channels)), "channels formed")
    mine = users - state.remote_count
    links = sum(link.up for link in state.links.values())
    out.numeric(session, RPL_LUSERME, f"I have {mine} clients and {links} servers")
    most = str(state.max_users)
    out.numeric(
        session, RPL_LOCALUSERS, str(mine), most, f"Current local users {mine}, max {most}"
    )
    out.numeric(
        session, RPL_GLOBALUSERS, str(users), most, f"Current global users {users}, max {most}"
    )


def send_isupport(server: Server, session: Session) -> None:
    for tokens in server.isupport_lines:
        server.outbox.numeric(session, RPL_ISUPPORT, *tokens, "are supported by this server")
