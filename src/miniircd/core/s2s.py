"""Server links' way into the core: the server-to-server command table and the entry
points `Server` offers the network layer for links (open, receive, lost, tick).

One dialect, ngIRCd's (RFC 2813 with IRC+), which miniircd servers speak with each other
too, with message tags across the link (the T flag, core.link): core.s2s_ngircd
(handshake, bursts, keepalive, splits, collisions), core.s2s_events (live events) and
core.s2s_channels (MODE, INVITE); between miniircd servers, requests to the services hub
(core.s2s_services).
A line the table does not know is ignored; a line before the handshake is done that is
not part of it is refused; a bug in a handler is logged and the link goes on, as a
client's does (core.dispatch).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from miniircd.config import LinkBlock
from miniircd.core import (
    actions,
    replica,
    replica_accounts,
    replica_rooms,
    resume,
    s2s_channels,
    s2s_events,
    s2s_ngircd,
    s2s_queries,
    s2s_services,
    services_link,
)
from miniircd.core.errors import IrcError
from miniircd.core.link import TAGGED_VERBS, Link
from miniircd.core.session import Session
from miniircd.core.user import RemoteUser
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message, ParseError, decode, parse
from miniircd.protocol.numerics import ERR_ALREADYREGISTERED

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")

Handler = Callable[["Server", Link, Message], None]


def _nick(server: Server, link: Link, msg: Message) -> None:
    """NICK with seven parameters introduces a user; with one, a user changes nick."""
    if len(msg.params) >= 7:
        s2s_ngircd.nick(server, link, msg)
    else:
        s2s_events.nick_change(server, link, msg)


# verb -> (handler, minimum parameters, allowed before the link is up)
COMMANDS: dict[str, tuple[Handler, int, bool]] = {
    "PASS": (s2s_ngircd.pass_, 1, True),
    "SERVER": (s2s_ngircd.server_, 2, True),
    "005": (s2s_ngircd.isupport, 2, True),
    "376": (s2s_ngircd.end_of_motd, 0, True),
    "PING": (s2s_ngircd.ping, 0, True),
    "PONG": (s2s_ngircd.pong, 0, True),
    "ERROR": (s2s_ngircd.error, 0, True),
    "NICK": (_nick, 1, False),
    "METADATA": (s2s_ngircd.metadata, 3, False),
    "SQUIT": (s2s_ngircd.squit, 1, False),
    "CHANINFO": (s2s_events.chaninfo, 2, False),
    "NJOIN": (s2s_events.njoin, 2, False),
    "KILL": (s2s_events.kill, 1, False),
    "PRIVMSG": (s2s_events.privmsg, 2, False),
    "NOTICE": (s2s_events.privmsg, 2, False),
    "TAGMSG": (s2s_events.privmsg, 1, False),
    "JOIN": (s2s_events.join, 1, False),
    "PART": (s2s_events.part, 1, False),
    "QUIT": (s2s_events.quit_, 0, False),
    "KICK": (s2s_events.kick, 2, False),
    "TOPIC": (s2s_events.topic, 2, False),
    "AWAY": (s2s_events.away, 0, False),
    "MODE": (s2s_channels.mode, 2, False),
    "INVITE": (s2s_channels.invite, 2, False),
    "SESSION": (resume.session, 3, False),
    "ACK": (resume.ack, 1, False),
    "WHOIS": (s2s_queries.whois, 2, False),
    "LINKS": (s2s_queries.links_, 1, False),
    "SVCREQ": (s2s_services.request, 3, False),
    "SVCANS": (s2s_services.answer, 3, False),
    "KEEP": (replica.keep, 2, False),
    "KEPT": (replica.kept, 2, False),
    "STORED": (replica.stored, 3, False),
    "SYNC": (replica.sync, 2, False),
    "SYNCED": (replica.synced, 2, False),
    "READ": (replica.read_, 2, False),
    "ACCOUNT": (replica.account, 3, False),
    "ACCOUNTDROP": (replica_accounts.account_drop, 2, False),
    "ROOM": (replica_rooms.room, 2, False),
    "ROOMDROP": (replica_rooms.room_drop, 2, False),
}


def open_link(server: Server, block: LinkBlock, host: str, outgoing: bool) -> Link:
    """A connection to a peer is open (we dialed it, or it dialed us)."""
    link = Link(server.state.next_id(), block, host, server.now, outgoing)
    server.state.add_link(link)
    if outgoing:
        s2s_ngircd.greet(server, link)
    return link


# SERVER <name> <hops> :<info>   (on the client port, after PASS <password> 0210-IRC+ ...)
def server_from_client(server: Server, session: Session, msg: Message) -> None:
    """A server dialed us: the connection stops being a client and becomes a link, which
    the network layer takes over (`Server.adopted`). Only before NICK and USER, and only
    for a server named in a `[[links]]` block."""
    if session.registered:
        raise IrcError(ERR_ALREADYREGISTERED, "You may not reregister")
    name = msg.params[0]
    block = next((b for b in server.config.links if fold(b.name) == fold(name)), None)
    if block is None or session.nick is not None or session.user is not None:
        log.warning("refused a server link from %s as %s", session.host, name[:64])
        actions.quit(server, session, "Server not configured here")
        return
    link = open_link(server, block, session.host, outgoing=False)
    actions.forget(server, session)
    session.closing = True  # its later lines are the link's (net/loop.py hands them over)
    server.adopted[session.id] = link
    s2s_ngircd.pass_(server, link, Message("PASS", session.pass_params or [""]))
    s2s_ngircd.server_(server, link, msg)


def receive(server: Server, link: Link, raw: bytes) -> None:
    if link.closing or link.id not in server.state.links:
        return
    link.last_active = server.now
    link.ping_pending = False
    try:
        msg = parse(decode(raw))
    except ParseError:
        return
    entry = COMMANDS.get(msg.verb)
    if entry is None:
        if msg.verb.isdigit() and msg.params and link.up:
            _route_numeric(server, link, msg)
        return
    handler, min_params, early = entry
    if not link.up and not early:
        s2s_ngircd.close(server, link, "Protocol error: not registered")
        return
    if msg.verb in TAGGED_VERBS:
        resume.took(link)
    if len(msg.params) < min_params:
        return
    try:
        handler(server, link, msg)
    except Exception:
        log.exception("link handler for %s failed on %s", msg.verb, link.block.name)


def _route_numeric(server: Server, link: Link, msg: Message) -> None:
    """A numeric from the network for a user (the reply to its command): ours get it, one
    behind another link is sent it on that link (core.link passes numerics on)."""
    target = server.state.find_user(msg.params[0])
    if target is None or (isinstance(target, RemoteUser) and target.via == link.id):
        return
    source = _numeric_source(server, msg) if isinstance(target, Session) else msg.source
    server.outbox.send(target, Message(msg.verb, msg.params, source))


def _numeric_source(server: Server, msg: Message) -> str | None:
    """A numeric comes from a server: ngIRCd prefixes some (its 341 for an INVITE) with
    the user they are about, shown here as that user's server."""
    source = msg.source
    if source is None or server.state.find_server(source) is not None:
        return source
    user = server.state.find_user(source)
    return user.server if isinstance(user, RemoteUser) and user.server else source


def lost(server: Server, link: Link, reason: str) -> None:
    s2s_ngircd.lost(server, link, reason)
    services_link.link_lost(server, link)


def tick(server: Server, now: float) -> None:
    s2s_ngircd.tick(server, now)
    resume.tick(server)
    services_link.tick(server)
    replica.tick(server)


def reconfigure(server: Server) -> None:
    """The configuration was reloaded: the link of a block no longer in it is closed, as
    an operator's SQUIT would (ERROR to the peer, its users split off). A changed block
    takes effect at its next connection (net/links dials from the new list)."""
    names = {fold(block.name) for block in server.config.links}
    for link in list(server.state.links.values()):
        if fold(link.block.name) not in names and not link.closing:
            log.info("link %s: removed from the configuration; closing it", link.block.name)
            s2s_ngircd.close(server, link, "Link removed from the configuration")
