"""How events reach the linked servers: the lines the client-side handlers hand to every
link that is up (core.link), written in the peers' dialect (RFC 2813 with ngIRCd's IRC+
extensions, core.s2s_ngircd), and the lines of one peer this server relays to the others
(`forward`, `introduce`, `server_intro`): a server with several links is a hub.

Each function here queues `ServerLine`s only; it changes no table. An event goes to every
link but the one it came from (`origin`: the link a user is behind, or that told us), so
nothing is sent back where it came from. Every line carries a prefix: ngIRCd refuses a line
without. Server tokens are per link: toward every peer we number ourselves 1 and each other
server with its `our_token`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core.channel import Channel
from miniircd.core.history import iso_time
from miniircd.core.link import Link, RemoteServer
from miniircd.core.params import parse_timestamp
from miniircd.core.serverline import ServerLine
from miniircd.core.user import RemoteUser, User
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

# The user modes a peer is told about (the others are this server's business).
SHARED_USER_MODES = "iow"  # o: a peer lets our operators SQUIT across it
# ngIRCd tells its peers of an away user by user mode `a` (`MODE <nick> :+a`: in its NICK
# burst, and for AWAY), without the away text: shown here as this text.
AWAY_MODE = "a"
AWAY_UNSAID = "Away"
OUR_TOKEN = 1  # a server numbers itself 1 in the tokens it gives its peers
LIST_BURST_ORDER = "ebI"  # ngIRCd's order for the lists after a burst


def server_line(
    source: str,
    verb: str,
    params: list[str],
    text: bool = False,
    tags: dict[str, str] | None = None,
) -> ServerLine:
    """`:source VERB params`; with `text`, the last parameter always after a ':'. `tags`
    only for a tags link (core.link)."""
    msg = Message(verb, params, source, tags or {})
    return ServerLine((msg.serialize(text) + "\r\n").encode("utf-8", "surrogateescape"))


def nick_time(user: User) -> dict[str, str]:
    """The tag that dates a nick for a tags link (which of two colliding nicks is older)."""
    return {"time": iso_time(int(user.nick_since * 1000))}


def tag_time_ms(tags: dict[str, str]) -> int | None:
    """The `time` tag a tags link sent (a nick's time, a message's), in ms; None if none
    or malformed."""
    stamp = tags.get("time")
    return parse_timestamp("timestamp=" + stamp) if stamp is not None else None


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


def beyond(user: User, link: Link) -> bool:
    """`user` is not behind `link`: what comes from there is ours to pass on to it, and
    the peer there has no word of it but ours."""
    return not isinstance(user, RemoteUser) or user.via != link.id


def user_event(server: Server, user: User, verb: str, params: list[str], text: bool) -> None:
    """A user's own event (`:nick VERB params`) to the network."""
    if user.nick is None or not user.registered or not server.state.links:
        return
    line = server_line(user.nick, verb, params, text and bool(params))
    if verb != "NICK":
        broadcast(server, line, origin_of(server, user))
        return
    dated = server_line(user.nick, verb, params, False, {"time": iso_time(int(server.now * 1000))})
    for link in server.state.links.values():
        if link.up and link is not origin_of(server, user):
            send(server, link, dated if link.tagged else line)


def forward(server: Server, link: Link, msg: Message, text: bool = True) -> None:
    """A peer's line that changed our view of the network, to the other peers as it came
    (a tags link gets its tags too)."""
    if len(server.state.links) < 2 or msg.source is None:
        return
    text = text and bool(msg.params)
    plain = server_line(msg.source, msg.verb, msg.params, text)
    tagged = server_line(msg.source, msg.verb, msg.params, text, msg.tags) if msg.tags else plain
    for other in server.state.links.values():
        if other.up and other is not link:
            send(server, other, tagged if other.tagged else plain)


def token_of(server: Server, name: str | None) -> int:
    """Our token for the server named `name` (None: this one)."""
    remote = server.state.find_server(name) if name is not None else None
    return remote.our_token if remote is not None else OUR_TOKEN


def nick_line(server: Server, user: User, link: Link) -> ServerLine:
    """The NICK line that introduces a user (of this server or another) to a peer; an
    away user has ngIRCd's user mode `a` (a tags link then learns the text: `away_line`)."""
    shared = [m for m in user.modes if m in SHARED_USER_MODES]
    if user.away is not None:
        shared.append(AWAY_MODE)
    modes = "+" + "".join(sorted(shared))
    hops, token = str(user.hops + 1), str(token_of(server, user.server))
    params = [user.name, hops, user.user or user.name, user.host, token, modes, user.realname]
    tags = nick_time(user) if link.tagged else None
    return server_line(server.name, "NICK", params, True, tags)


def server_intro(server: Server, remote: RemoteServer) -> ServerLine:
    """The SERVER line that tells a peer of a server behind another link."""
    params = [remote.name, str(remote.hops + 1), str(remote.our_token), remote.info]
    return server_line(remote.uplink, "SERVER", params, text=True)


def account_line(server: Server, user: User) -> ServerLine | None:
    """ngIRCd's METADATA line for a user's account, for peers with the M flag."""
    if user.account is None:
        return None
    return server_line(server.name, "METADATA", [user.name, "accountname", user.account], True)


def away_line(user: User, link: Link) -> ServerLine:
    """A user's away state as the peer takes it: `AWAY [:<text>]` to another miniircd (a
    tags link), ngIRCd's `MODE <nick> :+a` (or `-a`) to others, which carry no text."""
    if link.tagged:
        return server_line(user.name, "AWAY", [user.away] if user.away else [], True)
    sign = "+" if user.away is not None else "-"
    return server_line(user.name, "MODE", [user.name, sign + AWAY_MODE])


def away_changed(server: Server, user: User) -> None:
    """A user went away or came back: every peer but the one it is behind learns of it."""
    if user.nick is None or not user.registered:
        return
    origin = origin_of(server, user)
    for link in server.state.links.values():
        if link.up and link is not origin:
            send(server, link, away_line(user, link))


def introduce(server: Server, user: User) -> None:
    """A user completed registration here, or was introduced by a peer: every other peer
    learns of it."""
    if not server.state.links:
        return
    account = account_line(server, user)
    origin = origin_of(server, user)
    for link in server.state.links.values():
        if link.up and link is not origin:
            send(server, link, nick_line(server, user, link))
            if user.away is not None and link.tagged:
                send(server, link, away_line(user, link))
            if account is not None and "M" in link.flags:
                send(server, link, account)


def account_changed(server: Server, user: User) -> None:
    """A user logged in or out: peers with the M flag learn its account (an empty one:
    logged out)."""
    if not user.registered or user.nick is None:
        return
    params = [user.nick, "accountname", user.account or ""]
    line = server_line(server.name, "METADATA", params, text=True)
    origin = origin_of(server, user)
    for link in server.state.links.values():
        if link.up and "M" in link.flags and link is not origin:
            send(server, link, line)


def realname_changed(server: Server, user: User) -> None:
    """A user changed its realname (SETNAME): peers with the M flag learn it, as ngIRCd's
    `METADATA <nick> info :<realname>`."""
    if not user.registered or user.nick is None:
        return
    line = server_line(server.name, "METADATA", [user.nick, "info", user.realname], text=True)
    origin = origin_of(server, user)
    for link in server.state.links.values():
        if link.up and "M" in link.flags and link is not origin:
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


def to_user(
    server: Server, sender: str, target: User, verb: str, params: list[str], text: bool = False
) -> None:
    """`:sender VERB params` on the one link that leads to `target` (a user behind a link:
    an INVITE, a reply from this server to a user there); `text` as in `server_line`."""
    link = origin_of(server, target)
    if link is not None and link.up:
        send(server, link, server_line(sender, verb, params, text))


def channel_opened(server: Server, channel: Channel) -> None:
    """Our user is the first member of a channel (new, or registered here and empty): the
    network opens it with no modes, as ngIRCd does for a channel it did not create, so
    every peer is told its modes, key, limit and lists as MODE lines from this server."""
    flags = sorted(m for m in channel.modes if m not in "kl")
    params = [v for v in (channel.key, str(channel.limit) if channel.limit else None) if v]
    modes = "".join(flags) + ("k" if channel.key else "") + ("l" if channel.limit else "")
    if modes:
        broadcast(server, server_line(server.name, "MODE", [channel.name, "+" + modes, *params]))
    for char in LIST_BURST_ORDER:
        for mask in channel.list_of(char):
            broadcast(server, server_line(server.name, "MODE", [channel.name, "+" + char, mask]))


def channel_lists(server: Server, link: Link, channel: Channel) -> None:
    """A channel's ban exceptions, bans and invite exceptions after its NJOIN in a burst,
    one `MODE <channel> +<list> <mask>` each, as ngIRCd sends them to a peer with the L
    flag (and takes them from one)."""
    if "L" not in link.flags:
        return
    for char in LIST_BURST_ORDER:
        for mask in channel.list_of(char):
            send(server, link, server_line(server.name, "MODE", [channel.name, "+" + char, mask]))
