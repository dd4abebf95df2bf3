"""IRCv3 draft/chathistory: CHATHISTORY LATEST/BEFORE/AFTER/AROUND/BETWEEN/TARGETS.

This module owns the command's grammar (subcommands, message references, limits), turns
each subcommand into range queries on the store (`Store.messages`; `Store.latest_messages`
for TARGETS) and answers with the spec's standard replies. Who may read which conversation
is `commands.history.conversation_of`; sending history is `core.history.replay`, which
wraps it in a `chathistory` batch (NOTICE markers for clients without `batch`).

Where the spec (ircv3.net/specs/extensions/chathistory) leaves room, this server:
- orders a conversation by message id (the order messages were stored in); a `msgid=`
  reference is an exact place in that order, a `timestamp=` one an instant;
- refuses a msgid it does not know, or one from another conversation, alike with
  MESSAGE_ERROR (so it reveals nothing about other conversations);
- for AROUND, sends the `limit // 2` messages before the reference and then those from
  the reference on (a msgid's own message first), up to `limit` in all; when one side
  runs short the other fills in;
- lets only a channel's members read its history (anyone else: INVALID_TARGET, as for a
  channel that does not exist, so nothing is revealed);
- takes as a private target only a correspondent, someone the account has exchanged
  messages with (by nick, by account name, or for a guest that has left by the nick in
  the history); anyone else is INVALID_TARGET, even a user online;
- names the batch after the target exactly as the client wrote it (irctest holds servers
  to this), never case-folded;
- sends clients that negotiated draft/event-playback the room's stored events too (see
  `core.events`), and counts them towards the limit; others see and count messages only;
- lists for TARGETS the channels the session is in and, when logged in, the private
  conversations of its account, each with the time of its latest message, when that falls
  between the two timestamps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from miniircd.core.commands.history import conversation_of
from miniircd.core.errors import Fail, Refusal
from miniircd.core.events import shown_verbs
from miniircd.core.history import iso_time, party, replay, spelling
from miniircd.core.params import echo, parse_count, parse_timestamp
from miniircd.core.session import Session
from miniircd.protocol.casemap import is_channel_name
from miniircd.protocol.message import Message
from miniircd.store.base import Bound, Store, StoredMessage

if TYPE_CHECKING:
    from miniircd.core.server import Server

# subcommand -> how many parameters CHATHISTORY takes with it (the subcommand included)
ARITY = {"LATEST": 4, "BEFORE": 4, "AFTER": 4, "AROUND": 4, "BETWEEN": 5, "TARGETS": 4}
NOT_RETRIEVED = "Messages could not be retrieved"


class Point(NamedTuple):
    """A place in a conversation's order: a stored message, or an instant (`id` None)."""

    time_ms: int
    id: int | None = None

    def bound(self) -> Bound:
        """The exclusive bound at this point."""
        return ("time", self.time_ms) if self.id is None else ("id", self.id)

    def from_here(self) -> Bound:
        """The exclusive lower bound that lets in this point's own message (if any)."""
        return ("time", self.time_ms - 1) if self.id is None else ("id", self.id - 1)

    def key(self) -> tuple[int, int]:
        return (self.time_ms, self.id or 0)


# A reference as parsed: a Point for `timestamp=`, the msgid to look up, or None for `*`.
Reference = Point | str | None


# CHATHISTORY <subcommand> <target> <reference> [<reference>] <limit>
def chathistory(server: Server, session: Session, msg: Message) -> None:
    sub = msg.params[0].upper()
    arity = ARITY.get(sub)
    if arity is None:
        raise _fail("INVALID_PARAMS", sub, "Unknown command")
    if len(msg.params) != arity:
        too = "Insufficient" if len(msg.params) < arity else "Too many"
        raise _fail("INVALID_PARAMS", sub, f"{too} parameters")
    limit = _limit(server, sub, msg.params[-1])
    if sub == "TARGETS":
        first, second = (_timestamp(sub, text) for text in msg.params[1:3])
        targets(server, session, first, second, limit)
        return
    target = msg.params[1]
    refs = [_reference(sub, target, text, star=sub == "LATEST") for text in msg.params[2:-1]]
    conversation = _open(server, session, sub, target)
    points = [_locate(server, sub, target, conversation, ref) for ref in refs]
    found = _select(server.store, conversation, sub, points, limit, shown_verbs(session.caps))
    replay(server, session, target, found, "chathistory")


# CHATHISTORY TARGETS <timestamp=a> <timestamp=b> <limit>
def targets(server: Server, session: Session, first: int, second: int, limit: int) -> None:
    """`CHATHISTORY TARGETS <name> <time>` for each conversation with news in the window."""
    me = party(session) if session.account is not None else None
    low, high = sorted((first, second))
    found = server.store.latest_messages(
        list(session.channels), me, low, high, limit, newest=first > second
    )
    out = server.outbox
    tags: dict[str, str] = {}
    if "batch" in session.caps:
        ref = server.ids.batch_ref()
        out.from_server(session, "BATCH", f"+{ref}", "draft/chathistory-targets")
        tags["batch"] = ref
    for stored in found:
        channel = session.channels.get(stored.conversation)
        name = channel.name if channel is not None else _peer_name(server, session, stored)
        params = ["TARGETS", name, iso_time(stored.time_ms)]
        out.send(session, Message("CHATHISTORY", params, server.name, tags))
    if tags:
        out.from_server(session, "BATCH", f"-{tags['batch']}")


# -- the queries: each subcommand as range queries with exclusive bounds ---------------------


def _select(
    store: Store,
    conversation: str,
    sub: str,
    points: list[Point | None],
    limit: int,
    verbs: tuple[str, ...],
) -> list[StoredMessage]:
    """The rows of the given verbs (those the client is shown, so that only they count
    towards the limit) that the subcommand selects."""

    def rows(
        after: Bound | None = None, before: Bound | None = None, ascending: bool = True
    ) -> list[StoredMessage]:
        return store.messages(conversation, after, before, limit, ascending, verbs)

    if sub == "LATEST":
        return rows(after=points[0].bound() if points[0] is not None else None, ascending=False)
    point = points[0]
    assert point is not None  # only LATEST takes '*'
    if sub == "BEFORE":
        return rows(before=point.bound(), ascending=False)
    if sub == "AFTER":
        return rows(after=point.bound())
    if sub == "AROUND":
        earlier = rows(before=point.bound(), ascending=False)
        later = rows(after=point.from_here())
        take = min(len(earlier), max(limit // 2, limit - len(later)))
        return earlier[len(earlier) - take :] + later[: limit - take]
    end = points[1]  # BETWEEN: counted from the first reference, which may be the later one
    assert end is not None
    if point.key() <= end.key():
        return rows(point.bound(), end.bound())
    return rows(end.bound(), point.bound(), ascending=False)


# -- parameters -------------------------------------------------------------------------------


def _fail(code: str, *params: str) -> Fail:
    """FAIL CHATHISTORY <code> <context>... :<description>. Context that echoes unusable
    client input (see `core.params.echo`) is sent as `*`."""
    *context, text = params
    return Fail("CHATHISTORY", code, *(echo(p) for p in context), text)


def _limit(server: Server, sub: str, text: str) -> int:
    """A positive limit, capped at the CHATHISTORY we advertise (0 there: no cap)."""
    limit = parse_count(text)
    if limit is None:
        raise _fail("INVALID_PARAMS", sub, text, "Invalid limit")
    most = server.config.chathistory_max
    return min(limit, most) if most > 0 else limit


def _timestamp(sub: str, text: str) -> int:
    """`timestamp=YYYY-MM-DDThh:mm:ss.sssZ` in milliseconds since the epoch."""
    time_ms = parse_timestamp(text)
    if time_ms is None:
        raise _fail("INVALID_PARAMS", sub, text, "Invalid timestamp")
    return time_ms


def _reference(sub: str, target: str, text: str, star: bool) -> Reference:
    if star and text == "*":
        return None
    kind, equals, value = text.partition("=")
    if kind == "timestamp":
        return Point(_timestamp(sub, text))
    if kind == "msgid" and value:
        return value
    if equals and kind and kind != "msgid":
        raise _fail("INVALID_MSGREFTYPE", sub, target, text, "Unknown message reference type")
    raise _fail("INVALID_PARAMS", sub, text, "Invalid message reference")


def _open(server: Server, session: Session, sub: str, target: str) -> str:
    """The conversation `session` may read under `target`: a channel it is in, or a
    correspondent (a party it has exchanged messages with)."""
    try:
        conversation: str | None = conversation_of(server, session, target, "CHATHISTORY")[0]
    except Refusal:
        conversation = None
    if conversation is None or not _readable(server, session, target, conversation):
        raise _fail("INVALID_TARGET", sub, target, NOT_RETRIEVED)
    return conversation


def _readable(server: Server, session: Session, target: str, conversation: str) -> bool:
    """Whether CHATHISTORY lets `session` read `conversation`, which `conversation_of`
    found for `target`: a channel it is a member of, or a private one with messages
    (redacted ones too)."""
    if is_channel_name(target):
        channel = server.state.find_channel(target)
        assert channel is not None  # conversation_of found it
        return session in channel.members
    return bool(server.store.messages(conversation, limit=1, verbs=None))


def _locate(
    server: Server, sub: str, target: str, conversation: str, ref: Reference
) -> Point | None:
    """A msgid reference as a Point; it must name a message of this very conversation."""
    if not isinstance(ref, str):
        return ref
    stored = server.store.message_by_msgid(ref)
    if stored is None or stored.conversation != conversation:
        raise _fail("MESSAGE_ERROR", sub, target, f"msgid={ref}", "Unknown msgid")
    return Point(stored.time_ms, stored.id)


def _peer_name(server: Server, session: Session, latest: StoredMessage) -> str:
    """The other party of a private conversation, named so that CHATHISTORY finds it again:
    its nick in the latest message, or else its account name."""
    mine = party(session)
    one, _, two = latest.conversation.partition(" ")
    other = two if one == mine else one
    names = [spelling(other, latest)]
    account = None if other.startswith("~") else server.store.get_account(other)
    if account is not None:
        names.append(account.name)
    for name in names:
        try:
            if conversation_of(server, session, name, "CHATHISTORY")[0] == latest.conversation:
                return name
        except Refusal:
            continue
    return names[0]
