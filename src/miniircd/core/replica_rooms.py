"""Registered rooms (ChanServ) across a services network (docs/linking.md, "Registered
rooms across the network").

The services hub holds the network's registered rooms; every other miniircd server of the
network keeps a copy of each one's record (founder, topic, modes, key, limit, lists) in its
store, and marks the channel registered in its state, so that founder ops on JOIN,
ChanServ INFO and an empty room staying listed work on every server. The first
registration the hub sees of a name wins: a later one of another founder is answered with
the hub's record, which the other server then takes.

A server owes the hub its rooms' records (registered or changed here): it keeps them in its
store (`handover`, kind ROOM, by folded name) until the hub's copy comes back, and sends
them again each time its way to the hub comes up (SYNC, core.replica). The hub answers a
SYNC with every registered room, as with the accounts. Lines travel as core.replica's do
(on tags links; a line naming a server goes toward it, `*` to every tags link):

    :<server> ROOM <hub> :<room>          a room registered or changed here
    :<hub> ROOM <server|*> :<room>        the network's record of a registered room
    :<server> ROOMDROP <hub> <name>       its founder dropped it here (checked here)
    :<hub> ROOMDROP * <name>              it is no longer registered anywhere

`<room>` is a JSON object of the stored record (`_encode`). Lines from a server other than
our hub (on a leaf) are passed on and otherwise ignored.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from miniircd.core import services_link
from miniircd.core.channel import Channel
from miniircd.core.hub_lines import flood, from_hub, hub_of, is_hub, origin_of, pass_on, toward
from miniircd.core.link import Link
from miniircd.protocol.casemap import fold, is_channel_name
from miniircd.protocol.message import Message
from miniircd.store.base import RoomRecord

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")

ROOM, ROOMDROP = "ROOM", "ROOMDROP"


def _encode(room: RoomRecord) -> str:
    return json.dumps(
        {
            "name": room.name, "founder": room.founder, "created": room.created,
            "topic": room.topic, "topic_by": room.topic_by, "topic_time": room.topic_time,
            "modes": room.modes, "key": room.key, "limit": room.limit,
            "bans": room.bans, "excepts": room.excepts, "invex": room.invex,
        },
        separators=(",", ":"),
    )  # fmt: skip


def _decode(text: str) -> RoomRecord | None:
    try:
        f = json.loads(text)
        key, limit = f["key"], f["limit"]
        room = RoomRecord(
            str(f["name"]), str(f["founder"]), int(f["created"]), str(f["topic"]),
            str(f["topic_by"]), int(f["topic_time"]), str(f["modes"]),
            None if key is None else str(key), None if limit is None else int(limit),
            _entries(f["bans"]), _entries(f["excepts"]), _entries(f["invex"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    if not is_channel_name(room.name) or not services_link.fits(room.name):
        return None
    if not services_link.fits(room.founder):
        return None
    return room


def _entries(value: object) -> list[tuple[str, str, int]]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return [(str(mask), str(by), int(when)) for mask, by, when in value]


# -- this server's rooms -----------------------------------------------------------------------


def changed(server: Server, channel: Channel) -> None:
    """A registered room was registered or changed here: the hub learns its record, or as
    the hub, every server does."""
    if server.config.services_hub is None or channel.founder is None:
        return
    record = _encode(channel.to_record())
    if is_hub(server):
        flood(server, server.name, ROOM, [record], True)
        return
    server.store.add_handover(ROOM, fold(channel.name))
    hub = hub_of(server)
    if hub is not None and server.replica.link_id:
        toward(server, hub, ROOM, [record], True)


def drop(server: Server, channel: Channel) -> bool:
    """The founder dropped the room here (checked by the caller): it is unregistered here
    and, through the hub, everywhere. False (nothing done) if the hub is out of reach."""
    if server.config.services_hub is not None:
        if is_hub(server):
            flood(server, server.name, ROOMDROP, [channel.name], False)
        else:
            hub = hub_of(server)
            if hub is None or services_link.route(server, hub) is None:
                return False
            toward(server, hub, ROOMDROP, [channel.name])
    _unregister(server, channel.name)
    return True


def hand_over(server: Server, hub: str) -> None:
    """The way to the hub is up again (SYNC went out): the records we owe it."""
    server.replica.rooms.clear()
    for kind, name in server.store.handovers():
        if kind != ROOM:
            continue
        channel = server.state.find_channel(name)
        if channel is None or channel.founder is None:  # dropped meanwhile
            server.store.drop_handover(ROOM, name)
        else:
            toward(server, hub, ROOM, [_encode(channel.to_record())], True)


def synced(server: Server, hub: str, send_back: bool) -> None:
    """The hub has answered our SYNC: a room it did not name, and that we do not owe it,
    was dropped while we were away; unless we `send_back` our records (the hub's store went
    back to a backup, or this is our first SYNC with it: rooms registered here before we
    joined the network): the hub keeps one if its founder's account is there."""
    replica = server.replica
    owed = {name for kind, name in server.store.handovers() if kind == ROOM}
    for room in server.store.load_rooms():
        name = fold(room.name)
        if name in replica.rooms or name in owed:
            continue
        if send_back:
            toward(server, hub, ROOM, [_encode(room)], True)
        else:
            log.info("registered room %s: dropped while we were away", room.name)
            _unregister(server, room.name)
    replica.rooms = set()


def send_all(server: Server, name: str) -> None:
    """On the hub, for a server's SYNC: every registered room."""
    for room in server.store.load_rooms():
        toward(server, name, ROOM, [_encode(room)], True)


# -- the lines ---------------------------------------------------------------------------------


# :<server> ROOM <hub> :<room>   |   :<hub> ROOM <server|*> :<room>
def room(server: Server, link: Link, msg: Message) -> None:
    if is_hub(server):
        origin = origin_of(server, link, msg)
        if origin is None or not pass_on(server, link, msg, True) or msg.params[0] == "*":
            return
        record = _decode(msg.params[1])
        if record is None:
            log.warning("ROOM from %s: not a room record; dropped", origin)
        else:
            _register(server, origin, record)
    elif from_hub(server, link, msg, True):
        record = _decode(msg.params[1])
        if record is None:
            log.warning("ROOM from the services hub %s: not a room record; dropped", msg.source)
        else:
            _take(server, record)


def _register(server: Server, origin: str, record: RoomRecord) -> None:
    """On the hub: a server's record of a room. The first founder stands; a record of
    another founder gets the hub's record back."""
    if server.store.get_account(record.founder) is None:
        log.warning("ROOM from %s: %s has no account here; dropped", origin, record.founder)
        return
    channel = server.state.find_channel(record.name)
    held = channel.founder if channel is not None else None
    if channel is not None and held is not None and fold(held) != fold(record.founder):
        toward(server, origin, ROOM, [_encode(channel.to_record())], True)
        return
    _take(server, record)
    flood(server, server.name, ROOM, [_encode(record)], True)


def _take(server: Server, record: RoomRecord) -> None:
    """Store the network's record of a room and mark it registered here."""
    if not is_hub(server):
        server.replica.rooms.add(fold(record.name))
    server.store.drop_handover(ROOM, fold(record.name))
    channel = server.state.find_channel(record.name)
    if channel is None:
        server.state.load_channel(Channel.from_record(record))
    else:
        server.state.register_channel(channel, record.founder, record.created)
    server.store.save_room(record)


# :<server> ROOMDROP <hub> <name>   |   :<hub> ROOMDROP * <name>
def room_drop(server: Server, link: Link, msg: Message) -> None:
    name = msg.params[1]
    if is_hub(server):
        origin = origin_of(server, link, msg)
        if origin is None or not pass_on(server, link, msg, False) or msg.params[0] == "*":
            return
        flood(server, server.name, ROOMDROP, [name], False)
        _unregister(server, name)
    elif from_hub(server, link, msg, False):
        _unregister(server, name)


def _unregister(server: Server, name: str) -> None:
    server.store.drop_handover(ROOM, fold(name))
    server.store.delete_room(name)
    channel = server.state.find_channel(name)
    if channel is not None and channel.founder is not None:
        server.state.unregister_channel(channel)
