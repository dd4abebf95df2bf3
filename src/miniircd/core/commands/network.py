"""The network of servers, for users and operators: LINKS and MAP (the servers and how
they hang together), CONNECT and SQUIT (operators open and close links), and the routing
of a query to another server (`remote_target`, `forward`), which WHOIS, LINKS and
CONNECT use (an operator may ask another server to dial).

The network is this server and the state's `servers` table: each `RemoteServer` names
its `uplink`, the server that introduced it, so the table is a tree with this server at
its root. CONNECT and SQUIT of a link ask the network layer through
`Server.link_requests` (core.link_requests): the core opens no sockets.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from miniircd.core import links, s2s_ngircd
from miniircd.core.commands.server_queries import server_info
from miniircd.core.errors import IrcError
from miniircd.core.link import Link, RemoteServer
from miniircd.core.link_requests import LinkRequest
from miniircd.core.params import echo
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold, mask_matches
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_NOPRIVILEGES,
    ERR_NOSUCHSERVER,
    RPL_ENDOFLINKS,
    RPL_LINKS,
    RPL_MAP,
    RPL_MAPEND,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")


class Node:
    """One server of the network as LINKS and MAP show it."""

    __slots__ = ("depth", "hops", "info", "name", "uplink")

    def __init__(self, name: str, uplink: str, hops: int, info: str, depth: int) -> None:
        self.name, self.uplink, self.hops, self.info, self.depth = name, uplink, hops, info, depth


def tree(server: Server) -> list[Node]:
    """Every server of the network, this one first, each followed by those it introduced
    (alphabetically), depth first."""
    below: dict[str, list[RemoteServer]] = {}
    for remote in server.state.servers.values():
        below.setdefault(fold(remote.uplink), []).append(remote)
    nodes = [Node(server.name, server.name, 0, server_info(server), 0)]
    seen = {fold(server.name)}
    stack = [(remote, 1) for remote in _ordered(below.get(fold(server.name), []))]
    while stack:
        remote, depth = stack.pop()
        if fold(remote.name) in seen:
            continue
        seen.add(fold(remote.name))
        nodes.append(Node(remote.name, remote.uplink, remote.hops, remote.info, depth))
        stack += [(child, depth + 1) for child in _ordered(below.get(fold(remote.name), []))]
    # A server whose uplink we never heard of still belongs to the network: listed last.
    for remote in sorted(server.state.servers.values(), key=lambda r: fold(r.name)):
        if fold(remote.name) not in seen:
            nodes.append(Node(remote.name, remote.uplink, remote.hops, remote.info, 1))
    return nodes


def _ordered(servers: list[RemoteServer]) -> list[RemoteServer]:
    """Reverse alphabetical: popped from a stack, they come out alphabetically."""
    return sorted(servers, key=lambda r: fold(r.name), reverse=True)


def remote_target(server: Server, target: str) -> RemoteServer | None:
    """The server a query's `<target>` names: a server name or mask, or a user's nick (its
    server). None for this server; 402 when it names no server of the network."""
    if mask_matches(target, server.name):
        return None
    state = server.state
    user = state.find_user(target)
    if user is not None:
        if user.server is None:
            return None
        found = state.find_server(user.server)
    else:
        found = state.find_server(target) or next(
            (s for s in state.servers.values() if mask_matches(target, s.name)), None
        )
    link = state.links.get(found.link_id) if found is not None else None
    if found is None or link is None or not link.up:
        raise no_such_server(target)
    return found


def no_such_server(target: str) -> IrcError:
    return IrcError(ERR_NOSUCHSERVER, echo(target), "No such server")


def forward(
    server: Server, asker: User, remote: RemoteServer, verb: str, params: list[str]
) -> None:
    """`:<asker> VERB params` toward `remote`, over the link it is reached through; its
    numerics come back through core.s2s to the asker."""
    link = server.state.links[remote.link_id]
    links.send(server, link, links.server_line(asker.name, verb, params, True))


# LINKS [[<remote server>] <server mask>]
def links_(server: Server, session: Session, msg: Message) -> None:
    params = msg.params
    mask = params[-1] if params and params[-1] else None
    if len(params) > 1:
        remote = remote_target(server, params[0])
        if remote is not None:
            forward(server, session, remote, "LINKS", [remote.name, mask or "*"])
            return
    send_links(server, session, mask)


def send_links(server: Server, asker: User, mask: str | None) -> None:
    """364 for each server matching `mask` (all for None), in tree order, then 365."""
    out = server.outbox
    for node in tree(server):
        if mask is None or mask_matches(mask, node.name):
            out.numeric(asker, RPL_LINKS, node.name, node.uplink, f"{node.hops} {node.info}")
    out.numeric(asker, RPL_ENDOFLINKS, "*" if mask is None else echo(mask), "End of /LINKS list")


# MAP
def map_(server: Server, session: Session, msg: Message) -> None:
    counts: dict[str, int] = {}
    for user in server.state.users.values():
        if user.registered:
            key = fold(user.server or server.name)
            counts[key] = counts.get(key, 0) + 1
    nodes = tree(server)
    rows = [("  " * (n.depth - 1) + "`-" if n.depth else "") + n.name for n in nodes]
    width = max(len(row) for row in rows)
    for node, row in zip(nodes, rows, strict=True):
        users = counts.get(fold(node.name), 0)
        server.outbox.numeric(session, RPL_MAP, f"{row.ljust(width)}  users: {users}")
    server.outbox.numeric(session, RPL_MAPEND, "End of /MAP")


# CONNECT <target server> [<port> [<remote server>]]
def connect(server: Server, session: Session, msg: Message) -> None:
    name = msg.params[0]
    if len(msg.params) > 2:
        remote = remote_target(server, msg.params[2])
        if remote is not None:  # that server decides (ngIRCd: if it lets remote operators)
            log.info("CONNECT %s from %s, asked of %s", name, session.name, remote.name)
            forward(server, session, remote, "CONNECT", [name, msg.params[1], remote.name])
            return
    block = next((b for b in server.config.links if fold(b.name) == fold(name)), None)
    if block is None:
        raise no_such_server(name)
    port: int | None = None
    if len(msg.params) > 1 and msg.params[1] not in ("", "0"):
        text = msg.params[1]
        port = int(text) if text.isascii() and text.isdigit() else 0
        if not 0 < port < 65536:
            _notice(server, session, f"CONNECT: {echo(text)} is not a port")
            return
    state = server.state
    known = state.find_server(block.name)
    if known is not None or any(fold(k.name) == fold(block.name) for k in state.links.values()):
        _notice(server, session, f"CONNECT: Server {block.name} is already linked")
        return
    if not block.host:
        _notice(
            server, session,
            f"CONNECT: Server {block.name} has no host to dial: its [[links]] block waits",
        )  # fmt: skip
        return
    log.info("CONNECT %s from %s", block.name, session.name)
    _wallops(server, f"Received CONNECT {block.name} from {session.name}")
    server.link_requests.append(LinkRequest(block.name, dial=True, port=port))
    address = f"{block.host}:{port or block.port}"
    _notice(server, session, f"CONNECT: Connecting to {block.name} ({address})")


# SQUIT <server> :<comment>
def squit(server: Server, session: Session, msg: Message) -> None:
    name, comment = msg.params[0], msg.params[1]
    if fold(name) == fold(server.name):
        raise IrcError(ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
    state = server.state
    direct = next(
        (k for k in state.links.values() if fold(k.name) == fold(name) and not k.closing), None
    )
    if direct is not None:
        _close(server, session, direct, comment)
        return
    remote = state.find_server(name)
    if remote is None or remote.link_id not in state.links:
        raise no_such_server(name)
    log.info("SQUIT %s from %s: %s", remote.name, session.name, comment)
    forward(server, session, remote, "SQUIT", [remote.name, comment])


def _close(server: Server, session: Session, link: Link, comment: str) -> None:
    """Close a link of ours: its servers and users split off; an outgoing one is not
    redialed before its `retry_max` (or a CONNECT)."""
    log.info("SQUIT %s from %s: %s", link.name, session.name, comment)
    _wallops(server, f"Received SQUIT {link.name} from {session.name}: {comment or '-'}")
    server.link_requests.append(LinkRequest(link.name, dial=False))
    who = f"SQUIT from {session.name}"
    s2s_ngircd.close(server, link, f"{comment} ({who})" if comment else who)


def _wallops(server: Server, text: str) -> None:
    """What an operator did to the network, to this server's users with user mode `w`
    (ngIRCd's wording)."""
    readers = [u for u in server.state.users.values() if isinstance(u, Session) and "w" in u.modes]
    server.outbox.send_many(readers, Message("WALLOPS", [text], server.name))


def _notice(server: Server, session: Session, text: str) -> None:
    server.outbox.from_server(session, "NOTICE", session.name, f"*** {text}")
