"""Live events from a linked ngIRCd-dialect server: what its users do (PRIVMSG, NOTICE,
JOIN, PART, QUIT, NICK, KICK, TOPIC, AWAY, KILL) and its channel burst (CHANINFO, NJOIN),
told to the local users who should see it (MODE and INVITE: core.s2s_channels).

A peer's line names a user by nick only (`:alice PRIVMSG #room :hi`); local clients get the
full `nick!user@host` of the `RemoteUser`. A line from a user not behind this link, or for
a channel or nick we do not know, is dropped: the peer's view and ours meet again at the
next burst. A line we took is relayed to our other links (`links.forward`); a message goes
only where its recipients are: to the links that lead to a channel's members, or to the
one that leads to its target.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from miniircd.core import actions, events, links, replica, s2s_ngircd, service_users
from miniircd.core.channel import PREFIXES, Channel
from miniircd.core.commands import channels, messages, monitor, private
from miniircd.core.errors import IrcError
from miniircd.core.history import client_tags, live_tags, record
from miniircd.core.link import Link
from miniircd.core.services import linked_services
from miniircd.core.session import Session
from miniircd.core.user import RemoteUser, User
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import ERR_NOSUCHNICK

if TYPE_CHECKING:
    from miniircd.core.server import Server

CHANNEL_MODES = frozenset("Cimnst")  # the flag modes a CHANINFO may carry that we keep
RANK_OF = {char: mode for mode, char in PREFIXES}


def sender_of(server: Server, link: Link, msg: Message) -> RemoteUser | None:
    """The remote user a line comes from, if it is one behind this link."""
    if msg.source is None:
        return None
    user = server.state.find_user(msg.source.split("!", 1)[0])
    if isinstance(user, RemoteUser) and user.via == link.id:
        return user
    return None


def source_prefix(server: Server, link: Link, msg: Message) -> str | None:
    """Who a channel change is from, as local clients see it: a remote user's
    `nick!user@host`, or the name of a server behind the link."""
    user = sender_of(server, link, msg)
    if user is not None:
        return user.prefix
    if msg.source is not None and server.state.find_server(msg.source) is not None:
        return msg.source
    return None


def local_members(members: Iterable[User]) -> list[User]:
    """The local users among `members`: those behind links are told by their servers."""
    return [m for m in members if isinstance(m, Session)]



def _stamp(link: Link, msg: Message) -> tuple[int, str] | None:
    """The time and msgid a tags link gave a message, to show and store it with the same."""
    if not link.tagged:
        return None
    time_ms, msgid = links.tag_time_ms(msg.tags), msg.tags.get("msgid")
    if time_ms is None or not msgid:
        return None
    return time_ms, msgid


# PRIVMSG|NOTICE <target> :<text>   |   TAGMSG <target>   (tags links only)
def privmsg(server: Server, link: Link, msg: Message) -> None:
    sender = sender_of(server, link, msg)
    if (msg.verb == "TAGMSG") != (len(msg.params) == 1):
        return
    if sender is None:
        _server_notice(server, link, msg)
        return
    shown = msg.params[0]
    text = msg.params[1] if msg.verb != "TAGMSG" else ""
    ranks, target = "", shown
    while target[:1] in RANK_OF:  # STATUSMSG: @#room, +#room
        ranks, target = ranks + RANK_OF[target[0]], target[1:]
    channel = server.state.find_channel(target)
    tags = client_tags(msg.tags) if link.tagged else {}
    stamp = _stamp(link, msg)
    if stamp is not None and replica.shown_here(server, stamp[1]):
        return  # a line sent twice (after a relink) is shown once
    if channel is None:
        _private(server, link, sender, msg.verb, target, text, tags, stamp)
        return
    if not ranks and not messages.is_ctcp(text) and (
        msg.verb != "TAGMSG" or events.persisted(tags)
    ):
        # kept in the channel's history, as a local member's message is
        tags = record(
            server, sender, msg.verb, channel.name, fold(channel.name), text, tags, stamp=stamp
        )
    else:
        tags = live_tags(server, tags, stamp)
    params = [shown] if msg.verb == "TAGMSG" else [shown, text]
    line = Message(msg.verb, params, sender.prefix, tags)
    members = [
        m for m, r in channel.members.items()
        if links.beyond(m, link) and (not ranks or "o" in r or ("v" in ranks and "v" in r))
        and (msg.verb != "TAGMSG" or "message-tags" in m.caps)
    ]  # fmt: skip
    server.outbox.send_many(members, line, sender)


def _private(
    server: Server,
    link: Link,
    sender: RemoteUser,
    verb: str,
    target: str,
    text: str,
    tags: dict[str, str],
    stamp: tuple[int, str] | None,
) -> None:
    """A private message from a remote user: to a local user (kept in their conversation
    as a local sender's is, core.commands.messages), to an account here whose owner is
    offline (its inbox), or on toward a user behind another link (its server keeps it).
    On the services hub, a PRIVMSG to a service is its command (core.service_users)."""
    service = messages.SERVICES.get(fold(target.split("@")[0]))
    if service is not None and linked_services(server):
        if verb == "PRIVMSG":
            service(server, sender, text)
        return
    try:
        recipient, recipients, account = private.find_recipients(server, target.split("@")[0])
    except IrcError:
        if verb == "PRIVMSG":
            params = [sender.name, target, "No such nick/channel"]
            links.to_user(server, server.name, sender, ERR_NOSUCHNICK, params, True)
        return
    if recipient is not None and not links.beyond(recipient, link):
        return
    params = [target] if verb == "TAGMSG" else [target, text]
    if isinstance(recipient, RemoteUser):
        if verb != "TAGMSG" or "message-tags" in recipient.caps:
            line = Message(verb, params, sender.prefix, live_tags(server, tags, stamp))
            server.outbox.send(recipient, line, sender)
        return
    recipients = [r for r in recipients if isinstance(r, Session)]
    offline = not recipients
    if offline and verb == "PRIVMSG" and account and private.inbox_full(server, account):
        note = private.inbox_full_note(account)
        links.to_user(server, server.name, sender, "NOTICE", [sender.name, note], True)
        return
    shown = recipient.name if recipient is not None else account or target
    params[0] = shown
    kept = private.keep_private(
        server, sender, verb, shown, recipients, account, text, tags, stamp
    )
    line = Message(verb, params, sender.prefix, kept or live_tags(server, tags, stamp))
    audience = [r for r in recipients if verb != "TAGMSG" or "message-tags" in r.caps]
    server.outbox.send_many(audience, line, sender)
    if offline and verb == "PRIVMSG":
        note = private.offline_note(account)
        links.to_user(server, server.name, sender, "NOTICE", [sender.name, note], True)


def _server_notice(server: Server, link: Link, msg: Message) -> None:
    """A NOTICE from a server behind the link to a user (an answer to the user's
    message): to ours, or on toward the user's link."""
    if msg.verb != "NOTICE" or msg.source is None or server.state.find_server(msg.source) is None:
        return
    user = server.state.find_user(msg.params[0])
    if isinstance(user, Session):
        server.outbox.send(user, Message("NOTICE", [user.name, msg.params[1]], msg.source))
    elif user is not None and links.beyond(user, link):
        links.to_user(server, msg.source, user, "NOTICE", [user.name, msg.params[1]], True)


def _join_one(server: Server, user: RemoteUser, name: str, ranks: set[str]) -> None:
    if not name.startswith(("#", "&", "+", "!")):
        return
    channel = server.state.find_channel(name)
    if channel is None:
        channel = server.state.open_channel(name, server.now, None)
        # its server gave it its modes (ngIRCd none by default): MODE lines tell them
        channel.modes.clear()
    elif user in channel.members:
        return
    server.state.join(user, channel, ranks)
    _announce(server, channel, user, ranks)


def _announce(server: Server, channel: Channel, user: RemoteUser, ranks: set[str]) -> None:
    channels.announce_join(server, user, channel)
    given = [mode for mode, _ in PREFIXES if mode in ranks]
    if given:
        mode_msg = Message(
            "MODE", [channel.name, "+" + "".join(given), *[user.name] * len(given)], user.server
        )
        server.outbox.send_many(local_members(channel.members), mode_msg)


# JOIN <channel>[\x07<modes>]{,<channel>[\x07<modes>]}
def join(server: Server, link: Link, msg: Message) -> None:
    user = sender_of(server, link, msg)
    if user is None:
        return
    for item in msg.params[0].split(","):
        if item == "0":
            for channel in list(user.channels.values()):
                _leave(server, channel, user, Message("PART", [channel.name], user.prefix))
            continue
        name, _, modes = item.partition("\x07")
        _join_one(server, user, name, {m for m in modes if m in ("o", "v")})
    links.forward(server, link, msg, text=False)


def _leave(server: Server, channel: Channel, leaver: User, line: Message) -> None:
    server.outbox.send_many(local_members(channel.members), line)
    server.state.part(leaver, channel)


# PART <channel>{,<channel>} [:<reason>]
def part(server: Server, link: Link, msg: Message) -> None:
    user = sender_of(server, link, msg)
    if user is None:
        return
    for name in msg.params[0].split(","):
        channel = server.state.find_channel(name)
        if channel is not None and user in channel.members:
            params = [channel.name, *msg.params[1:2]]
            _leave(server, channel, user, Message("PART", params, user.prefix))
    links.forward(server, link, msg)


# QUIT [:<reason>]
def quit_(server: Server, link: Link, msg: Message) -> None:
    user = sender_of(server, link, msg)
    if user is not None:
        actions.quit(server, user, msg.params[0] if msg.params else "", relay=False)
        links.forward(server, link, msg)


# KILL <nick> [:<reason>]
def kill(server: Server, link: Link, msg: Message) -> None:
    if service_users.killed(server, link, msg.params[0]):
        return
    target = server.state.find_user(msg.params[0])
    if target is None:
        return
    by = msg.source.split("!", 1)[0] if msg.source else link.block.name
    reason = msg.params[1] if len(msg.params) > 1 else by
    # The rest of the network learns of the KILL from us, in the dialect: no QUIT back.
    actions.quit(server, target, f"Killed ({by} ({reason}))", relay=False)
    links.forward(server, link, msg)


# NICK <new nick>   (from a user)
def nick_change(server: Server, link: Link, msg: Message) -> None:
    user = sender_of(server, link, msg)
    if user is None or user.nick is None:
        return
    new = msg.params[0]
    if service_users.reserved(server, link, new, user):
        return
    since = s2s_ngircd.nick_time(link, msg, server.now)
    holder = server.state.find_nick(new)
    settled = holder is not None and holder is not user
    if holder is not None and settled:
        if not s2s_ngircd.settles_by_time(server, link, holder, since):
            s2s_ngircd.kill_collided(server, new, holder)
            s2s_ngircd.kill_collided(server, user.nick, user)
            return
        links.forward(server, link, msg, text=False)  # every server settles it alike
        if not s2s_ngircd.collide(server, link, new, holder, since):
            actions.quit(server, user, "Killed (Nick collision)", relay=False)
            return
    old = user.nick
    line = Message("NICK", [new], user.prefix)
    server.outbox.send_many(local_members(server.state.peers(user)), line, user)
    server.state.remember_nick(user, server.now)
    server.state.claim_nick(user, new, since)
    if fold(old) != fold(new):
        monitor.signed_off(server, old)
        monitor.signed_on(server, user)
    if not settled:
        links.forward(server, link, msg, text=False)


# KICK <channel> <nick> [:<comment>]
def kick(server: Server, link: Link, msg: Message) -> None:
    source = source_prefix(server, link, msg)
    channel = server.state.find_channel(msg.params[0])
    target = server.state.find_user(msg.params[1])
    if source is None or channel is None or target is None or target not in channel.members:
        return
    comment = msg.params[2] if len(msg.params) > 2 else target.name
    _leave(server, channel, target, Message("KICK", [channel.name, target.name, comment], source))
    links.forward(server, link, msg)


# TOPIC <channel> :<topic>
def topic(server: Server, link: Link, msg: Message) -> None:
    source = source_prefix(server, link, msg)
    channel = server.state.find_channel(msg.params[0])
    if source is None or channel is None:
        return
    channel.topic = msg.params[1][: server.config.topiclen]
    channel.topic_by, channel.topic_time = source, int(server.now)
    line = Message("TOPIC", [channel.name, channel.topic], source)
    server.outbox.send_many(local_members(channel.members), line)
    links.forward(server, link, msg)
    actions.room_changed(server, channel, here=False)


# AWAY [:<text>]
def away(server: Server, link: Link, msg: Message) -> None:
    user = sender_of(server, link, msg)
    if user is None:
        return
    set_away(server, user, msg.params[0] if msg.params and msg.params[0] else None)
    links.away_changed(server, user)


def set_away(server: Server, user: RemoteUser, text: str | None) -> None:
    """A remote user's away state; local users with away-notify who see it are told."""
    user.away = text
    near = server.state.peers(user)
    watchers = monitor.audience(server, user, "away-notify", near)
    params = [user.away] if user.away is not None else []
    server.outbox.send_many(watchers, Message("AWAY", params, user.prefix), user)


# CHANINFO <channel> +<modes> [<key> <limit>] [:<topic>]
def chaninfo(server: Server, link: Link, msg: Message) -> None:
    link.chaninfo[fold(msg.params[0])] = msg.params[1:]
    links.forward(server, link, msg)
    channel = server.state.find_channel(msg.params[0])
    if channel is not None:
        _apply_chaninfo(server, link, channel)


def _apply_chaninfo(server: Server, link: Link, channel: Channel) -> None:
    """A channel the peer told about in its burst takes its modes and topic, unless it
    has a topic here already (ours stand: no timestamps to choose by)."""
    info = link.chaninfo.pop(fold(channel.name), None)
    if info is None:
        return
    modes = info[0]
    for char in modes.lstrip("+"):
        if char in CHANNEL_MODES:
            channel.modes.add(char)
    if len(info) >= 3 and "k" in modes and info[1] != "*":
        channel.modes.add("k")
        channel.key = info[1]
    if len(info) >= 3 and "l" in modes and info[2].isdigit() and int(info[2]) > 0:
        channel.modes.add("l")
        channel.limit = int(info[2])
    topic = info[-1] if len(info) in (2, 4) else ""
    if topic and not channel.topic:
        channel.topic, channel.topic_by = topic[: server.config.topiclen], link.block.name
        channel.topic_time = int(server.now)


# NJOIN <channel> :[@][+]<nick>{,[@][+]<nick>}
def njoin(server: Server, link: Link, msg: Message) -> None:
    name = msg.params[0]
    if not name.startswith(("#", "&", "+", "!")):
        return
    channel = server.state.find_channel(name)
    taken: list[str] = []
    for item in msg.params[1].split(","):
        nick = item.lstrip("~&@%+")
        ranks = {RANK_OF[c] for c in item[: len(item) - len(nick)] if c in RANK_OF}
        ranks.update("o" for c in item[: len(item) - len(nick)] if c in "~&")
        user = server.state.find_user(nick)
        if isinstance(user, RemoteUser) and user.via == link.id:
            _join_one(server, user, name, ranks)
            channel = channel or server.state.find_channel(name)
            taken.append(item)
    if taken:
        links.forward(server, link, Message("NJOIN", [name, ",".join(taken)], msg.source))
    if channel is not None:
        _apply_chaninfo(server, link, channel)
    else:
        link.chaninfo.pop(fold(name), None)
