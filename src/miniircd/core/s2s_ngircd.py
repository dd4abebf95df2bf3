"""The server-to-server dialect of ngIRCd (RFC 2813 with the IRC+ extensions): the
handshake, both bursts, keepalive and the loss of a link. Live user events are in
core.s2s_events; the command table of both is core.s2s's `COMMANDS`.

Handshake (docs/linking.md): `PASS <password> 0210-IRC+ miniircd|<version>:CHM` then
`SERVER <name> 1 :<info>`, both ways; the peer's password and name must match its
`[[links]]` block. With the H flag (the enhanced handshake) each side then sends `005` and
`376`: the peer's NICKLEN must be ours and its CASEMAPPING one whose folding ours covers.
After the peer's `376` the link is up and we send our burst, the whole network as we see
it but what is behind that link: a SERVER per server behind our other links, a NICK (and
a METADATA for an account) per user (on the services hub, to an ngIRCd peer, one per
service too: core.service_users), a CHANINFO and an NJOIN per channel. The peer's burst
(SERVER, NICK, METADATA, CHANINFO, NJOIN) ends with a PING, which we answer.

A server may have several links (a hub): what one peer tells is relayed to the others
(core.links `forward`), and a server known already, by any link, is refused (a loop).
Nick collisions: on a tags link (another miniircd) the older nick stays and the newer
goes, on each server alike; otherwise, or at equal times, both users are killed.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from miniircd.core import actions, links, resume, service_users
from miniircd.core.commands import monitor
from miniircd.core.link import PEER_TAG_CAPS, Link, RemoteServer
from miniircd.core.session import Session
from miniircd.core.user import RemoteUser, User
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")

VERSION = "0210-IRC+"
# CHANINFO, the enhanced handshake, ban/invite lists after the burst (MODE lines),
# METADATA; T: tags (miniircd peers)
OUR_FLAGS = "CHLMT"
OUR_IMPLEMENTATION = "miniircd|"  # the start of our version in PASS
# Case mappings whose folding ours (rfc1459) covers: two nicks they tell apart and we do
# not are handled as a collision.
COMPATIBLE_CASEMAPPINGS = frozenset({"ascii", "rfc1459"})

Handler = Callable[["Server", Link, Message], None]


def greet(server: Server, link: Link) -> None:
    """Our PASS and SERVER lines (the dialing side speaks first)."""
    block = link.block
    version = server.version.replace("-", "|", 1)
    params = [block.send_password, VERSION, f"{version}:{OUR_FLAGS}"]
    links.send(server, link, links.server_line(server.name, "PASS", params))
    info = server.config.server_info or f"{server.config.network} IRC server"
    links.send(
        server, link, links.server_line(server.name, "SERVER", [server.name, "1", info], True)
    )


def close(server: Server, link: Link, reason: str) -> None:
    """Refuse or end the link: ERROR to the peer, then everything behind it is lost."""
    if not link.closing:
        links.send(server, link, links.server_line(server.name, "ERROR", [reason], True))
        link.closing = True
    lost(server, link, reason)


# -- handshake -----------------------------------------------------------------------------


# PASS <password> <version> <flags>
def pass_(server: Server, link: Link, msg: Message) -> None:
    if link.phase != "pass":
        return
    link.password_ok = hmac.compare_digest(
        msg.params[0].encode(), link.block.accept_password.encode()
    )
    if len(msg.params) > 2 and msg.params[1].startswith("0210") and "IRC+" in msg.params[1]:
        implementation, _, link.flags = msg.params[2].partition(":")
        link.tagged = implementation.startswith(OUR_IMPLEMENTATION) and "T" in link.flags
    link.phase = "server"


# SERVER <name> <hops> [<token>] :<info>   (the peer itself; in a burst: servers behind it)
def server_(server: Server, link: Link, msg: Message) -> None:
    if link.up:
        _remote_server(server, link, msg)
        return
    if link.phase != "server":
        close(server, link, "Protocol error: SERVER before PASS")
        return
    name, info = msg.params[0], msg.params[-1]
    if fold(name) != fold(link.block.name):
        close(server, link, "Server not configured here")
        return
    if not link.password_ok:
        log.warning("link %s refused: bad password", link.block.name)
        close(server, link, "Bad password")
        return
    if server.state.find_server(name) is not None or fold(name) == fold(server.name):
        close(server, link, f"Server {name} already exists (a loop)")
        return
    if not link.outgoing:
        greet(server, link)
    link.tokens[1] = link.block.name
    server.state.add_server(RemoteServer(link.block.name, 1, info, link.id, server.name, 1))
    if "H" in link.flags:
        link.phase = "sync"
        nicklen = f"NICKLEN={server.config.nicklen}"
        params = [link.block.name, nicklen, "CASEMAPPING=rfc1459", "PREFIX=(ov)@+",
                  "CHANTYPES=#", "are supported on this server"]  # fmt: skip
        links.send(server, link, links.server_line(server.name, "005", params, True))
        end = [link.block.name, "End of MOTD command"]
        links.send(server, link, links.server_line(server.name, "376", end, True))
    else:
        _up(server, link)


# 005 <us> <token>... :are supported on this server
def isupport(server: Server, link: Link, msg: Message) -> None:
    if link.phase != "sync":
        return
    for token in msg.params[1:-1]:
        key, _, value = token.partition("=")
        if key == "NICKLEN" and value != str(server.config.nicklen):
            close(server, link, f"Incompatible nickname length ({server.config.nicklen}/{value})")
            return
        if key == "CASEMAPPING" and value not in COMPATIBLE_CASEMAPPINGS:
            close(server, link, f"Incompatible case mapping ({value})")
            return


# 376 <us> :End of MOTD command   (the peer's end of the enhanced handshake)
def end_of_motd(server: Server, link: Link, msg: Message) -> None:
    if link.phase == "sync":
        _up(server, link)


def _up(server: Server, link: Link) -> None:
    link.phase = "up"
    log.info("linked with %s", link.block.name)
    peer = server.state.find_server(link.block.name)
    if peer is not None:
        links.broadcast(server, links.server_intro(server, peer), link)
    if link.tagged:
        resume.start(server, link)
    burst(server, link)


def burst(server: Server, link: Link) -> None:
    """The network as we see it, but what is behind `link`, for a peer that has just
    linked: servers (each after the one it is behind), users, channels."""
    state = server.state
    others = [r for r in state.servers.values() if r.link_id != link.id]
    for remote in sorted(others, key=lambda r: r.hops):
        links.send(server, link, links.server_intro(server, remote))
    for user in list(state.users.values()):
        if not user.registered or not links.beyond(user, link):
            continue
        links.send(server, link, links.nick_line(server, user, link))
        if user.away is not None and link.tagged:
            links.send(server, link, links.away_line(user, link))
        account = links.account_line(server, user)
        if account is not None and "M" in link.flags:
            links.send(server, link, account)
    service_users.introduce(server, link)
    for channel in list(state.channels.values()):
        members = [m for m in channel.members if links.beyond(m, link)]
        if not members:
            continue
        if "C" in link.flags:
            modes = "+" + "".join(sorted(channel.modes))
            key = channel.key or "*"
            limit = str(channel.limit or 0)
            params = [channel.name, modes, key, limit, channel.topic]
            links.send(server, link, links.server_line(server.name, "CHANINFO", params, True))
        names = ",".join(channel.prefix(m, multi=True) + m.name for m in members)
        links.send(
            server, link, links.server_line(server.name, "NJOIN", [channel.name, names], True)
        )
        links.channel_lists(server, link, channel)
    link.burst_sent = True


# -- the peer's burst ------------------------------------------------------------------------


def _remote_server(server: Server, link: Link, msg: Message) -> None:
    if len(msg.params) < 4:
        return
    name, hops, token, info = msg.params[0], msg.params[1], msg.params[2], msg.params[-1]
    if fold(name) == fold(server.name) or server.state.find_server(name) is not None:
        close(server, link, f"Server {name} already exists (a loop)")
        return
    if not (hops.isdigit() and token.isdigit()):
        return
    uplink = msg.source or link.block.name
    remote = RemoteServer(name, int(hops), info, link.id, uplink, int(token))
    server.state.add_server(remote)
    link.tokens[int(token)] = name
    links.broadcast(server, links.server_intro(server, remote), link)


# NICK <nick> <hops> <user> <host> <token> <modes> :<realname>   (a new user)
def nick(server: Server, link: Link, msg: Message) -> None:
    nick_, hops, user, host, token, modes, realname = msg.params[:7]
    home = link.tokens.get(int(token)) if token.isdigit() else None
    if home is None or not hops.isdigit():
        log.warning("link %s: NICK %s from unknown server %s", link.block.name, nick_, token)
        return
    if service_users.reserved(server, link, nick_, None):
        return
    since = nick_time(link, msg, server.now)
    holder = server.state.find_nick(nick_)
    if holder is not None and not collide(server, link, nick_, holder, since):
        return
    state = server.state
    remote = RemoteUser(
        state.next_id(), user, host, realname, home, server.now, link.outq, int(hops), link.id
    )
    if link.tagged:
        remote.tag_caps = PEER_TAG_CAPS
        remote.caps.update(PEER_TAG_CAPS)
        remote.network_account = server.config.services_hub is not None
    state.add(remote)
    state.claim_nick(remote, nick_, since)
    for char in modes.lstrip("+"):
        if char in links.SHARED_USER_MODES:
            state.set_user_mode(remote, char, True)
    if links.AWAY_MODE in modes:
        remote.away = links.AWAY_UNSAID
    state.register(remote)
    monitor.signed_on(server, remote)
    links.introduce(server, remote)


def nick_time(link: Link, msg: Message, now: float) -> float:
    """When the nick of a NICK line was taken: its `time` tag on a tags link, else now."""
    time_ms = links.tag_time_ms(msg.tags) if link.tagged else None
    return time_ms / 1000 if time_ms is not None else now


def collide(server: Server, link: Link, nick_: str, holder: User, since: float) -> bool:
    """A user from `link` takes `nick_` (taken at `since`), which `holder` has. When both
    nicks are dated (tags links), the older nick stays: True if that is the newcomer's,
    and the holder is gone. Otherwise, or at equal times, both go: a KILL to every peer,
    and False."""
    if settles_by_time(server, link, holder, since):
        if since > holder.nick_since:
            return False  # the newcomer's own server drops it when it hears of the holder
        # The holder's server drops it likewise: only a local holder's QUIT is ours to tell.
        actions.quit(server, holder, "Killed (Nick collision)", relay=isinstance(holder, Session))
        return True
    kill_collided(server, nick_, holder)
    return False


def settles_by_time(server: Server, link: Link, holder: User, since: float) -> bool:
    """Both nicks of a collision are dated, and not alike: the newcomer's by a tags link,
    the holder's by being ours or from one too (an ngIRCd peer's users are dated when we
    heard of them, which settles nothing)."""
    origin = links.origin_of(server, holder)
    return link.tagged and since != holder.nick_since and (origin is None or origin.tagged)


def kill_collided(server: Server, nick_: str, user: User) -> None:
    """One of two users with one nick goes: a KILL to every peer, and its QUIT here."""
    links.broadcast(server, links.server_line(server.name, "KILL", [nick_, "Nick collision"], True))
    actions.quit(server, user, "Killed (Nick collision)", relay=False)


# METADATA <nick> <key> :<value>
def metadata(server: Server, link: Link, msg: Message) -> None:
    if len(msg.params) < 3:
        return
    user = server.state.find_user(msg.params[0])
    if isinstance(user, RemoteUser) and user.via == link.id:
        key, value = msg.params[1], msg.params[2]
        if key == "accountname" and (value or None) != user.account:
            user.account = value or None
            _tell_watchers(server, user, "account-notify", "ACCOUNT", value or "*")
        elif key == "info" and value and value != user.realname:
            user.realname = value
            _tell_watchers(server, user, "setname", "SETNAME", value)
        links.forward(server, link, msg)


def _tell_watchers(server: Server, user: RemoteUser, cap: str, verb: str, value: str) -> None:
    """A remote user's login, logout or new realname, to the local users that asked to hear
    of it (its channel peers with `cap`, its MONITOR watchers with extended-monitor too),
    as a local user's is told (`ACCOUNT <name|*>`, `SETNAME :<realname>`)."""
    near = server.state.peers_and_self(user)
    hearers = [u for u in monitor.audience(server, user, cap, near) if isinstance(u, Session)]
    server.outbox.send_many(hearers, Message(verb, [value], user.prefix))


# PING [<source>] :<token>
def ping(server: Server, link: Link, msg: Message) -> None:
    if link.up:
        link.peer_done = True
    reply = [server.name, msg.params[-1]] if msg.params else [server.name]
    links.send(server, link, links.server_line(server.name, "PONG", reply, True))


# PONG <source> [:<token>]
def pong(server: Server, link: Link, msg: Message) -> None:
    link.ping_pending = False


# ERROR :<text>
def error(server: Server, link: Link, msg: Message) -> None:
    text = msg.params[0] if msg.params else ""
    log.warning("link %s: ERROR %s", link.block.name, text)
    lost(server, link, f"Link closed by peer: {text}")
    link.closing = True


# SQUIT <server> :<reason>
def squit(server: Server, link: Link, msg: Message) -> None:
    name = msg.params[0]
    if fold(name) in (fold(server.name), fold(link.block.name)):
        close(server, link, msg.params[-1])
        return
    lost_server = server.state.find_server(name)
    if lost_server is not None and lost_server.link_id == link.id:
        ends = f"{lost_server.uplink} {lost_server.name}"
        split(server, link, _subtree(server, lost_server.name), ends)
        links.forward(server, link, msg)


def _subtree(server: Server, name: str) -> set[str]:
    """The folded names of `name` and every server introduced behind it."""
    found = {fold(name)}
    grew = True
    while grew:
        grew = False
        for key, remote in server.state.servers.items():
            if key not in found and fold(remote.uplink) in found:
                found.add(key)
                grew = True
    return found


def split(server: Server, link: Link, lost_servers: set[str], ends: str) -> None:
    """Servers are gone: their users quit with `ends`, the names of the two servers whose
    link broke (`<uplink> <lost server>`, as clients recognise a netsplit), and the
    servers are forgotten."""
    state = server.state
    for user in list(state.users.values()):
        if (
            isinstance(user, RemoteUser)
            and user.via == link.id
            and fold(user.server or "") in lost_servers
        ):
            actions.quit(server, user, ends, relay=False)
    for key in lost_servers:
        remote = state.servers.get(key)
        if remote is not None:
            state.remove_server(remote)
            link.tokens = {t: n for t, n in link.tokens.items() if fold(n) != key}


def lost(server: Server, link: Link, reason: str) -> None:
    """The link is gone (closed, refused, timed out): everything behind it goes."""
    if link.id not in server.state.links:
        return
    if link.phase in ("sync", "up"):
        log.info("link with %s lost: %s", link.block.name, reason)
    resume.stop(link)
    behind = {key for key, remote in server.state.servers.items() if remote.link_id == link.id}
    split(server, link, behind, f"{server.name} {link.block.name}")
    server.state.drop_link(link)
    if link.up:  # the others lose what was behind it, as we did
        squit = links.server_line(server.name, "SQUIT", [link.block.name, reason], True)
        links.broadcast(server, squit, link)


def tick(server: Server, now: float) -> None:
    """Keepalive: a quiet link is sent a PING; one that then stays quiet is lost."""
    c = server.config
    for link in list(server.state.links.values()):
        if link.closing:
            continue
        silent = now - link.last_active
        if link.phase != "up":
            if silent >= c.registration_timeout:
                close(server, link, "Link handshake timed out")
        elif link.ping_pending and silent >= c.ping_timeout:
            close(server, link, f"Ping timeout: {int(c.ping_timeout)} seconds")
        elif silent >= c.ping_interval and not link.ping_pending:
            link.ping_pending = True
            links.send(server, link, links.server_line(server.name, "PING", [server.name], True))
