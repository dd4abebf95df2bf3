"""How events of this server reach the linked servers: the lines the client-side handlers
hand to every link that is up (core.link), written in the peers' dialect (RFC 2813 with
ngIRCd's IRC+ extensions, core.s2s_ngircd).

Each function here queues `ServerLine`s only; it changes no table. A user's event goes to
every link but the one the user is behind (`origin`), so an event from the network is never
sent back where it came from. Every line carries a prefix: ngIRCd refuses a line without.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core.channel import Channel
from miniircd.core.link import Link
from miniircd.core.serverline import ServerLine
from miniircd.core.user import RemoteUser, User
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

# The user modes a peer is told about (the others are this server's business).
SHARED_USER_MODES = "iow"  # o: a peer lets our operators SQUIT across it
OUR_TOKEN = 1  # a server numbers itself 1 in the tokens it gives its peers


def server_line(source: str, verb: str, params: list[str], text: bool = False) -> ServerLine:
    """`:source VERB params`; with `text`, the last parameter always after a ':'."""
    msg = Message(verb, params, source)
    return ServerLine(
        (msg.serialize(text, with_tags=False) + "\r\n").encode("utf-8", "surrogateescape")
    )


def send(server: Server, link: Link, line: ServerLine) -> None:
    server.outbox.raw(link, line)


def broadcast(server: Server, line: ServerLine, origin: Link | None = None) -> None:
    """`line` to every link that is up, but `origin`."""
    for link in server.state.links.values():
        if link.up and link is not origin:
            server.outbox.raw(link, line)


def origin_of(server: Server, user: User) -> Link | None:
    """The link `user` is behind; None for a local user."""
    return server.state.links.get(user.via) if isinstance(user, RemoteUser) else None


def user_event(server: Server, user: User, verb: str, params: list[str], text: bool) -> None:
    """A user's own event (`:nick VERB params`) to the network."""
    if user.nick is None or not user.registered or not server.state.links:
        return
    line = server_line(user.nick, verb, params, text and bool(params))
    broadcast(server, line, origin_of(server, user))


def nick_line(server: Server, user: User) -> ServerLine:
    """The NICK line that introduces a user of this server to a peer."""
    modes = "+" + "".join(sorted(m for m in user.modes if m in SHARED_USER_MODES))
    params = [user.name, "1", user.user or user.name, user.host, str(OUR_TOKEN), modes]
    return server_line(server.name, "NICK", [*params, user.realname], text=True)


def account_line(server: Server, user: User) -> ServerLine | None:
    """ngIRCd's METADATA line for a user's account, for peers with the M flag."""
    if user.account is None:
        return None
    return server_line(server.name, "METADATA", [user.name, "accountname", user.account], True)


def introduce(server: Server, user: User) -> None:
    """A user of this server completed registration: every peer learns of it."""
    if not server.state.links:
        return
    nick = nick_line(server, user)
    account = account_line(server, user)
    for link in server.state.links.values():
        if link.up:
            send(server, link, nick)
            if account is not None and "M" in link.flags:
                send(server, link, account)


def account_changed(server: Server, user: User) -> None:
    """A user of this server logged in or out: peers with the M flag learn its account
    (an empty one: logged out)."""
    if not user.registered or user.nick is None:
        return
    params = [user.nick, "accountname", user.account or ""]
    line = server_line(server.name, "METADATA", params, text=True)
    for link in server.state.links.values():
        if link.up and "M" in link.flags:
            send(server, link, line)


def joined(server: Server, user: User, channel: Channel, ranks: set[str]) -> None:
    """A JOIN with the member's ranks after a BEL, as IRC+ servers send it."""
    name = channel.name + ("\x07" + "".join(sorted(ranks)) if ranks else "")
    user_event(server, user, "JOIN", [name], text=False)


def chanops_event(
    server: Server, sender: User, verb: str, params: list[str], text: bool = True
) -> None:
    """A PART, KICK or TOPIC (the last parameter is text) from `sender`."""
    user_event(server, sender, verb, params, text)
