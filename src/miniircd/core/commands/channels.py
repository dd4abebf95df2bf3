"""Channel membership and management: JOIN, PART, TOPIC, NAMES, KICK, INVITE (LIST is
in core.commands.chanlist)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from miniircd.core import actions, events, links, metadata
from miniircd.core.channel import Channel
from miniircd.core.commands import readmarker
from miniircd.core.commands.messages import require_account
from miniircd.core.errors import (
    IrcError,
    Refusal,
    need_more_params,
    no_such_channel,
    no_such_nick,
    not_channel_operator,
    not_on_channel,
)
from miniircd.core.history import replay
from miniircd.core.session import Session
from miniircd.core.user import RemoteUser, User
from miniircd.protocol.casemap import fold, is_channel_name, is_valid_channel
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_BADCHANMASK,
    ERR_BADCHANNELKEY,
    ERR_BANNEDFROMCHAN,
    ERR_CHANNELISFULL,
    ERR_INVITEONLYCHAN,
    ERR_TOOMANYCHANNELS,
    ERR_USERNOTINCHANNEL,
    ERR_USERONCHANNEL,
    RPL_ENDOFINVITELIST,
    RPL_ENDOFNAMES,
    RPL_INVITELIST,
    RPL_INVITING,
    RPL_NAMREPLY,
    RPL_NOTOPIC,
    RPL_TOPIC,
    RPL_TOPICWHOTIME,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

TargetAction = Callable[[int, str], None]  # (index in the list, target name)


def _channel(server: Server, name: str) -> Channel:
    channel = server.state.find_channel(name)
    if channel is None:
        raise no_such_channel(name)
    return channel


def _member_channel(server: Server, session: Session, name: str) -> Channel:
    channel = _channel(server, name)
    if session not in channel.members:
        raise not_on_channel(channel.name)
    return channel


def _op_channel(server: Server, session: Session, name: str) -> Channel:
    channel = _member_channel(server, session, name)
    if not channel.is_op(session):
        raise not_channel_operator(channel.name)
    return channel


def for_each_target(
    server: Server, session: Session, names: list[str], action: TargetAction
) -> None:
    """Run `action` per comma-separated target; a refusal of one does not stop the rest."""
    out = server.outbox
    for index, name in enumerate(names):
        try:
            action(index, name)
        except Refusal as refusal:
            out.refuse(session, refusal)


# JOIN <channel>{,<channel>} [<key>{,<key>}]   |   JOIN 0
def join(server: Server, session: Session, msg: Message) -> None:
    if msg.params[0] == "0":
        for channel in list(session.channels.values()):
            _leave(server, session, channel, "PART", [channel.name], session)
        return
    keys = msg.params[1].split(",") if len(msg.params) > 1 else []

    def join_one(index: int, name: str) -> None:
        _join(server, session, name, keys[index] if index < len(keys) else "")

    for_each_target(server, session, msg.params[0].split(","), join_one)


def _join(server: Server, session: Session, name: str, key: str) -> None:
    require_account(server, session, "JOIN", name)
    if not is_channel_name(name):
        raise no_such_channel(name)
    if not is_valid_channel(name, server.config.channellen):
        raise IrcError(ERR_BADCHANMASK, name, "Bad Channel Mask")
    channel = server.state.find_channel(name)
    if channel is not None and session in channel.members:
        return
    if len(session.channels) >= server.config.chanlimit:
        raise IrcError(ERR_TOOMANYCHANNELS, name, "You have joined too many channels")
    if channel is None:
        # a logged-in creator registers the room
        channel = server.state.open_channel(name, server.now, session.account)
        actions.room_changed(server, channel)
        ranks = {"o"}
    else:
        _check_admission(channel, session, key)
        ranks = {"o"} if channel.is_founder(session) else set()
    channel.invited.discard(fold(session.name))
    server.state.join(session, channel, ranks)
    links.joined(server, session, channel, ranks)
    if len(channel.members) == 1:
        links.channel_opened(server, channel)
    announce_join(server, session, channel)
    readmarker.on_join(server, session, channel)
    if channel.topic:
        send_topic(server, session, channel)
    send_names(server, session, channel)
    metadata.on_join(server, session, channel)
    if "draft/chathistory" not in session.caps and server.config.history_replay > 0:
        recent = server.store.messages(
            fold(channel.name), limit=server.config.history_replay, ascending=False
        )
        if recent:
            replay(server, session, channel.name, recent, "recent history")


def announce_join(server: Server, session: User, channel: Channel) -> None:
    """JOIN to every member; those with extended-join also get the account and realname,
    and those with away-notify an AWAY line after it if the joiner is away."""
    plain: list[User] = []
    extended: list[User] = []
    for member in channel.members:
        (extended if "extended-join" in member.caps else plain).append(member)
    out = server.outbox
    params = [channel.name, session.account or "*", session.realname]
    tags = events.record(server, session, "JOIN", channel, params)
    out.send_many(plain, Message("JOIN", params[:1], session.prefix, tags), session)
    if extended:
        out.send_many(extended, Message("JOIN", params, session.prefix, tags), session)
    if session.away is not None:
        watchers = [m for m in channel.members if m is not session and "away-notify" in m.caps]
        out.send_many(watchers, Message("AWAY", [session.away], session.prefix), session)


def _check_admission(channel: Channel, session: Session, key: str) -> None:
    invited = fold(session.name) in channel.invited
    if channel.is_banned(session) and not invited:
        raise IrcError(ERR_BANNEDFROMCHAN, channel.name, "Cannot join channel (+b)")
    if "i" in channel.modes and not invited and not channel.is_invite_excepted(session):
        raise IrcError(ERR_INVITEONLYCHAN, channel.name, "Cannot join channel (+i)")
    if channel.key is not None and key != channel.key:
        raise IrcError(ERR_BADCHANNELKEY, channel.name, "Cannot join channel (+k)")
    if channel.limit is not None and len(channel.members) >= channel.limit and not invited:
        raise IrcError(ERR_CHANNELISFULL, channel.name, "Cannot join channel (+l)")


def _leave(
    server: Server,
    leaver: User,
    channel: Channel,
    verb: str,
    params: list[str],
    sender: Session,
) -> None:
    """Record the PART or KICK, tell every member (the leaver too) and remove the leaver;
    `sender` is who acted."""
    tags = events.record(server, sender, verb, channel, params)
    server.outbox.send_many(channel.members, Message(verb, params, sender.prefix, tags), sender)
    links.user_event(server, sender, verb, params, text=True)
    server.state.part(leaver, channel)


# PART <channel>{,<channel>} [<reason>]
def part(server: Server, session: Session, msg: Message) -> None:
    reason = msg.params[1:2]

    def part_one(index: int, name: str) -> None:
        channel = _member_channel(server, session, name)
        _leave(server, session, channel, "PART", [channel.name, *reason], session)

    for_each_target(server, session, msg.params[0].split(","), part_one)


# TOPIC <channel> [<topic>]
def topic(server: Server, session: Session, msg: Message) -> None:
    name = msg.params[0]
    if len(msg.params) == 1:
        channel = _channel(server, name)
        if not channel.visible_to(session):
            raise not_on_channel(channel.name)
        if channel.topic:
            send_topic(server, session, channel)
        else:
            server.outbox.numeric(session, RPL_NOTOPIC, channel.name, "No topic is set")
        return
    channel = _member_channel(server, session, name)
    if "t" in channel.modes and not channel.is_op(session):
        raise not_channel_operator(channel.name)
    channel.topic = msg.params[1][: server.config.topiclen]
    channel.topic_by = session.prefix
    channel.topic_time = int(server.now)
    params = [channel.name, channel.topic]
    tags = events.record(server, session, "TOPIC", channel, params)
    topic_msg = Message("TOPIC", params, session.prefix, tags)
    server.outbox.send_many(channel.members, topic_msg, session)
    links.user_event(server, session, "TOPIC", params, text=True)
    actions.room_changed(server, channel)


def send_topic(server: Server, session: Session, channel: Channel) -> None:
    out = server.outbox
    out.numeric(session, RPL_TOPIC, channel.name, channel.topic)
    out.numeric(session, RPL_TOPICWHOTIME, channel.name, channel.topic_by, str(channel.topic_time))


# NAMES [<channel>{,<channel>}]
def names(server: Server, session: Session, msg: Message) -> None:
    out = server.outbox
    if not msg.params or not msg.params[0]:
        for each in list(server.state.channels.values()):
            if each.visible_to(session):
                send_names(server, session, each, end=False)
        out.numeric(session, RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    asked = [name for name in msg.params[0].split(",") if name]
    if len(asked) == 1:
        channel = server.state.find_channel(asked[0])
        if channel is not None and channel.visible_to(session):
            send_names(server, session, channel)
            return
    # Several channels: their 353s in turn, then one 366 naming them all, as irctest's
    # testNamesMultipleChannels expects (one end for one command, as with no channel).
    for name in asked:
        channel = server.state.find_channel(name)
        if channel is not None and channel.visible_to(session):
            send_names(server, session, channel, end=False)
    out.numeric(session, RPL_ENDOFNAMES, ",".join(asked) or "*", "End of /NAMES list")


def send_names(server: Server, session: Session, channel: Channel, end: bool = True) -> None:
    """353 lines, each filled up to the 512-byte limit, then 366."""
    out = server.outbox
    symbol = "@" if "s" in channel.modes else "="
    multi = "multi-prefix" in session.caps
    if "userhost-in-names" in session.caps:
        words = (channel.prefix(member, multi) + member.prefix for member in channel.members)
    else:
        words = (channel.prefix(member, multi) + member.name for member in channel.members)
    out.numeric_words(session, RPL_NAMREPLY, [symbol, channel.name], words)
    if end:
        out.numeric(session, RPL_ENDOFNAMES, channel.name, "End of /NAMES list")


# KICK <channel>{,<channel>} <nick>{,<nick>} [<comment>]
def kick(server: Server, session: Session, msg: Message) -> None:
    channels, nicks = msg.params[0].split(","), msg.params[1].split(",")
    if len(channels) == 1:  # the modern form: several nicks out of one channel
        pairs = [(channels[0], nick) for nick in nicks]
    elif len(channels) == len(nicks):  # RFC 2812's: the nth nick out of the nth channel
        pairs = list(zip(channels, nicks, strict=True))
    else:
        raise need_more_params("KICK")
    # TARGMAX KICK: targets past the limit are dropped, as modern.ircdocs.horse allows
    pairs = [(name, nick) for name, nick in pairs if name and nick][: server.config.targmax]
    if not pairs:
        raise need_more_params("KICK")
    comment = msg.params[2] if len(msg.params) > 2 and msg.params[2] else session.name
    comment = comment[: server.config.kicklen]

    def kick_one(index: int, nick: str) -> None:
        _kick(server, session, pairs[index][0], nick, comment)

    for_each_target(server, session, [nick for _, nick in pairs], kick_one)


def _kick(server: Server, session: Session, name: str, nick: str, comment: str) -> None:
    """One KICK of one nick out of one channel, with its own refusals."""
    channel = _op_channel(server, session, name)
    target = server.state.find_user(nick)
    if target is None:
        raise no_such_nick(nick)
    if target not in channel.members:
        raise IrcError(
            ERR_USERNOTINCHANNEL, target.name, channel.name, "They aren't on that channel"
        )
    _leave(server, target, channel, "KICK", [channel.name, target.name, comment], session)


# INVITE <nickname> <channel>   |   INVITE
def invite(server: Server, session: Session, msg: Message) -> None:
    if not msg.params:
        send_invite_list(server, session)
        return
    if len(msg.params) < 2:
        raise need_more_params("INVITE")
    target_nick, name = msg.params[0], msg.params[1]
    target = server.state.find_user(target_nick)
    if target is None:
        raise no_such_nick(target_nick)
    channel = _member_channel(server, session, name)
    if "i" in channel.modes and not channel.is_op(session):
        raise not_channel_operator(channel.name)
    if target in channel.members:
        raise IrcError(ERR_USERONCHANNEL, target.name, channel.name, "is already on channel")
    channel.invited.add(fold(target.name))
    invite_msg = Message("INVITE", [target.name, channel.name], session.prefix)
    if isinstance(target, RemoteUser):  # its server delivers it and answers (341)
        links.to_user(server, session.name, target, "INVITE", invite_msg.params)
    else:
        server.outbox.numeric(session, RPL_INVITING, target.name, channel.name)
        server.outbox.send(target, invite_msg, session)
    notify_invite(server, channel, invite_msg, session, target)


def notify_invite(
    server: Server, channel: Channel, line: Message, inviter: User, target: User
) -> None:
    """invite-notify: the channel's other local members with the cap hear of it too."""
    others = [
        m for m in channel.members
        if isinstance(m, Session) and m is not inviter and m is not target
        and "invite-notify" in m.caps
    ]  # fmt: skip
    server.outbox.send_many(others, line, inviter)


def send_invite_list(server: Server, session: Session) -> None:
    """336 for each channel the session holds an invitation to (one not yet used by a
    JOIN), then 337."""
    out = server.outbox
    key = fold(session.name)
    for channel in list(server.state.channels.values()):
        if key in channel.invited:
            out.numeric(session, RPL_INVITELIST, channel.name)
    out.numeric(session, RPL_ENDOFINVITELIST, "End of /INVITE list")
