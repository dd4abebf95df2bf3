"""IRCv3 draft/channel-rename: RENAME gives a channel a new name and keeps all the rest.

A renamed channel keeps its members and their ranks, modes, key, limit, topic, bans,
invitations, creation time and, for a registered room, its registration (the founder
stays founder). What the store keeps under the old name moves to the new one
(`Store.rename_room`): the room's registration, its history (so HISTORY, CHATHISTORY and
the replay on JOIN find the old messages under the new name) and the read markers on it,
the accounts' and those of clients that are not logged in alike.

Who is told, and how (ircv3.net/specs/extensions/channel-rename):
- members that negotiated `draft/channel-rename` get `:<renamer> RENAME <old> <new> :<reason>`,
  the reason empty when none was given;
- the others get the spec's fallback: their own `PART <old> [:<reason>]`, then their own
  `JOIN <new>` (in its extended-join form if they asked for that) followed by what a JOIN
  brings (topic, names, the read marker), but not the replay of recent history: they
  have just seen those messages. A change of case only sends them nothing, as the spec
  asks: the channel is the same one to them;
- a member on another server gets the RENAME line, as its own server is to translate it.

Refusals, in the order checked: 461 (a name missing or empty), 403 (no such channel, or a
secret one the client is not in), 442, 482 (only channel operators rename), then the
spec's FAILs, sent as FAIL to every client: `CANNOT_RENAME` for a new name that is not a
valid channel name or is the current name exactly, `CHANNEL_NAME_IN_USE` when another
channel (or registered room) has it. Not done: the optional redirection of JOINs to the
old name (`FAIL JOIN CHANNEL_RENAMED`, 470), and a cooldown between renames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core.channel import Channel
from miniircd.core.commands import readmarker
from miniircd.core.commands.channels import send_names, send_topic
from miniircd.core.errors import (
    Fail,
    need_more_params,
    no_such_channel,
    not_channel_operator,
    not_on_channel,
)
from miniircd.core.params import echo
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold, is_valid_channel
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

CAP = "draft/channel-rename"


# RENAME <channel> <new name> [:<reason>]
def rename(server: Server, session: Session, msg: Message) -> None:
    old_name, new_name = msg.params[0], msg.params[1]
    if not old_name or not new_name:
        raise need_more_params("RENAME")
    reason = msg.params[2] if len(msg.params) > 2 else ""
    channel = server.state.find_channel(old_name)
    if channel is None or not channel.visible_to(session):
        raise no_such_channel(old_name)
    if session not in channel.members:
        raise not_on_channel(channel.name)
    if not channel.is_op(session):
        raise not_channel_operator(channel.name)
    old = channel.name
    if not is_valid_channel(new_name, server.config.channellen):
        raise _cannot(old, new_name, "That is not a valid channel name")
    if new_name == old:
        raise _cannot(old, new_name, "The channel already has that name")
    holder = server.state.find_channel(new_name)
    if holder is not None and holder is not channel:
        text = "The channel name is already taken"
        raise Fail("RENAME", "CHANNEL_NAME_IN_USE", old, echo(new_name), text)
    server.state.rename_channel(channel, new_name)
    server.store.rename_room(old, new_name)
    readmarker.room_renamed(server, fold(old), fold(new_name))
    _announce(server, session, channel, old, reason)


def _cannot(old: str, new: str, text: str) -> Fail:
    return Fail("RENAME", "CANNOT_RENAME", old, echo(new), text)


def _announce(server: Server, renamer: Session, channel: Channel, old: str, reason: str) -> None:
    """RENAME to the members that understand it, the fallback to the others."""
    aware: list[User] = []
    fallback: list[Session] = []
    for member in channel.members:
        if isinstance(member, Session) and CAP not in member.caps:
            fallback.append(member)
        else:
            aware.append(member)
    line = Message("RENAME", [old, channel.name, reason], renamer.prefix)
    server.outbox.send_many(aware, line, renamer)
    if fold(old) == fold(channel.name):
        return
    for member in fallback:
        _rejoin(server, member, channel, old, reason)


def _rejoin(server: Server, member: Session, channel: Channel, old: str, reason: str) -> None:
    """The spec's fallback: the member leaves the old name and joins the new one."""
    out = server.outbox
    out.send(member, Message("PART", [old, reason] if reason else [old], member.prefix), member)
    if "extended-join" in member.caps:
        params = [channel.name, member.account or "*", member.realname]
    else:
        params = [channel.name]
    out.send(member, Message("JOIN", params, member.prefix), member)
    if channel.topic:
        send_topic(server, member, channel)
    send_names(server, member, channel)
    readmarker.on_join(server, member, channel)
