"""Channel business across links: a peer's MODE (a channel's flags, key, limit, ban,
exception and invite-exception lists, op and voice; a remote user's own shared user
modes, and ngIRCd's away mode `+a`) and INVITE, in either direction and relayed between
links.

A linked server checked its user's right to change a mode or to invite before it told
us: a change from the network is applied as it comes (core.commands.modes
`apply_from_network`, without MAXLIST) and shown to the local members as the changes
that took effect. The lists also come after a burst, as one `MODE <channel> +b <mask>`
line each from the peer's server (ngIRCd's L flag; core.links `channel_lists` sends
ours).

An INVITE goes only toward its target. The target's server answers the inviter (341,
and 301 if the target is away), as ngIRCd does; the invitation is kept on the channel,
so that it lets a local guest past +i, +l and bans as one from a local user does.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from miniircd.core import actions, links, s2s_events
from miniircd.core.commands import channels, modes
from miniircd.core.commands.modes import Change
from miniircd.core.link import Link
from miniircd.core.user import RemoteUser
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import ERR_USERONCHANNEL, RPL_AWAY, RPL_INVITING

if TYPE_CHECKING:
    from miniircd.core.server import Server

# ngIRCd's prefix modes beyond op and voice (its X flag): a nick each, not kept here.
FOREIGN_PREFIX_MODES = "qah"


# MODE <channel> <modes> [<args>...]   |   MODE <nick> <modes>
def mode(server: Server, link: Link, msg: Message) -> None:
    source = s2s_events.source_prefix(server, link, msg)
    if source is None:
        return
    channel = server.state.find_channel(msg.params[0])
    if channel is None:
        user = s2s_events.sender_of(server, link, msg)
        if user is not None and fold(msg.params[0]) == fold(user.name):
            _user_modes(server, user, msg.params[1])
            links.forward(server, link, msg, text=False)
        return
    links.forward(server, link, msg, text=False)
    applied: list[Change] = []
    for request in _parse(msg.params[1], msg.params[2:]):
        change = modes.apply_from_network(server, channel, source, request)
        if change is not None:
            applied.append(change)
    if applied:
        line = Message("MODE", [channel.name, *modes.format_changes(applied)], source)
        server.outbox.send_many(s2s_events.local_members(channel.members), line)
        actions.room_changed(server, channel, here=False)


def _parse(modestring: str, args: list[str]) -> list[Change]:
    """Pair each letter with its sign and parameter, as a server sends them: a list mode,
    a prefix mode and `+k` and `+l` take one, `-k` one if there is one left."""
    pending = deque(args)
    requests: list[Change] = []
    sign = "+"
    for char in modestring:
        if char in "+-":
            sign = char
            continue
        takes = char in modes.LIST_MODES + modes.PREFIX_MODES + FOREIGN_PREFIX_MODES or (
            sign == "+" and char in modes.KEY_MODES + modes.LIMIT_MODES
        )
        if takes and not pending:
            continue
        if takes or (char in modes.KEY_MODES and pending):
            requests.append(Change(sign, char, pending.popleft()))
        else:
            requests.append(Change(sign, char, None))
    return requests


def _user_modes(server: Server, user: RemoteUser, modestring: str) -> None:
    sign = "+"
    for char in modestring:
        if char in "+-":
            sign = char
        elif char in links.SHARED_USER_MODES:
            server.state.set_user_mode(user, char, sign == "+")
        elif char == links.AWAY_MODE and (sign == "+") != (user.away is not None):
            s2s_events.set_away(server, user, links.AWAY_UNSAID if sign == "+" else None)


# INVITE <nick> <channel>
def invite(server: Server, link: Link, msg: Message) -> None:
    inviter = s2s_events.sender_of(server, link, msg)
    target = server.state.find_user(msg.params[0])
    if inviter is None or target is None or not links.beyond(target, link):
        return
    channel = server.state.find_channel(msg.params[1])
    name = channel.name if channel is not None else msg.params[1]
    if channel is not None and target in channel.members:
        text = "is already on channel"
        refusal = [inviter.name, target.name, channel.name, text]
        links.send(server, link, links.server_line(server.name, ERR_USERONCHANNEL, refusal, True))
        return
    if channel is not None:
        channel.invited.add(fold(target.name))
    line = Message("INVITE", [target.name, name], inviter.prefix)
    if channel is not None:  # invite-notify, as for an invitation from a local member
        channels.notify_invite(server, channel, line, inviter, target)
    if isinstance(target, RemoteUser):  # further on: its own server answers
        links.to_user(server, inviter.name, target, "INVITE", [target.name, name])
        return
    server.outbox.send(target, line, inviter)
    reply = links.server_line(server.name, RPL_INVITING, [inviter.name, target.name, name])
    links.send(server, link, reply)
    if target.away is not None:
        away = [inviter.name, target.name, target.away]
        links.send(server, link, links.server_line(server.name, RPL_AWAY, away, True))
