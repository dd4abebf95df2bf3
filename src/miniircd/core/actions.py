"""Actions that several command families share: each changes the state through
`core.state` and tells whoever should know (QUIT, NICK, MONITOR, NickServ, the inbox).

Handlers and the server's entry points call these; none of them calls back into the
entry points of `core.server`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from miniircd.core import events, links, metadata, replica_rooms
from miniircd.core.channel import Channel
from miniircd.core.commands import history, monitor, nickserv
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.logs import fields
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.core")


def quit(server: Server, user: User, reason: str, relay: bool = True) -> None:
    """Tell the user's peers it quit, send a local one ERROR, drop it from every table.
    With `relay`, the linked servers are told too (not when they told us)."""
    if user.id not in server.state.users:
        return
    if relay:
        links.user_event(server, user, "QUIT", [reason], text=True)
    log.debug("client left", extra=fields(nick=user.name, host=user.host, reason=reason))
    if user.registered:
        tags = events.record_everywhere(server, user, "QUIT", [reason])
        quit_msg = Message("QUIT", [reason], user.prefix, tags)
        server.outbox.send_many(server.state.peers(user), quit_msg, user)
    if isinstance(user, Session):
        text = f"Closing link: {user.name}[{user.host}] ({reason})"
        server.outbox.error_and_close(user, text)
    forget(server, user)


def forget(server: Server, user: User) -> None:
    """Drop the user from every table, telling MONITOR watchers its nick is free."""
    if isinstance(user, Session):
        server.flood.forget(user)
        server.nick_deadlines.discard(user)
    server.state.unwatch_all(user)
    if user.registered and user.nick:
        monitor.signed_off(server, user.nick)
    server.state.remove(user, server.now)


def change_nick(server: Server, session: Session, new: str) -> None:
    """Take `new` (already checked to be valid and free) and tell whoever should know."""
    old = session.nick
    if session.registered:
        tags = events.record_everywhere(server, session, "NICK", [new])
        nick_msg = Message("NICK", [new], session.prefix, tags)
        server.outbox.send_many(server.state.peers_and_self(session), nick_msg, session)
        links.user_event(server, session, "NICK", [new], text=False)
        server.state.remember_nick(session, server.now)
    server.state.claim_nick(session, new, server.now)
    nickserv.protect_nick(server, session)
    # A change of case only keeps the nick: MONITOR's watchers are told nothing.
    if session.registered and (old is None or fold(old) != fold(new)):
        if old is not None:
            monitor.signed_off(server, old)
        monitor.signed_on(server, session)


def room_changed(server: Server, channel: Channel, here: bool = True) -> None:
    """Something stored about a registered room changed: write it. A change made `here`
    (not one a link told us of: every server of the network sees that line) also goes to
    the network's other stores (core.replica_rooms)."""
    if channel.founder is not None:
        server.store.save_room(channel.to_record())
        if here:
            replica_rooms.changed(server, channel)


def nick_owner_changed(server: Server, name: str) -> None:
    """An account named `name` was created or dropped: whoever holds that nick may now
    have to identify, or no longer has to."""
    holder = server.state.find_nick(name)
    if isinstance(holder, Session):  # a remote user's nick is its own server's to guard
        nickserv.protect_nick(server, holder)


def account_changed(server: Server, session: Session) -> None:
    """The session logged in or out."""
    links.account_changed(server, session)
    metadata.logged_in(server, session)
    nickserv.protect_nick(server, session)
    history.deliver_unread(server, session)


def request_rehash(server: Server, session: Session) -> None:
    """An operator's REHASH: the network layer rereads the configuration at the end of the
    turn (it is I/O) and calls `Server.rehash`; the operator's later lines wait for it."""
    session.busy += 1
    server.rehash_requests.append(session)
