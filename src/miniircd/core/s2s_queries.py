"""Queries a linked server forwards for one of its users (RFC 2812 3.6.2 remote WHOIS,
3.4.5 LINKS): `:bob WHOIS leaf.test :alice`. This server answers with the numerics a user
here would get, addressed to the asking remote user; they travel back over the link as
server lines (core.link). A query for a server behind another of our links is passed on
toward it, as it came; one for a server not in the network is answered 402.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core import links
from miniircd.core.commands import network, user_queries
from miniircd.core.errors import IrcError
from miniircd.core.link import Link
from miniircd.core.user import RemoteUser
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server


def _asker(server: Server, link: Link, msg: Message) -> RemoteUser | None:
    """The remote user the query comes from, if it is one behind this link."""
    if msg.source is None:
        return None
    user = server.state.find_user(msg.source.split("!", 1)[0])
    return user if isinstance(user, RemoteUser) and user.via == link.id else None


def _answer_here(server: Server, link: Link, asker: RemoteUser, msg: Message) -> bool:
    """Whether the query's target names this server; otherwise it is passed on toward the
    server it names (a hub), or the asker gets 402, and False."""
    try:
        found = network.remote_target(server, msg.params[0])
    except IrcError as err:
        server.outbox.refuse(asker, err)
        return False
    if found is None:
        return True
    toward = server.state.links.get(found.link_id)
    if toward is None or toward is link:  # it came from there: a loop, not a route
        server.outbox.refuse(asker, network.no_such_server(msg.params[0]))
    else:
        assert msg.source is not None
        line = links.server_line(msg.source, msg.verb, msg.params, text=True)
        links.send(server, toward, line)
    return False


# WHOIS <server> :<nick>
def whois(server: Server, link: Link, msg: Message) -> None:
    asker = _asker(server, link, msg)
    if asker is None or not _answer_here(server, link, asker, msg):
        return
    nick = msg.params[-1].split(",")[0]
    user_queries.send_whois(server, asker, nick)


# LINKS <server> :<mask>
def links_(server: Server, link: Link, msg: Message) -> None:
    asker = _asker(server, link, msg)
    if asker is None or not _answer_here(server, link, asker, msg):
        return
    mask = msg.params[1] if len(msg.params) > 1 and msg.params[1] else None
    network.send_links(server, asker, mask)
