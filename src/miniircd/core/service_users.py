"""The services (NickServ, ChanServ, MemoServ) as users of the services hub, for its
ngIRCd peers, whose users can message only a nick their server knows.

Only the network's services hub (`[accounts] services_hub` names this server) does this:
two servers introducing `MemoServ` would collide, and ngIRCd kills both users of a
collision. In its burst to a peer of ngIRCd's dialect (not a tags link: another miniircd
server has services of its own), it introduces each service as a user of its own,

    :<hub> NICK MemoServ 1 MemoServ services 1 + :Memo services: /msg MemoServ HELP

and a PRIVMSG from a user behind a link to one of them is that service's command
(core.s2s_events), answered with NOTICEs over the link (`:MemoServ NOTICE <nick> :...`).

The nicks stay the services': a peer's user introduced with one, or changing to one, is
refused with `KILL <nick> :<nick> is reserved for services` to that peer (its other
names: to the others), and is not taken in. A KILL of a service (an operator's, or an
ngIRCd server's at a collision, which kills both users) goes no further and brings the
service back on that link at once; killed again within `REINTRODUCE_AFTER` seconds (two
servers introducing it, say), it stays away from that link until the link is made anew.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from miniircd.core import actions, links
from miniircd.core.link import Link
from miniircd.core.serverline import ServerLine
from miniircd.core.services import (
    SERVICE_HOST,
    SERVICE_INFO,
    SERVICE_NICKS,
    is_service,
    linked_services,
)
from miniircd.core.user import RemoteUser
from miniircd.protocol.casemap import fold

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")

REINTRODUCE_AFTER = 60.0  # seconds; see the module docstring


def _nick_line(server: Server, key: str) -> ServerLine:
    nick = SERVICE_NICKS[key]
    params = [nick, "1", nick, SERVICE_HOST, str(links.OUR_TOKEN), "+", SERVICE_INFO[key]]
    return links.server_line(server.name, "NICK", params, True)


def introduce(server: Server, link: Link) -> None:
    """The services' NICK lines, in our burst to an ngIRCd peer, on the services hub."""
    if link.tagged or not linked_services(server):
        return
    for key in SERVICE_NICKS:
        links.send(server, link, _nick_line(server, key))


def reserved(server: Server, link: Link, nick: str, user: RemoteUser | None) -> bool:
    """A peer's user takes the service nick `nick`: introduced (`user` None) or by a nick
    change. On the services hub it is refused (see the module docstring): True."""
    if not linked_services(server) or not is_service(nick):
        return False
    reason = f"{nick} is reserved for services"
    log.warning("link %s: a user took the service nick %s; killed", link.block.name, nick)
    links.send(server, link, links.server_line(server.name, "KILL", [nick, reason], True))
    if user is not None:  # the rest of the network knows it by its old nick
        old = links.server_line(server.name, "KILL", [user.name, reason], True)
        links.broadcast(server, old, link)
        actions.quit(server, user, f"Killed ({server.name} ({reason}))", relay=False)
    return True


def killed(server: Server, link: Link, nick: str) -> bool:
    """A KILL from `link` of `nick`: True if it is one of the services of this hub (the
    KILL is taken here and goes no further), which then comes back on that link."""
    if not linked_services(server) or not is_service(nick):
        return False
    if link.tagged:
        return True  # never introduced there
    key = fold(nick)
    last = link.services_back.get(key)
    if last is not None and server.now - last < REINTRODUCE_AFTER:
        log.warning(
            "link %s: %s killed again; not introduced again until the link is made anew"
            " (does another server introduce it too?)",
            link.block.name, SERVICE_NICKS[key],
        )  # fmt: skip
        return True
    link.services_back[key] = server.now
    links.send(server, link, _nick_line(server, key))
    return True
