"""Channel and user modes: MODE, plus the helpers other families use to change or read them.

Owns which mode letters exist and what parameters they take, and the list modes `b`, `e`
and `I` (their replies and MAXLIST; what a mask is and matches is core.masks'). User modes
change through `core.state` (`set_user_mode`), which keeps the LUSERS counters in step.

A channel MODE is handled in two passes. `_parse` pairs each letter with its sign and
parameter, left to right, and drops parameterised letters beyond `config.modes`. If any of
them asks for a change, the privilege check (442/482) refuses the whole command before
anything is touched. Then each request is applied in order; a refusal of one request
(401, 441, 472, 478, 525, 696) is reported and the rest still apply. The changes that
actually happened are broadcast once, grouped by sign: `+ov-k bob bob key`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, NamedTuple

from miniircd.core import actions, links, masks
from miniircd.core.channel import PREFIXES, Channel
from miniircd.core.errors import (
    IrcError,
    no_such_channel,
    no_such_nick,
    not_channel_operator,
    not_on_channel,
)
from miniircd.core.params import echo, is_word, parse_count
from miniircd.core.session import Session
from miniircd.core.state import toggle
from miniircd.protocol.casemap import is_channel_name
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_BANLISTFULL,
    ERR_INVALIDKEY,
    ERR_INVALIDMODEPARAM,
    ERR_UMODEUNKNOWNFLAG,
    ERR_UNKNOWNMODE,
    ERR_USERNOTINCHANNEL,
    ERR_USERSDONTMATCH,
    RPL_BANLIST,
    RPL_CHANNELMODEIS,
    RPL_CREATIONTIME,
    RPL_ENDOFBANLIST,
    RPL_ENDOFEXCEPTLIST,
    RPL_ENDOFINVEXLIST,
    RPL_EXCEPTLIST,
    RPL_INVEXLIST,
    RPL_UMODEIS,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

# ISUPPORT's CHANMODES (these four, in this order), PREFIX and BOT are built from these
# (Server.isupport), so what is advertised is what MODE enforces.
LIST_MODES = "beI"  # bans, ban exceptions (EXCEPTS), invite exceptions (INVEX)
EXCEPTS_MODE = "e"
INVEX_MODE = "I"
KEY_MODES = "k"  # parameter when set; an optional one when unset
LIMIT_MODES = "l"  # parameter when set only
FLAG_MODES = "Cimnst"  # C: no CTCP but ACTION to the channel
PREFIX_MODES = "".join(mode for mode, _symbol in PREFIXES)  # ov: @ and +
CHANNEL_MODES = LIST_MODES + KEY_MODES + LIMIT_MODES + FLAG_MODES + PREFIX_MODES
CHANNEL_MODES_WITH_PARAM = LIST_MODES + KEY_MODES + LIMIT_MODES + PREFIX_MODES
BOT_MODE = "B"  # IRCv3 bot mode
WALLOPS_MODE = "w"  # receives WALLOPS
USER_MODES = BOT_MODE + "io" + WALLOPS_MODE  # +o only through OPER

MODE_NAMES = {
    "b": "ban", "e": "ban exception", "I": "invite exception", "k": "key", "l": "limit",
    "o": "op", "v": "voice",
}  # fmt: skip

# list mode -> (its entry numeric, its end numeric, the end's text)
LIST_REPLIES = {
    "b": (RPL_BANLIST, RPL_ENDOFBANLIST, "End of channel ban list"),
    "e": (RPL_EXCEPTLIST, RPL_ENDOFEXCEPTLIST, "End of channel exception list"),
    "I": (RPL_INVEXLIST, RPL_ENDOFINVEXLIST, "End of Channel Invite Exception List"),
}


class Change(NamedTuple):
    """One mode letter with its sign and parameter, requested or applied."""

    sign: str
    char: str
    param: str | None


# MODE <target> [<modestring> [<mode arguments>...]]
def mode(server: Server, session: Session, msg: Message) -> None:
    target = msg.params[0]
    modestring = msg.params[1] if len(msg.params) > 1 else None
    if is_channel_name(target):
        channel = server.state.find_channel(target)
        if channel is None:
            raise no_such_channel(target)
        if modestring is None:
            _send_channel_modes(server, session, channel)
        else:
            _change_channel_modes(server, session, channel, modestring, msg.params[2:])
    else:
        _user_mode(server, session, target, modestring)


def echo_user_modes(server: Server, session: Session, changes: list[Change]) -> None:
    """Tell the user about changes to its own modes: `:nick MODE nick +i`; the linked
    servers learn those they share (core.links.SHARED_USER_MODES)."""
    if changes:
        nick = session.name
        server.outbox.send(session, Message("MODE", [nick, *format_changes(changes)], nick))
        shared = [c for c in changes if c.char in links.SHARED_USER_MODES]
        if shared:
            links.user_event(server, session, "MODE", [nick, *format_changes(shared)], False)


def format_changes(changes: list[Change]) -> list[str]:
    """The modestring, with consecutive same-sign letters grouped, then the parameters."""
    letters: list[str] = []
    params: list[str] = []
    sign = ""
    for change in changes:
        if change.sign != sign:
            sign = change.sign
            letters.append(sign)
        letters.append(change.char)
        if change.param is not None:
            params.append(change.param)
    return ["".join(letters), *params]


# -- channel modes ---------------------------------------------------------------------------


def _send_channel_modes(server: Server, session: Session, channel: Channel) -> None:
    letters = "+" + "".join(sorted(channel.modes))
    params: list[str] = []
    if session in channel.members:  # the key and the limit are for members' eyes only
        if channel.key is not None:
            params.append(channel.key)
        if channel.limit is not None:
            params.append(str(channel.limit))
    out = server.outbox
    out.numeric(session, RPL_CHANNELMODEIS, channel.name, letters, *params)
    out.numeric(session, RPL_CREATIONTIME, channel.name, str(channel.created))


def _send_list(server: Server, session: Session, channel: Channel, char: str) -> None:
    out = server.outbox
    entry, end, text = LIST_REPLIES[char]
    for mask, (setter, set_at) in channel.list_of(char).items():
        out.numeric(session, entry, channel.name, mask, setter, str(set_at))
    out.numeric(session, end, channel.name, text)


def _change_channel_modes(
    server: Server, session: Session, channel: Channel, modestring: str, args: list[str]
) -> None:
    requests = _parse(modestring, args, server.config.modes)
    if any(_is_change(request) for request in requests) and not channel.is_op(session):
        if session not in channel.members:
            raise not_on_channel(channel.name)
        raise not_channel_operator(channel.name)
    out = server.outbox
    applied: list[Change] = []
    listed: set[str] = set()
    for request in requests:
        if request.char in LIST_MODES and request.param is None:
            if request.char not in listed:
                _send_list(server, session, channel, request.char)
                listed.add(request.char)
            continue
        try:
            change = _apply(server, session, channel, request)
        except IrcError as err:
            out.numeric(session, err.numeric, *err.params)
            continue
        if change is not None:
            applied.append(change)
    if applied:
        mode_msg = Message("MODE", [channel.name, *format_changes(applied)], session.prefix)
        out.send_many(channel.members, mode_msg, session)
        links.user_event(server, session, "MODE", mode_msg.params, text=False)
        actions.room_changed(server, channel)


def _parse(modestring: str, args: list[str], max_params: int) -> list[Change]:
    """Pair each letter with its sign and parameter; parameterised ones past the limit go."""
    pending = deque(args)
    requests: list[Change] = []
    sign = "+"
    used = 0
    for char in modestring:
        if char in "+-":
            sign = char
            continue
        param: str | None = None
        takes_param = _needs_param(sign, char) or char in KEY_MODES
        is_list_query = char in LIST_MODES and not pending
        if takes_param and not is_list_query:
            if used >= max_params:
                continue  # beyond MODES: ignored
            if pending:
                used += 1
                param = pending.popleft()
        requests.append(Change(sign, char, param))
    return requests


def _needs_param(sign: str, char: str) -> bool:
    if char in LIST_MODES or char in PREFIX_MODES:
        return True
    return sign == "+" and (char in KEY_MODES or char in LIMIT_MODES)


def _is_change(request: Change) -> bool:
    """Whether the request asks to change something (as opposed to a list query)."""
    if request.char not in CHANNEL_MODES:
        return False
    return request.param is not None or not _needs_param(request.sign, request.char)


def _apply(server: Server, session: Session, channel: Channel, request: Change) -> Change | None:
    """Apply one request; the change as it is to be broadcast, None if it changed nothing."""
    sign, char, param = request
    if char not in CHANNEL_MODES:
        raise IrcError(ERR_UNKNOWNMODE, char, "is unknown mode char to me")
    if param is None and _needs_param(sign, char):
        text = f"You must specify a parameter for the {MODE_NAMES[char]} mode"
        raise IrcError(ERR_INVALIDMODEPARAM, channel.name, char, "*", text)
    return _change(server, channel, session.prefix, request, bounded=True)


def apply_from_network(
    server: Server, channel: Channel, setter: str, request: Change
) -> Change | None:
    """Apply one change a linked server made (its server checked the user's right to):
    no privilege check and no MAXLIST; a malformed or unknown one changes nothing. The
    change as it is to be shown, None if it changed nothing."""
    sign, char, param = request
    if char not in CHANNEL_MODES or (param is None and _needs_param(sign, char)):
        return None
    try:
        return _change(server, channel, setter, request, bounded=False)
    except IrcError:
        return None


def _change(
    server: Server, channel: Channel, setter: str, request: Change, bounded: bool
) -> Change | None:
    """A known mode with the parameter it needs, applied; `bounded`: MAXLIST holds."""
    sign, char, param = request
    on = sign == "+"
    if char in FLAG_MODES:
        return request if toggle(channel.modes, char, on) else None
    if char in KEY_MODES:
        return _apply_key(channel, on, param)
    if char in LIMIT_MODES:
        return _apply_limit(channel, on, param)
    assert param is not None
    if char in LIST_MODES:
        return _apply_list(server, setter, channel, request, bounded)
    return _apply_prefix(server, channel, sign, char, param)


def _apply_key(channel: Channel, on: bool, key: str | None) -> Change | None:
    if not on:
        if not toggle(channel.modes, "k", False):
            return None
        channel.key = None
        return Change("-", "k", "*" if key is None else echo(key))
    assert key is not None
    if not is_word(key) or "," in key:
        raise IrcError(ERR_INVALIDKEY, channel.name, "Key is not well-formed")
    if channel.key == key:
        return None
    toggle(channel.modes, "k", True)
    channel.key = key
    return Change("+", "k", key)


def _apply_limit(channel: Channel, on: bool, param: str | None) -> Change | None:
    if not on:
        if not toggle(channel.modes, "l", False):
            return None
        channel.limit = None
        return Change("-", "l", None)
    assert param is not None
    limit = parse_count(param)
    if limit is None:
        raise IrcError(ERR_INVALIDMODEPARAM, channel.name, "l", param, "Invalid limit")
    if channel.limit == limit:
        return None
    toggle(channel.modes, "l", True)
    channel.limit = limit
    return Change("+", "l", str(limit))


def _apply_list(
    server: Server, setter: str, channel: Channel, request: Change, bounded: bool
) -> Change | None:
    sign, char, param = request
    assert param is not None
    mask = masks.normalize_entry(param, char) if is_word(param) else None
    if mask is None:  # not a mask, or an extban this list cannot hold
        text = f"Invalid {MODE_NAMES[char]} mask"
        if is_word(param) and param.startswith(masks.EXTBAN_PREFIX):
            text = "Invalid extban: use $a, $a:<account> or $m:<mask> (not in +I)"
        raise IrcError(ERR_INVALIDMODEPARAM, channel.name, char, echo(param), text)
    entries = channel.list_of(char)
    existing = masks.find(entries, mask)
    if sign == "-":
        if existing is None:
            return None
        del entries[existing]
        return Change("-", char, existing)
    if existing is not None:
        return None
    if bounded and channel.list_size() >= server.config.maxlist:
        text = f"Channel {MODE_NAMES[char]} list is full"
        raise IrcError(ERR_BANLISTFULL, channel.name, mask, text)
    entries[mask] = (setter, int(server.now))
    return Change("+", char, mask)


def _apply_prefix(
    server: Server, channel: Channel, sign: str, char: str, nick: str
) -> Change | None:
    target = server.state.find_nick(nick)
    if target is None or not target.registered:
        raise no_such_nick(nick)
    ranks = channel.members.get(target)
    if ranks is None:
        raise IrcError(
            ERR_USERNOTINCHANNEL, target.name, channel.name, "They aren't on that channel"
        )
    on = sign == "+"
    if (char in ranks) == on:
        return None
    if on:
        ranks.add(char)
    else:
        ranks.discard(char)
    return Change(sign, char, target.name)


# -- user modes ------------------------------------------------------------------------------


def _user_mode(server: Server, session: Session, nick: str, modestring: str | None) -> None:
    target = server.state.find_nick(nick)
    if target is None or not target.registered:
        raise no_such_nick(nick)
    if target is not session:
        raise IrcError(ERR_USERSDONTMATCH, "Cant change mode for other users")
    if modestring is None:
        server.outbox.numeric(session, RPL_UMODEIS, "+" + "".join(sorted(session.modes)))
        return
    applied: list[Change] = []
    unknown = False
    sign = "+"
    for char in modestring:
        if char in "+-":
            sign = char
        elif char not in USER_MODES:
            unknown = True
        elif char == "o" and sign == "+":
            continue  # only OPER grants +o
        elif server.state.set_user_mode(session, char, sign == "+"):
            applied.append(Change(sign, char, None))
    if unknown:
        server.outbox.numeric(session, ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
    echo_user_modes(server, session, applied)
