"""Queries a linked server forwards for one of its users (RFC 2812 3.6.2 remote WHOIS,
3.4.5 LINKS): `:bob WHOIS leaf.test :alice`. This server answers with the numerics a user
here would get, addressed to the asking remote user; they travel back over the link as
server lines (core.link). A query for another server is answered 402: this server links
as a leaf and forwards nothing between links.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def _answer_here(server: Server, asker: RemoteUser, target: str) -> bool:
    """Whether `target` names this server; False after a 402 to the asker otherwise."""
    try:
        if network.remote_target(server, target) is not None:
            raise network.no_such_server(target)
    except IrcError as err:
        server.outbox.refuse(asker, err)
        return False
    return True


# WHOIS <server> :<nick>
def whois(server: Server, link: Link, msg: Message) -> None:
    asker = _asker(server, link, msg)
    if asker is None or not _answer_here(server, asker, msg.params[0]):
        return
    nick = msg.params[-1].split(",")[0]
    user_queries.send_whois(server, asker, nick)


# LINKS <server> :<mask>
def links_(server: Server, link: Link, msg: Message) -> None:
    asker = _asker(server, link, msg)
    if asker is None or not _answer_here(server, asker, msg.params[0]):
        return
    mask = msg.params[1] if len(msg.params) > 1 and msg.params[1] else None
    network.send_links(server, asker, mask)
