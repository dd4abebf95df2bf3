"""Channel events in history, for IRCv3 draft/event-playback.

JOIN, PART, KICK, QUIT, TOPIC and NICK are stored in a room's history as rows of their
own (see `store.base.StoredMessage`: the verb, the source, and the line's parameters as
a JSON list), each with a time and a msgid. A QUIT or NICK is one row per room the user
was in; each row needs a msgid of its own, so the live QUIT or NICK line, sent once to
everyone, carries only the time. The other live lines carry the time and msgid of their
row. MODE is not stored: see docs/protocol.md.

Clients that negotiated `draft/event-playback` see these rows in CHATHISTORY (and count
them in its limits), with the stored TAGMSGs (see `persisted`); every other reader of
history sees, and counts, only the messages.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING

from miniircd.core.channel import Channel
from miniircd.core.history import iso_time
from miniircd.core.user import User
from miniircd.protocol.casemap import fold
from miniircd.store.base import MESSAGE_VERBS, StoredMessage

if TYPE_CHECKING:
    from miniircd.core.server import Server

CAP = "draft/event-playback"
EVENT_VERBS = ("JOIN", "PART", "KICK", "QUIT", "TOPIC", "NICK")
WITH_EVENTS = (*MESSAGE_VERBS, "TAGMSG", *EVENT_VERBS)
# A TAGMSG is stored (where a PRIVMSG would be) when it asks to be (the +draft/persist
# client tag) or is a reaction (+draft/react predates that tag); typing notifications and
# the like are not. Like the events, stored TAGMSGs are replayed with event-playback only.
PERSISTED_TAGS = ("+draft/persist", "+draft/react")


def persisted(tags: dict[str, str]) -> bool:
    """Whether a TAGMSG with these client tags is stored."""
    return any(tag in tags for tag in PERSISTED_TAGS)


def shown_verbs(caps: Collection[str]) -> tuple[str, ...]:
    """The verbs of the history rows a client with `caps` is shown by CHATHISTORY: a
    stored TAGMSG is all tags, so only with message-tags, as it is live."""
    if CAP not in caps:
        return MESSAGE_VERBS
    return WITH_EVENTS if "message-tags" in caps else (*MESSAGE_VERBS, *EVENT_VERBS)


def record(
    server: Server, user: User, verb: str, channel: Channel, params: list[str]
) -> dict[str, str]:
    """Store `user`'s event in `channel`'s history; the tags of its live line."""
    time_ms = int(server.now * 1000)
    msgid = server.ids.msgid()
    _store(server, user, verb, channel, params, time_ms, msgid)
    return {"time": iso_time(time_ms), "msgid": msgid}


def record_everywhere(server: Server, user: User, verb: str, params: list[str]) -> dict[str, str]:
    """Store a QUIT or NICK in the history of every room `user` is in; the live line's
    tags (the time only: see the module's docstring)."""
    time_ms = int(server.now * 1000)
    for channel in user.channels.values():
        _store(server, user, verb, channel, params, time_ms, server.ids.msgid())
    return {"time": iso_time(time_ms)}


def _store(
    server: Server,
    user: User,
    verb: str,
    channel: Channel,
    params: list[str],
    time_ms: int,
    msgid: str,
) -> None:
    stored = StoredMessage(
        0, fold(channel.name), time_ms, msgid, verb, user.prefix, user.account, channel.name,
        None, json.dumps(params), "",
    )  # fmt: skip
    server.store.add_message(stored, False)
