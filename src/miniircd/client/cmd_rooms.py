"""The room and message commands: /create, /rooms, /join, /leave, /switch, plain text,
/send, /history, /members, /msg and /inbox.

Each handler checks what the client can tell by itself (a valid room or user name, a room
it is or is not in, an empty message, a valid count) and sends nothing when that fails.
What only the server knows is asked first: /create and /join send `LIST <rooms>` and
decide on its answer (see `replies.list_end`) whether to JOIN. Without `echo-message`, a
message we send is shown at once; with it, when the server echoes it back.
"""

from __future__ import annotations

from miniircd.client.events import Error, Info, Output, PrivateMessage, RoomMessage, Send
from miniircd.client.state import ClientState, UsageError
from miniircd.protocol.casemap import fold, is_valid_nick

__all__ = [
    "create",
    "history",
    "inbox",
    "join",
    "leave",
    "list_rooms",
    "members",
    "msg",
    "say",
    "send",
    "split_text",
    "switch",
]

EMPTY = "The message is empty"
DEFAULT_COUNT = 20


def invalid_room(name: str) -> Error:
    return Error(
        f"Invalid room name {name!r}: a room starts with # and has no spaces, commas or colons"
    )


def _room_names(text: str) -> list[str]:
    """`#a,#b #c` -> ['#a', '#b', '#c'], without repeats."""
    names: dict[str, str] = {}
    for name in text.replace(",", " ").split():
        names.setdefault(fold(name), name)
    return list(names.values())


def _one_room(state: ClientState, args: str, default_current: bool) -> str | Error:
    words = args.split()
    if len(words) > 1:
        raise UsageError
    if not words:
        if default_current and state.current is not None:
            return state.current
        if default_current:
            return Error("You are not in any room; name one, or /join one first")
        raise UsageError
    return words[0] if state.valid_room(words[0]) else invalid_room(words[0])


def _count(state: ClientState, word: str) -> int | Error:
    most = state.limit("CHATHISTORY", 100)
    if not word.isdigit() or not 1 <= int(word) <= most:
        return Error(f"Invalid count {word!r}: use a number from 1 to {most}")
    return int(word)


# --- rooms -----------------------------------------------------------------------------


def create(state: ClientState, args: str) -> list[Output]:
    # /create #room -> LIST #room; JOIN #room if it is not listed
    room = _one_room(state, args, default_current=False)
    if isinstance(room, Error):
        return [room]
    if state.in_room(room):
        return [Error(f"Room {room} already exists (you are in it)")]
    state.start("create", "LIST", [room], stage="check", arg=room)
    return [Send(f"LIST {room}")]


def list_rooms(state: ClientState, args: str) -> list[Output]:
    # /rooms -> LIST
    if args.strip():
        raise UsageError
    state.start("rooms", "LIST")
    return [Send("LIST")]


def join(state: ClientState, args: str) -> list[Output]:
    # /join #a[,#b...] -> LIST #a,#b; JOIN the ones listed
    names = _room_names(args)
    if not names:
        raise UsageError
    for name in names:
        if not state.valid_room(name):
            return [invalid_room(name)]
        if state.in_room(name):
            return [Error(f"You are already in {state.joined[fold(name)]}")]
    state.start("join", "LIST", names, stage="check", arg=",".join(names))
    return [Send(f"LIST {','.join(names)}")]


def leave(state: ClientState, args: str) -> list[Output]:
    # /leave [#room] -> PART #room
    room = _one_room(state, args, default_current=True)
    if isinstance(room, Error):
        return [room]
    if not state.in_room(room):
        return [Error(f"You are not in {room}")]
    state.start("leave", "PART", [room])
    return [Send(f"PART {state.joined[fold(room)]}")]


def switch(state: ClientState, args: str) -> list[Output]:
    # /switch #room (local: no line is sent)
    room = _one_room(state, args, default_current=False)
    if isinstance(room, Error):
        return [room]
    if not state.in_room(room):
        return [Error(f"You are not in {room}; /join it first")]
    state.current = state.joined[fold(room)]
    return [Info(f"Now talking in {state.current}")]


def members(state: ClientState, args: str) -> list[Output]:
    # /members [#room] -> NAMES #room
    room = _one_room(state, args, default_current=True)
    if isinstance(room, Error):
        return [room]
    state.start("members", "NAMES", [room], arg=room)
    return [Send(f"NAMES {room}")]


def history(state: ClientState, args: str) -> list[Output]:
    # /history [#room] [n] -> CHATHISTORY LATEST #room * n, or HISTORY #room n
    words = args.split()
    rooms = [word for word in words if not word.isdigit()]
    counts = [word for word in words if word.isdigit()] or [str(DEFAULT_COUNT)]
    if len(rooms) > 1 or len(counts) > 1:
        raise UsageError
    room = _one_room(state, " ".join(rooms), default_current=True)
    if isinstance(room, Error):
        return [room]
    count = _count(state, counts[0])
    if isinstance(count, Error):
        return [count]
    if {"draft/chathistory", "batch"} <= state.caps:
        state.start("history", "CHATHISTORY", [room], arg=room)
        return [Send(f"CHATHISTORY LATEST {room} * {count}")]
    state.start("history", "HISTORY", [room], arg=room)
    return [Send(f"HISTORY {room} {count}")]


# --- messages --------------------------------------------------------------------------


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, cut at spaces where possible."""
    pieces: list[str] = []
    while len(text.encode()) > limit:
        cut = len(text.encode()[:limit].decode(errors="ignore"))
        space = text.rfind(" ", 0, cut)
        cut = space if space > cut // 2 else cut
        pieces.append(text[:cut])
        text = text[cut:].lstrip(" ")
    return [*pieces, text] if text else pieces


def _privmsg(state: ClientState, targets: list[str], text: str) -> list[Output]:
    """PRIVMSG lines (TARGMAX targets a line, text split to fit), plus the local echo."""
    out: list[Output] = []
    step = state.targmax("PRIVMSG")
    # The server relays `:nick!user@host PRIVMSG <target> :<text>` in 512 bytes.
    longest = max(len(target.encode()) for target in targets)
    room_for_text = 512 - 2 - len(f":{state.nick}!{'u' * 10}@{'h' * 63} PRIVMSG  :") - longest
    pieces = split_text(text, max(room_for_text, 64))
    for start in range(0, len(targets), step):
        batch = ",".join(targets[start : start + step])
        out += [Send(f"PRIVMSG {batch} :{piece}") for piece in pieces]
    if "echo-message" not in state.caps:
        now = state.now()
        for target in targets:
            for piece in pieces:
                if state.valid_room(target):
                    out.append(RoomMessage(now, target, state.nick, piece, own=True))
                else:
                    out.append(PrivateMessage(now, target, piece, outgoing=True))
    return out


def say(state: ClientState, args: str) -> list[Output]:
    # text -> PRIVMSG <current room> :text
    if state.current is None:
        return [Error("You are not in a room; /create or /join one first (or /msg user text)")]
    if not args.strip():
        return [Error(EMPTY)]
    return _privmsg(state, [state.current], args)


def send(state: ClientState, args: str) -> list[Output]:
    # /send #a,#b text -> PRIVMSG #a,#b :text
    rooms_word, _, text = args.strip().partition(" ")
    if not rooms_word:
        raise UsageError
    rooms = [name for name in rooms_word.split(",") if name]
    for room in rooms:
        if not state.valid_room(room):
            return [invalid_room(room)]
        if not state.in_room(room):
            return [Error(f"You are not in {room}; /join it first")]
    if not text.strip():
        return [Error(EMPTY)]
    return _privmsg(state, [state.joined[fold(room)] for room in _room_names(rooms_word)], text)


def msg(state: ClientState, args: str) -> list[Output]:
    # /msg user text -> PRIVMSG user :text (a 401 answer means no such user)
    user, _, text = args.strip().partition(" ")
    if not user:
        raise UsageError
    if state.valid_room(user):
        return [Error(f"{user} is a room; use /send {user} text")]
    if not is_valid_nick(user, state.limit("NICKLEN", 30)):
        return [Error(f"Invalid user name {user!r}")]
    if not text.strip():
        return [Error(EMPTY)]
    state.pm_targets.add(fold(user))
    return _privmsg(state, [user], text)


def inbox(state: ClientState, args: str) -> list[Output]:
    # /inbox [n] -> INBOX [n]
    words = args.split()
    if len(words) > 1:
        raise UsageError
    if words:
        count = _count(state, words[0])
        if isinstance(count, Error):
            return [count]
    state.start("inbox", "INBOX")
    return [Send(f"INBOX {words[0]}" if words else "INBOX")]
