"""Lines of a services network (core.replica, core.replica_rooms): who the hub is, and
how a line goes toward one server or to all of them over the tags links (links between
miniircd servers), passed on by each server on the way.

A line naming a server goes toward it; `*` goes to every tags link but the one it came on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core import services_link
from miniircd.core.link import Link
from miniircd.core.links import server_line
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server


def hub_of(server: Server) -> str | None:
    """The network's services hub when it is another server (we copy its history)."""
    return server.config.remote_services


def is_hub(server: Server) -> bool:
    """Whether this server is its network's services hub (`services_hub` names it)."""
    hub = server.config.services_hub
    return hub is not None and fold(hub) == fold(server.name)


def origin_of(server: Server, link: Link, msg: Message) -> str | None:
    """The server a line comes from, if a tags link brought it from there."""
    if not link.tagged or msg.source is None:
        return None
    remote = server.state.find_server(msg.source)
    return remote.name if remote is not None and remote.link_id == link.id else None


def toward(server: Server, name: str, verb: str, params: list[str], text: bool = False) -> None:
    """A line toward the server `name` (dropped if no tags link leads there now)."""
    link = services_link.route(server, name)
    if link is not None:
        server.outbox.raw(link, server_line(server.name, verb, [name, *params], text))


def flood(
    server: Server, source: str, verb: str, params: list[str], text: bool, came: Link | None = None
) -> None:
    """A `*` line from `source` to every tags link (but the one it `came` on)."""
    line = server_line(source, verb, ["*", *params], text)
    for link in server.state.links.values():
        if link is not came and link.up and link.tagged and not link.closing:
            server.outbox.raw(link, line)


def pass_on(server: Server, link: Link, msg: Message, text: bool) -> bool:
    """Send a line naming another server toward it, or a `*` line on to the other tags
    links; True if the line is (also) for this server."""
    target = msg.params[0]
    if target == "*":
        flood(server, msg.source or "", msg.verb, msg.params[1:], text, came=link)
        return True
    if fold(target) == fold(server.name):
        return True
    onward = services_link.route(server, target)
    if onward is not None and onward is not link:
        server.outbox.raw(onward, server_line(msg.source or "", msg.verb, msg.params, text))
    return False


def from_hub(server: Server, link: Link, msg: Message, text: bool) -> bool:
    """Whether a line from the hub is for this server (passing it on meanwhile)."""
    origin = origin_of(server, link, msg)
    if origin is None or not pass_on(server, link, msg, text):
        return False
    hub = hub_of(server)
    return hub is not None and fold(hub) == fold(origin)
