"""MONITOR: clients watch nicks and are told when they come and go (730-734).

What is watched lives in two places that `core.state` keeps in step (`watch`, `unwatch`):
each user's `monitoring` (folded nick -> the nick as the client gave it, in the order
added) and the reverse index `State.watchers` (folded nick -> who monitors it). A sign-on
or sign-off touches only the watchers of that one nick, never every session.

With the `extended-monitor` capability, a watcher also hears what the capabilities
away-notify, account-notify and setname announce to a user's channel peers, for every nick
it monitors: `audience` adds such watchers to the peers, each listener once.

A target is "online" when a registered user holds the nick; a nick merely claimed by a
client still registering is offline until its registration completes. Lists in replies are
comma-separated and split over as many lines as it takes to keep each within 512 bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from miniircd.core import metadata
from miniircd.core.errors import IrcError, need_more_params
from miniircd.core.outbox import MAX_LINE
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold, is_valid_nick
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_MONLISTFULL,
    ERR_UNKNOWNERROR,
    RPL_ENDOFMONLIST,
    RPL_MONLIST,
    RPL_MONOFFLINE,
    RPL_MONONLINE,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

FULL_TEXT = "Monitor list is full."
EXTENDED = "extended-monitor"


# MONITOR <+|-> <target>{,<target>}  |  MONITOR <C|L|S>
def monitor(server: Server, session: Session, msg: Message) -> None:
    modifier = msg.params[0].upper()
    if modifier in ("+", "-"):
        targets = msg.params[1] if len(msg.params) > 1 else ""
        if not targets:
            raise need_more_params("MONITOR")
        if modifier == "+":
            _add(server, session, targets.split(","))
        else:
            _remove(server, session, targets.split(","))
    elif modifier == "C":
        server.state.unwatch_all(session)
    elif modifier == "L":
        _list_lines(server, session, RPL_MONLIST, session.monitoring.values())
        server.outbox.numeric(session, RPL_ENDOFMONLIST, "End of MONITOR list")
    elif modifier == "S":
        _status(server, session, session.monitoring.values())
    else:
        raise IrcError(ERR_UNKNOWNERROR, "MONITOR", msg.params[0], "Unknown MONITOR subcommand")


def _add(server: Server, session: Session, targets: list[str]) -> None:
    """Add the valid targets not yet monitored, up to the limit; report the ones added as
    online or offline, then the ones that did not fit (734)."""
    limit = server.config.monitor_max
    added: list[str] = []
    overflow: dict[str, str] = {}
    for target in targets:
        key = fold(target)
        if not is_valid_nick(target, server.config.nicklen) or key in session.monitoring:
            continue  # invalid nicks are ignored; a target is never added twice
        if len(session.monitoring) >= limit:
            overflow.setdefault(key, target)
            continue
        server.state.watch(session, target)
        added.append(target)
    _status(server, session, added)
    online = [user for user in map(server.state.find_user, added) if user is not None]
    metadata.on_monitor(server, session, online)
    if overflow:
        head = f":{server.name} {ERR_MONLISTFULL} {session.name} {limit}  :{FULL_TEXT}"
        for chunk in _comma_chunks(overflow.values(), MAX_LINE - len(head.encode())):
            server.outbox.numeric(session, ERR_MONLISTFULL, str(limit), chunk, FULL_TEXT)


def _remove(server: Server, session: Session, targets: list[str]) -> None:
    for target in targets:
        server.state.unwatch(session, target)


def _status(server: Server, session: Session, targets: Iterable[str]) -> None:
    """730 for the targets online (as nick!user@host), then 731 for those offline."""
    online: list[str] = []
    offline: list[str] = []
    for target in targets:
        user = server.state.find_user(target)
        if user is None:
            offline.append(target)
        else:
            online.append(user.prefix)
    _list_lines(server, session, RPL_MONONLINE, online)
    _list_lines(server, session, RPL_MONOFFLINE, offline)


def _list_lines(server: Server, session: Session, numeric: str, items: Iterable[str]) -> None:
    """`numeric` with a comma-separated trailing list, over as many lines as it takes."""
    head = f":{server.name} {numeric} {session.name} :"
    for chunk in _comma_chunks(items, MAX_LINE - len(head.encode())):
        server.outbox.numeric(session, numeric, chunk)


def _comma_chunks(items: Iterable[str], room: int) -> Iterator[str]:
    """The items joined by commas, cut into strings of at most `room` bytes each (an item
    is never split; one longer than `room` alone goes on a line of its own)."""
    chunk: list[str] = []
    used = -1  # no comma before the first item
    for item in items:
        size = len(item.encode()) + 1
        if chunk and used + size > room:
            yield ",".join(chunk)
            chunk, used = [], -1
        chunk.append(item)
        used += size
    if chunk:
        yield ",".join(chunk)


def signed_on(server: Server, session: User) -> None:
    """`session` now uses its nick (registered, or changed to it): tell its watchers."""
    if session.nick is None:
        return
    for watcher in server.state.watchers.get(fold(session.nick), ()):
        server.outbox.numeric(watcher, RPL_MONONLINE, session.prefix)
        metadata.on_monitor(server, watcher, [session])


def signed_off(server: Server, nick: str) -> None:
    """Nobody uses `nick` any more (quit, or changed away from it): tell its watchers."""
    for watcher in server.state.watchers.get(fold(nick), ()):
        server.outbox.numeric(watcher, RPL_MONOFFLINE, nick)


def audience(server: Server, user: User, cap: str, near: set[User]) -> list[User]:
    """Who is told of a change to `user` (AWAY, ACCOUNT, SETNAME) under capability `cap`:
    those of `near` (its channel peers, with or without itself) that negotiated `cap`, and
    the users monitoring its nick that negotiated both `cap` and `extended-monitor`, unless
    they are in `near` already: nobody hears of one change twice. `user` is never its own
    watcher here: whether it hears of its own change is for `near` to say."""
    hearers = [other for other in near if cap in other.caps]
    watchers = server.state.watchers.get(fold(user.nick)) if user.nick else None
    if watchers:
        for watcher in watchers:
            caps = watcher.caps
            if cap in caps and EXTENDED in caps and watcher is not user and watcher not in near:
                hearers.append(watcher)
    return hearers
