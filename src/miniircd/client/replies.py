"""Server lines about the connection and the replies to commands: registration and CAP,
SASL and accounts, LIST, NAMES, and every refusal; the one dispatch table for all lines.

`dispatch(state, message)` picks the handler by verb (`messages.HANDLERS` for messages and
membership, the table here for the rest). Refusals (error numerics, `FAIL`) are shown in
plain words (`errors.py`) and end the pending operation they answer: the one waiting on
the refused target, or on the refused verb (421, 461, FAIL <verb>).
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from miniircd.client import commands, messages
from miniircd.client.errors import describe_fail, describe_numeric, is_error
from miniircd.client.events import Error, Info, Notice, Output, Send
from miniircd.client.state import ClientState, Phase, RoomInfo
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

__all__ = ["WANTED_CAPS", "dispatch"]

WANTED_CAPS = (
    "batch",
    "draft/account-registration",
    "draft/chathistory",
    "echo-message",
    "sasl",
    "server-time",
    "standard-replies",
)
# Replies that are only noise to a user (the welcome burst, counts, mode echoes).
HIDDEN = frozenset(
    {"002", "003", "004", "042", "221", "250", "251", "252", "253", "254", "255", "265", "266"}
    | {"321", "324", "329", "331", "333", "375", "396", "903"}
)
Handler = Callable[[ClientState, Message], list[Output]]


# --- registration ----------------------------------------------------------------------


def _ping(state: ClientState, msg: Message) -> list[Output]:
    return [Send(f"PONG :{msg.params[-1]}" if msg.params else "PONG")]


def _cap(state: ClientState, msg: Message) -> list[Output]:
    # CAP <nick> LS [*] :<caps> | ACK :<caps> | NAK :<caps>
    if len(msg.params) < 3:
        return []
    sub, words = msg.params[1].upper(), msg.params[-1].split()
    if sub == "LS":
        for word in words:
            name, _, value = word.partition("=")
            state.caps_offered[name] = value
        if len(msg.params) > 3 and msg.params[2] == "*":
            return []  # more LS lines follow
        wanted = [cap for cap in WANTED_CAPS if cap in state.caps_offered]
        sasl = state.caps_offered.get("sasl")
        if sasl and "PLAIN" not in sasl.upper().split(","):
            wanted.remove("sasl")
        if "batch" not in wanted and "draft/chathistory" in wanted:
            wanted.remove("draft/chathistory")
        if wanted and state.phase is Phase.CONNECTING:
            return [Send(f"CAP REQ :{' '.join(wanted)}")]
        return [Send("CAP END")]
    if sub in ("ACK", "NAK"):
        for word in words if sub == "ACK" else []:
            if word.startswith("-"):
                state.caps.discard(word[1:])
            else:
                state.caps.add(word)
        return [Send("CAP END")] if state.phase is Phase.CONNECTING else []
    return []


def _welcome(state: ClientState, msg: Message) -> list[Output]:
    # 001 <nick> :Welcome...
    state.nick = msg.params[0] if msg.params else state.nick
    if state.account is None:
        state.guest_nick = state.nick
    return []


def _isupport(state: ClientState, msg: Message) -> list[Output]:
    # 005 <nick> <token>... :are supported by this server
    for token in msg.params[1:-1]:
        name, _, value = token.partition("=")
        if name.startswith("-"):
            state.isupport.pop(name[1:], None)
        else:
            state.isupport[name] = value
    return []


def _end_of_motd(state: ClientState, msg: Message) -> list[Output]:
    # 376 / 422: registration is complete; run what was typed meanwhile
    if state.phase is not Phase.CONNECTING:
        return []
    state.phase = Phase.READY
    op = state.find("connect")
    if op is not None:
        state.done(op)
    who = f"logged in as {state.account}" if state.account else "not logged in"
    out: list[Output] = [Info(f"Connected to {state.server} as {state.nick} ({who})")]
    queued, state.queued = state.queued, []
    for text in queued:
        out += commands.run(state, text)
    return out


def _motd(state: ClientState, msg: Message) -> list[Output]:
    # 372 <nick> :- <line>
    text = msg.params[-1].removeprefix("- ") if msg.params else ""
    return [Notice(state.now(), "", text)]


def _nick_refused(state: ClientState, msg: Message) -> list[Output]:
    # 432 / 433 <nick> <wanted> :<text>: before 001, try another nick
    wanted = msg.params[1] if len(msg.params) > 2 else ""
    if state.phase is Phase.CONNECTING and state.find("connect") is not None:
        state.nick_tries += 1
        if state.nick_tries > 5:
            given_up = commands.run(state, "/disconnect")
            return [Error("The server refused every nick tried"), *given_up]
        base = state.guest_nick if msg.verb == "433" else "guest"
        state.nick = f"{base[:20]}{int(state.clock() * 1000) % 1000:03d}"
        return [Send(f"NICK {state.nick}")]
    if wanted and fold(wanted) == fold(state.wanted_nick):
        state.wanted_nick = ""
        if state.find("register") is None:
            reason = "is in use" if msg.verb == "433" else "is not allowed here"
            return [Info(f"The nick {wanted} {reason}; others see you as {state.nick}")]
    return _refused(state, msg)


# --- accounts --------------------------------------------------------------------------


def _authenticate(state: ClientState, msg: Message) -> list[Output]:
    # AUTHENTICATE + : send base64(authzid NUL user NUL password) in 400-byte chunks
    op = state.find("login")
    if op is None or op.stage != "sasl" or msg.params[:1] != ["+"]:
        return []
    payload = base64.b64encode(f"\0{op.arg}\0{op.secret}".encode()).decode()
    chunks = [payload[i : i + 400] for i in range(0, len(payload), 400)]
    if len(chunks[-1]) == 400:
        chunks.append("+")
    op.secret = ""
    return [Send(f"AUTHENTICATE {chunk}") for chunk in chunks]


def _take_nick(state: ClientState, account: str) -> list[Output]:
    """After logging in, appear under the user name if we do not already."""
    if state.is_me(account):
        return []
    state.wanted_nick = account
    return [Send(f"NICK {account}")]


def _logged_in(state: ClientState, msg: Message) -> list[Output]:
    # 900 <nick> <mask> <account> :You are now logged in as <account>
    if len(msg.params) < 3:
        return []
    state.account = account = msg.params[2]
    op = state.find(("login", "register"))
    if op is not None and op.kind == "register" and op.verb == "REGISTER":
        return _take_nick(state, account)  # REGISTER SUCCESS follows
    if op is not None:
        state.done(op)
    if op is not None and op.kind == "register":
        text = f"Created user {account}; you are logged in as {account}"
    else:
        text = f"Logged in as {account}"
    return [Info(text), *_take_nick(state, account)]


def _logged_out(state: ClientState, msg: Message) -> list[Output]:
    # 901 <nick> <mask> :You are now logged out
    state.account = None
    op = state.find("logout")
    if op is not None:
        state.done(op)
        return [Info("Logged out")]
    return [Info("You were logged out")]


def _register_reply(state: ClientState, msg: Message) -> list[Output]:
    # REGISTER SUCCESS <account> :<text> | REGISTER VERIFICATION_REQUIRED <account> :<text>
    op = state.find("register")
    if op is not None:
        state.done(op)
    code, account = [*msg.params, "", ""][:2]
    if code == "SUCCESS":
        return [Info(f"Created user {account}; you are logged in as {account}")]
    return [Info(f"Created user {account}; {msg.params[-1]}")]


def _sasl_failed(state: ClientState, msg: Message) -> list[Output]:
    # 902, 904-907: the SASL login (or the one at connect time) failed
    op = state.find("login")
    if op is not None:
        state.done(op)
    return [Error("Login failed: " + describe_numeric(msg.verb, msg.params[1:]).lower())]


# --- LIST and NAMES --------------------------------------------------------------------


def _list_item(state: ClientState, msg: Message) -> list[Output]:
    # 322 <nick> <channel> <count> :<topic>
    if len(msg.params) >= 3:
        users = int(msg.params[2]) if msg.params[2].isdigit() else 0
        topic = msg.params[3] if len(msg.params) > 3 else ""
        state.list_buffer.append(RoomInfo(msg.params[1], users, topic))
    return []


def _list_end(state: ClientState, msg: Message) -> list[Output]:
    # 323: answer the oldest LIST we sent (/rooms, or the check of /create or /join)
    found, state.list_buffer = {fold(r.name): r for r in state.list_buffer}, []
    op = next((op for op in state.pending if op.verb == "LIST"), None)
    if op is None:
        return []
    if op.kind == "rooms":
        state.done(op)
        state.rooms = found
        if not found:
            return [Info("No rooms yet; create one with /create #room")]
        out: list[Output] = [Info(f"{len(found)} room(s):")]
        for room in sorted(found.values(), key=lambda r: fold(r.name)):
            here = " (you are in it)" if state.in_room(room.name) else ""
            people = f"{room.users} member{'s' if room.users != 1 else ''}"
            topic = f" - {room.topic}" if room.topic else ""
            out.append(Info(f"  {room.name}  {people}{here}{topic}"))
        return out
    state.rooms.update(found)
    names = op.arg.split(",")
    if op.kind == "create":
        if fold(op.arg) in found:
            state.done(op)
            return [Error(f"Room {op.arg} already exists; use /join {op.arg}")]
        op.stage, op.verb = "join", "JOIN"
        return [Send(f"JOIN {op.arg}")]
    missing = [name for name in names if fold(name) not in found]
    present = [name for name in names if fold(name) in found]
    out = [Error(f"No room named {name}; create it with /create {name}") for name in missing]
    if not present:
        state.done(op)
        return out
    op.stage, op.verb, op.targets = "join", "JOIN", [fold(name) for name in present]
    return [*out, Send(f"JOIN {','.join(present)}")]


def _topic(state: ClientState, msg: Message) -> list[Output]:
    # 332 <nick> <channel> :<topic>
    if len(msg.params) >= 3:
        state.topics[fold(msg.params[1])] = msg.params[2]
    return []


def _names(state: ClientState, msg: Message) -> list[Output]:
    # 353 <nick> <symbol> <channel> :<names>
    if len(msg.params) >= 4:
        state.names_buffer.setdefault(fold(msg.params[2]), []).extend(msg.params[3].split())
    return []


def _names_end(state: ClientState, msg: Message) -> list[Output]:
    # 366 <nick> <channel> :End of /NAMES list
    room = msg.params[1] if len(msg.params) > 2 else ""
    if fold(room) in state.bursting:
        return messages.end_of_join(state, room)
    names = state.names_buffer.pop(fold(room), [])
    op = state.find("members", room)
    if op is None:
        return []
    state.done(op)
    if not names:
        return [Info(f"Nobody is in {op.arg} (or there is no such room)")]
    return [Info(f"{len(names)} member{'s' if len(names) != 1 else ''} in {op.arg}: "
                 + " ".join(names))]


# --- refusals --------------------------------------------------------------------------

_MISSING_FEATURE = {
    "HISTORY": "This server keeps no room history",
    "CHATHISTORY": "This server keeps no room history",
    "INBOX": "This server has no inbox; personal messages only reach you while you are online",
    "REGISTER": "This server cannot create users",
}


def _refused(state: ClientState, msg: Message) -> list[Output]:
    """An error numeric: plain words, and the end of the operation it refuses."""
    args = msg.params[1:]
    first = args[0] if len(args) > 1 else ""
    sasl = state.find("login")
    no_sasl = msg.verb == "462" or (msg.verb in ("421", "461") and first.upper() == "AUTHENTICATE")
    if sasl is not None and sasl.stage == "sasl" and sasl.secret and no_sasl:
        # This server takes no SASL once connected: ask NickServ instead.
        sasl.stage, sasl.verb = "nickserv", "NICKSERV"
        return [Send(f"PRIVMSG NickServ :IDENTIFY {sasl.arg} {sasl.secret}")]
    services = next((op for op in state.pending if op.verb == "NICKSERV"), None)
    if msg.verb == "401" and fold(first) == "nickserv" and services is not None:
        state.done(services)
        return [Error("This server has no NickServ: it has no user accounts")]
    op = next((op for op in state.pending if first and op.verb == first.upper()), None)
    if op is not None:  # 421, 461, 263...: a refusal of the verb itself
        state.done(op)
        if msg.verb == "421" and first.upper() in _MISSING_FEATURE:
            return [Error(_MISSING_FEATURE[first.upper()])]
    text = describe_numeric(msg.verb, args)
    if msg.verb == "401" and fold(first) in state.pm_targets:
        text = f"No user named {first}; the message was not delivered"
    for op in list(state.pending):
        if first and fold(first) in op.targets:
            op.targets.remove(fold(first))
            if not op.targets:
                state.done(op)
    return [Error(text)]


def _standard_reply(state: ClientState, msg: Message) -> list[Output]:
    # FAIL|WARN|NOTE <command> <code> [<context>...] :<description>
    if len(msg.params) < 3:
        return []
    command, code, context = msg.params[0], msg.params[1], msg.params[2:-1]
    if msg.verb != "FAIL":
        return [Info(msg.params[-1])]
    names = {fold(name) for name in context}
    refused = [op for op in state.pending if op.verb == command.upper()]
    op = next((op for op in refused if names & set(op.targets)), refused[0] if refused else None)
    if op is not None:
        op.targets = [t for t in op.targets if t not in names]
        if not op.targets or op.kind != "join":
            state.done(op)
    return [Error(describe_fail(command, code, context, msg.params[-1]))]


def _closing(state: ClientState, msg: Message) -> list[Output]:
    # ERROR :<reason>: the server is about to close the connection
    return [Info(f"The server closed the connection: {msg.params[-1] if msg.params else ''}")]


HANDLERS: dict[str, Handler] = {
    "PING": _ping,
    "CAP": _cap,
    "AUTHENTICATE": _authenticate,
    "ERROR": _closing,
    "REGISTER": _register_reply,
    "FAIL": _standard_reply,
    "WARN": _standard_reply,
    "NOTE": _standard_reply,
    "001": _welcome,
    "005": _isupport,
    "372": _motd,
    "376": _end_of_motd,
    "422": _end_of_motd,
    "432": _nick_refused,
    "433": _nick_refused,
    "900": _logged_in,
    "901": _logged_out,
    "902": _sasl_failed,
    "904": _sasl_failed,
    "905": _sasl_failed,
    "906": _sasl_failed,
    "907": _sasl_failed,
    "322": _list_item,
    "323": _list_end,
    "332": _topic,
    "353": _names,
    "366": _names_end,
    **messages.HANDLERS,
}


def dispatch(state: ClientState, msg: Message) -> list[Output]:
    """One line from the server -> outputs."""
    handler = HANDLERS.get(msg.verb)
    if handler is not None:
        return handler(state, msg)
    if is_error(msg.verb):
        return _refused(state, msg)
    if msg.verb.isdigit() and msg.verb not in HIDDEN and state.phase is Phase.READY:
        return [Info(" ".join(msg.params[1:]))]
    return []
