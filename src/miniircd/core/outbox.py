"""Collects what each session is to be sent during one loop turn.

Handlers add messages here; a message sent to many sessions is serialized once and the
same bytes go to every recipient. The network layer calls `drain` at the end of the turn
and writes each touched session's queue with one call.
"""

from __future__ import annotations

from collections.abc import Iterable

from miniircd.core.aside import Aside
from miniircd.core.errors import Fail, IrcError, Refusal
from miniircd.core.ids import Ids
from miniircd.core.params import echo
from miniircd.core.user import User
from miniircd.protocol.message import Message, parse

MAX_LINE = 510  # bytes of a line without CR-LF
# Commands defined by IRCv3 specifications with their own FAIL codes: always answered with FAIL.
IRCV3_COMMANDS = frozenset(
    {"REGISTER", "CHATHISTORY", "MARKREAD", "SETNAME", "RENAME", "BATCH", "REDACT", "METADATA"}
)
# Capabilities that change the tags a recipient gets (User.tag_caps), and the tags
# each lets through; every other tag (msgid, client-only +tags) needs message-tags.
TAG_CAPS = frozenset(
    {"account-tag", "batch", "labeled-response", "message-tags", "server-time", "draft/multiline"}
)
_TAG_CAP = {
    "account": "account-tag",
    "batch": "batch",
    "draft/multiline-concat": "draft/multiline",
    "label": "labeled-response",
    "time": "server-time",
}
# Verbs whose last parameter is text: always sent after a ':' (numerics too).
TEXT_VERBS = frozenset(
    {
        "PRIVMSG",
        "NOTICE",
        "PART",
        "QUIT",
        "KICK",
        "TOPIC",
        "ERROR",
        "KILL",
        "CAP",
        "PING",
        "PONG",
        "AWAY",
        "SETNAME",
        "WALLOPS",
        "RENAME",
    }
)


class Outbox:
    __slots__ = ("ids", "server_name", "touched")

    def __init__(self, server_name: str, ids: Ids) -> None:
        self.server_name = server_name
        self.ids = ids
        self.touched: dict[int, User] = {}

    def raw(self, session: User, data: bytes) -> None:
        """Queue an already serialized line (with CR-LF)."""
        if session.closing:
            return
        session.outq.append(data)
        self.touched[session.id] = session

    def send(self, session: User, msg: Message, sender: User | None = None) -> None:
        self.send_many((session,), msg, sender)

    def send_many(
        self, sessions: Iterable[User], msg: Message, sender: User | None = None
    ) -> None:
        """Send `msg` to each session, serialized once per variant of the tags they get.

        `sender` is the user the message comes from; recipients that negotiated a tag
        capability get the tags it calls for (`account-tag`: the sender's account).
        """
        touched = self.touched  # what raw() does, inlined: this loop runs per recipient
        if not msg.tags and (sender is None or (sender.account is None and not sender.modes)):
            same = encode(msg)  # the same for everyone
            for session in sessions:
                if not session.closing:
                    session.outq.append(same)
                    touched[session.id] = session
            return
        cache: dict[frozenset[str], bytes] = {}
        plain: bytes | None = None  # for the many recipients without tag capabilities
        for session in sessions:
            if session.closing:
                continue
            key = session.tag_caps
            if not key:
                if plain is None:
                    plain = encode(msg, with_tags=False)
                data = plain
            elif (cached := cache.get(key)) is not None:
                data = cached
            else:
                data = cache[key] = encode(_with_tags(msg, key, sender))
            session.outq.append(data)
            touched[session.id] = session

    def send_aside(self, session: User, msg: Message, sender: User | None = None) -> None:
        """Send `msg` to `session` as a side effect of its own command (see `Aside`)."""
        self.raw(session, Aside(encode(_with_tags(msg, session.tag_caps, sender))))

    def numeric(self, session: User, numeric: str, *params: str) -> None:
        """`:server <numeric> <client> <params...>`; the last param is the human text.

        A middle parameter that echoes unusable client input (empty, with a space, or
        starting with ':') is sent as `*`: it could not have named anything anyway.
        """
        middle = [echo(p) for p in params[:-1]]
        line = Message(numeric, [session.name, *middle, *params[-1:]], self.server_name)
        self.send(session, line)

    def numeric_words(
        self, session: User, numeric: str, head: list[str], words: Iterable[str]
    ) -> None:
        """`numeric` with params `head` and a trailing list of words, split over as many
        lines as it takes to keep each line within 512 bytes. Nothing is sent for no words.
        """
        prefix = f":{self.server_name} {numeric} {session.name} {' '.join(head)} :"
        room = MAX_LINE - len(prefix.encode())
        line: list[str] = []
        used = -1
        for word in words:
            size = len(word.encode()) + 1
            if line and used + size > room:
                self.numeric(session, numeric, *head, " ".join(line))
                line, used = [], -1
            line.append(word)
            used += size
        if line:
            self.numeric(session, numeric, *head, " ".join(line))

    def from_server(self, session: User, verb: str, *params: str) -> None:
        self.send(session, Message(verb, list(params), self.server_name))

    def refuse(self, session: User, refusal: Refusal) -> None:
        """The reply to a refused command: its numeric, or a FAIL standard reply.

        FAIL goes to clients that negotiated standard-replies and for the IRCv3 commands
        whose specifications define their FAIL codes; other clients get the FAIL's text as
        a server NOTICE, which every client shows.
        """
        if isinstance(refusal, IrcError):
            self.numeric(session, refusal.numeric, *refusal.params)
            return
        assert isinstance(refusal, Fail)  # the only other kind of refusal
        if refusal.command in IRCV3_COMMANDS or "standard-replies" in session.caps:
            self.from_server(session, "FAIL", refusal.command, refusal.code, *refusal.params)
        else:
            text = f"{refusal.command} failed: {refusal.params[-1]}"
            self.from_server(session, "NOTICE", session.name, text)

    def label(self, session: User, start: int, label: str) -> None:
        """labeled-response: mark the lines queued for `session` since `start` as the answer
        to the command labelled `label`: ACK for none, the tag on a single line, a
        `labeled-response` batch around several. `Aside` lines are no part of the answer:
        they go first, as they are."""
        queued = session.outq[start:]
        del session.outq[start:]
        lines: list[bytes] = []
        for line in queued:
            (session.outq if isinstance(line, Aside) else lines).append(line)
        if not lines:
            self.send(session, Message("ACK", [], self.server_name, {"label": label}))
            return
        if len(lines) == 1 or "batch" not in session.caps or _multiline_batch(lines):
            # the multiline spec: the echo of a multiline batch takes the label on its opening
            first, *rest = lines
            session.outq.extend([_add_tags(first, {"label": label}), *rest])
            return
        ref = self.ids.batch_ref()
        opening = Message("BATCH", [f"+{ref}", "labeled-response"], self.server_name)
        opening.tags["label"] = label
        session.outq.append(encode(opening))
        session.outq.extend(_add_tags(line, {"batch": ref}, keep=True) for line in lines)
        session.outq.append(encode(Message("BATCH", [f"-{ref}"], self.server_name)))

    def error_and_close(self, session: User, text: str) -> None:
        """Send `ERROR :text` and have the network layer close the link once it is flushed."""
        self.send(session, Message("ERROR", [text]))
        session.closing = True

    def drain(self) -> list[User]:
        sessions = list(self.touched.values())
        self.touched.clear()
        return sessions


def _with_tags(msg: Message, caps: frozenset[str], sender: User | None) -> Message:
    """`msg` with the tags a recipient with these capabilities may see."""
    tags = {
        key: value for key, value in msg.tags.items() if _TAG_CAP.get(key, "message-tags") in caps
    }
    if sender is not None:
        if "account-tag" in caps and sender.account is not None:
            tags["account"] = sender.account
        if "message-tags" in caps and "B" in sender.modes:
            tags["bot"] = ""  # IRCv3 bot mode: a bare tag
    if tags == msg.tags:
        return msg
    return Message(msg.verb, msg.params, msg.source, tags)


def _multiline_batch(lines: list[bytes]) -> bool:
    """Whether `lines` are exactly one `draft/multiline` batch, opening to closing."""
    if b" BATCH +" not in lines[0]:
        return False  # most answers: not a batch at all
    first, last = parse(_text(lines[0])), parse(_text(lines[-1]))
    if first.verb != "BATCH" or last.verb != "BATCH" or len(first.params) < 2 or not last.params:
        return False
    opening, kind = first.params[:2]
    return kind == "draft/multiline" and last.params[0] == f"-{opening[1:]}"


def _text(line: bytes) -> str:
    return line.decode("utf-8", "surrogateescape").rstrip("\r\n")


def _add_tags(line: bytes, tags: dict[str, str], keep: bool = False) -> bytes:
    """A queued line with more tags; with `keep`, tags it has already win (nested batches)."""
    msg = parse(_text(line))
    msg.tags = {**tags, **msg.tags} if keep else {**msg.tags, **tags}
    return encode(msg)


def encode(msg: Message, with_tags: bool = True) -> bytes:
    # extended-join's third parameter is the realname: text too
    force = (
        msg.verb in TEXT_VERBS
        or msg.verb[0].isdigit()
        or (msg.verb == "JOIN" and len(msg.params) == 3)
    )
    return (msg.serialize(force, with_tags) + "\r\n").encode("utf-8", "surrogateescape")
