"""Server lines about messages and people: PRIVMSG, NOTICE, JOIN, PART, QUIT, NICK, KICK,
TOPIC, INVITE, and replays of stored messages.

A replay (room history, the inbox, unread messages at login, recent messages on join)
comes either as a `chathistory` BATCH (with the `batch` capability) or between two NOTICE
markers, `*** <what>: <n> message(s) follow` and `*** end of <what>`. Either way it becomes
a `Replay`, tied to the pending /history or /inbox that asked for it, if any: its messages
are shown with their date, then a closing line (or the "nothing there" line) ends it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from miniircd.client.events import (
    Activity,
    Error,
    Info,
    Notice,
    Output,
    PrivateMessage,
    RoomMessage,
    Send,
)
from miniircd.client.state import SERVICES, ClientState, Replay
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

__all__ = ["HANDLERS", "nick_of", "parse_time"]

_MARK_START = re.compile(r"^\*\*\* (.+): (\d+) message\(s\) follow$")
_MARK_END = re.compile(r"^\*\*\* end of (.+)$")
_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\] ")
# NickServ's words that repeat what 900/901 already told.
_SERVICE_ECHO = re.compile(
    r"^(You are now logged (in|out)|Account \S+ registered; you are now logged in)", re.I
)
_SERVICE_OK = re.compile(r"now (logged in|identified|recognized)|password accepted", re.I)
RECENT_ON_JOIN = 10


def nick_of(source: str | None) -> str:
    return (source or "").partition("!")[0]


def parse_time(tags: dict[str, str]) -> datetime | None:
    value = tags.get("time")
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _is_room(state: ClientState, name: str) -> bool:
    return bool(name) and name[0] in state.isupport.get("CHANTYPES", "#&")


# --- replays ---------------------------------------------------------------------------


def start_replay(state: ClientState, target: str) -> Replay:
    """A replay of `target`'s messages, tied to the /history or /inbox that asked for it."""
    if _is_room(state, target):
        op = state.find("history", target)
        if op is not None:
            return Replay(f"history of {target}", f"No messages in {target} yet", op)
        return Replay(f"recent messages in {target}", "", state.find("recent", target))
    op = state.find("inbox")
    if op is not None:
        return Replay("your inbox", "Your inbox is empty", op)
    return Replay("your unread messages", "", None)


def end_replay(state: ClientState, replay: Replay) -> list[Output]:
    if replay.op is not None:
        state.done(replay.op)
    if replay.shown == 0:
        return [Info(replay.empty)] if replay.empty else []
    plural = "" if replay.shown == 1 else "s"
    return [Info(f"End of {replay.label} ({replay.shown} message{plural})")]


def _replay_of(state: ClientState, msg: Message, target: str) -> Replay | None:
    ref = msg.tags.get("batch")
    if ref is not None and ref in state.batches:
        return state.batches[ref]
    key = fold(target) if _is_room(state, target) else ""
    return state.marker_replays.get(key)


def on_batch(state: ClientState, msg: Message) -> list[Output]:
    # BATCH +<ref> <type> [params] | BATCH -<ref>
    if not msg.params:
        return []
    ref = msg.params[0]
    if ref.startswith("+") and len(msg.params) >= 3 and msg.params[1].endswith("chathistory"):
        state.batches[ref[1:]] = start_replay(state, msg.params[2])
    elif ref.startswith("-") and ref[1:] in state.batches:
        return end_replay(state, state.batches.pop(ref[1:]))
    return []


def _marker(state: ClientState, target: str, text: str) -> list[Output] | None:
    """Handle a server NOTICE that opens or closes a replay; None if it is not a marker."""
    key = fold(target) if _is_room(state, target) else ""
    start = _MARK_START.match(text)
    if start:
        state.marker_replays[key] = start_replay(state, target)
        return []
    if _MARK_END.match(text) and key in state.marker_replays:
        return end_replay(state, state.marker_replays.pop(key))
    return None


# --- messages --------------------------------------------------------------------------


def on_message(state: ClientState, msg: Message) -> list[Output]:
    # [@time=...] :<prefix> PRIVMSG|NOTICE <target> :<text>
    if len(msg.params) < 2:
        return []
    target, text = msg.params[0], msg.params[-1]
    sender = nick_of(msg.source)
    is_user = msg.source is not None and "!" in msg.source
    notice = msg.verb == "NOTICE"
    if notice and not is_user:
        marked = _marker(state, target, text)
        if marked is not None:
            return marked
    replay = _replay_of(state, msg, target)
    when = parse_time(msg.tags)
    if replay is not None and when is None:
        stamp = _STAMP.match(text)
        if stamp:
            when = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            text = text[stamp.end() :]
    when = when or state.now()
    action = False
    if text.startswith("\x01"):
        command, _, rest = text.strip("\x01").partition(" ")
        if command.upper() != "ACTION" or notice:
            return []  # CTCP queries and replies: not shown
        text, action = rest, True
    if notice and not is_user:
        return [Notice(when, "", text)]
    if notice and fold(sender) in SERVICES:
        return _service_notice(state, sender, text, when)
    out: list[Output] = []
    if replay is not None:
        replay.shown += 1
        if replay.shown == 1:
            out.append(Info(replay.label[0].upper() + replay.label[1:] + ":"))
    if _is_room(state, target):
        if notice:
            return [*out, Notice(when, sender, text, room=target, user=True)]
        own = state.is_me(sender)
        live = replay is None
        return [*out, RoomMessage(when, target, sender, text, own, action, not live)]
    if notice:
        return [*out, Notice(when, sender, text, user=True)]
    if state.is_me(sender):
        return [*out, PrivateMessage(when, target, text, True, action, replay is not None)]
    return [*out, PrivateMessage(when, sender, text, False, action, replay is not None)]


def _service_notice(state: ClientState, service: str, text: str, when: datetime) -> list[Output]:
    """NickServ answers: tie them to a pending /login, /register or /logout sent to it."""
    op = state.find(("login", "register", "logout"))
    if op is not None and op.verb == "NICKSERV" and fold(service) == "nickserv":
        if _SERVICE_OK.search(text) or _SERVICE_ECHO.search(text):
            return []  # 900/901 carries the news
        state.done(op)
        if text.rstrip(".") == "Invalid account or password":
            return [Error("Login failed: wrong user name or password")]
        doing = {"login": "Login", "register": "Creating the user", "logout": "Logout"}[op.kind]
        return [Error(f"{doing} failed: {text}")]
    if _SERVICE_ECHO.search(text):
        return []
    return [Notice(when, service, text)]


# --- people coming and going -----------------------------------------------------------


def on_join(state: ClientState, msg: Message) -> list[Output]:
    # :<prefix> JOIN <channel> [<account> :<realname>]
    if not msg.params:
        return []
    room, nick = msg.params[0], nick_of(msg.source)
    if state.is_me(nick):
        state.add_room(room)
        state.bursting.add(fold(room))
        state.names_buffer[fold(room)] = []
        return []
    return [Activity(parse_time(msg.tags) or state.now(), f"{nick} joined", room)]


def end_of_join(state: ClientState, room: str) -> list[Output]:
    """The JOIN burst is over (366): announce the room, maybe fetch its recent messages."""
    state.bursting.discard(fold(room))
    names = state.names_buffer.pop(fold(room), [])
    op = state.find(("join", "create"), room)
    if op is not None:
        op.targets.remove(fold(room))
        if not op.targets:
            state.done(op)
    people = f"{len(names)} member{'s' if len(names) != 1 else ''}: {' '.join(names)}"
    if op is not None and op.kind == "create" and len(names) > 1:
        # A secret room is not listed to outsiders, so only joining it shows it existed.
        text = f"{room} existed already (a secret room); you joined it ({people})"
        out: list[Output] = [Info(text)]
    elif op is not None and op.kind == "create":
        out = [Info(f"Created {room}; you are in it now")]
    else:
        out = [Info(f"You joined {room} ({people})")]
    topic = state.topics.pop(fold(room), "")
    if topic:
        out.append(Info(f"Topic of {room}: {topic}"))
    if {"draft/chathistory", "batch"} <= state.caps and (op is None or op.kind == "join"):
        state.start("recent", "CHATHISTORY", [room])
        out.append(Send(f"CHATHISTORY LATEST {room} * {RECENT_ON_JOIN}"))
    return out


def on_part(state: ClientState, msg: Message) -> list[Output]:
    # :<prefix> PART <channel> [:<reason>]
    if not msg.params:
        return []
    room, nick = msg.params[0], nick_of(msg.source)
    reason = f" ({msg.params[1]})" if len(msg.params) > 1 and msg.params[1] else ""
    if not state.is_me(nick):
        return [Activity(parse_time(msg.tags) or state.now(), f"{nick} left{reason}", room)]
    name = state.joined.get(fold(room), room)
    new_current = state.remove_room(room)
    op = state.find("leave", room)
    if op is not None:
        state.done(op)
    out: list[Output] = [Info(f"You left {name}")]
    return [*out, Info(f"Now talking in {new_current}")] if new_current else out


def on_kick(state: ClientState, msg: Message) -> list[Output]:
    # :<prefix> KICK <channel> <nick> [:<comment>]
    if len(msg.params) < 2:
        return []
    room, victim, kicker = msg.params[0], msg.params[1], nick_of(msg.source)
    reason = f" ({msg.params[2]})" if len(msg.params) > 2 else ""
    if not state.is_me(victim):
        text = f"{kicker} removed {victim}{reason}"
        return [Activity(parse_time(msg.tags) or state.now(), text, room)]
    new_current = state.remove_room(room)
    out: list[Output] = [Info(f"{kicker} removed you from {room}{reason}")]
    return [*out, Info(f"Now talking in {new_current}")] if new_current else out


def on_quit(state: ClientState, msg: Message) -> list[Output]:
    # :<prefix> QUIT :<reason>
    reason = f" ({msg.params[0]})" if msg.params else ""
    return [Activity(parse_time(msg.tags) or state.now(), f"{nick_of(msg.source)} quit{reason}")]


def on_nick(state: ClientState, msg: Message) -> list[Output]:
    # :<prefix> NICK <new nick>
    if not msg.params:
        return []
    old, new = nick_of(msg.source), msg.params[0]
    if not state.is_me(old):
        return [Activity(state.now(), f"{old} is now known as {new}")]
    state.nick = new
    if fold(new) == fold(state.wanted_nick):
        state.wanted_nick = ""
        return []
    return [Info(f"You are now known as {new}")]


def on_topic(state: ClientState, msg: Message) -> list[Output]:
    # :<prefix> TOPIC <channel> :<topic>
    if len(msg.params) < 2:
        return []
    text = f"{nick_of(msg.source)} set the topic: {msg.params[1]}"
    return [Activity(parse_time(msg.tags) or state.now(), text, msg.params[0])]


def on_invite(state: ClientState, msg: Message) -> list[Output]:
    # :<prefix> INVITE <nick> <channel>
    if len(msg.params) < 2:
        return []
    room = msg.params[1]
    return [Info(f"{nick_of(msg.source)} invites you to {room}; /join {room} to go")]


HANDLERS = {
    "PRIVMSG": on_message,
    "NOTICE": on_message,
    "BATCH": on_batch,
    "JOIN": on_join,
    "PART": on_part,
    "KICK": on_kick,
    "QUIT": on_quit,
    "NICK": on_nick,
    "TOPIC": on_topic,
    "INVITE": on_invite,
}
