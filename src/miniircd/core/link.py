"""A server link as the core sees it, and the other servers of the network.

A `Link` is one connection to a peer server (dialed by us or accepted), whatever its
dialect: the handshake's progress, the peer's flags, the server tokens it uses, its
keepalive. The outbox queues lines to it as to any user (`Link` is a `User` that sits in
no user table), so one flush in the network layer serves clients and links alike.

Two kinds of line land in a link's queue:
- `ServerLine`s, written by the dialect module for the peer (NICK, JOIN, SQUIT ...);
- lines the client-side code sends to a user behind the link (`RemoteUser.outq` is the
  link's queue): a PRIVMSG or NOTICE for that user, or a numeric answering its query
  (core.s2s_queries), serialized for clients. `take_output`
  turns those into server lines (the source cut to the nick, the same message for several
  users behind the link sent once) and drops the rest: every change of state (JOIN, PART,
  QUIT, NICK, ...) reaches the peer as a `ServerLine`, once, whether or not the link leads
  to a member.

A `RemoteServer` is a server somewhere behind a link (the peer itself included).

A peer that is another miniircd (its PASS names `miniircd|` and has the `T` flag) is a
tags link: the PRIVMSG, NOTICE and TAGMSG lines for users behind it keep their message
tags (msgid, time, account, client-only tags), so every server shows and stores one
message with one id, and its NICK lines carry the nick's time (core.s2s_ngircd).
"""

from __future__ import annotations

from collections import deque

from miniircd.config import LinkBlock
from miniircd.core.serverline import ResentLine, ServerLine
from miniircd.core.user import User
from miniircd.protocol.message import Message, ParseError, parse

# Verbs a client line for a user behind a link may carry across it (TAGMSG: tags links).
RELAYED_VERBS = frozenset({"PRIVMSG", "NOTICE"})
TAGGED_VERBS = frozenset({"PRIVMSG", "NOTICE", "TAGMSG"})
# The tag capabilities of a user behind a tags link: its lines carry every tag we make.
PEER_TAG_CAPS = frozenset({"account-tag", "message-tags", "server-time"})
# Tags that belong to one client connection, never carried to a peer.
LOCAL_TAGS = frozenset({"label", "batch"})


class RemoteServer:
    __slots__ = ("hops", "info", "link_id", "name", "our_token", "token", "uplink")

    def __init__(
        self, name: str, hops: int, info: str, link_id: int, uplink: str, token: int
    ) -> None:
        self.name = name
        self.hops = hops
        self.info = info
        self.link_id = link_id  # the link it is reached through
        self.uplink = uplink  # the server that introduced it
        self.token = token  # the peer's token for it (1: the peer itself)
        self.our_token = 0  # ours for it, toward every other peer (State.add_server)


JOURNAL_MAX = 100_000  # message lines kept for a tags peer until it acknowledges them


class PeerMemory:
    """What this server remembers of a tags peer from one link to the next (core.resume):
    our sending session and its journal of message lines the peer has not acknowledged,
    and how many lines of the peer's session we took."""

    __slots__ = (
        "acked", "in_count", "in_session", "journal", "out_count", "out_session", "unsent",
    )  # fmt: skip

    def __init__(self) -> None:
        self.out_session: str | None = None
        self.out_count = 0
        self.journal: deque[tuple[int, bytes]] = deque()
        # At a relink: the journals of our sessions the peer may not have heard the end
        # of (the last one, and any whose relink broke before the peer's SESSION came).
        self.unsent: list[tuple[str, deque[tuple[int, bytes]]]] = []
        self.in_session: str | None = None
        self.in_count = 0
        self.acked = 0  # the count we last acknowledged

    def keep(self, line: bytes) -> None:
        self.out_count += 1
        self.journal.append((self.out_count, line))
        if len(self.journal) > JOURNAL_MAX:
            self.journal.popleft()


class Link(User):
    """One connection to a peer server. `block` is its `[[links]]` configuration."""

    __slots__ = (
        "block", "burst_sent", "chaninfo", "flags", "memory", "outgoing", "password_ok",
        "peer_done", "phase", "ping_pending", "services_back", "tagged", "tokens",
    )  # fmt: skip

    def __init__(self, link_id: int, block: LinkBlock, host: str, now: float, outgoing: bool):
        super().__init__(link_id, host, now)
        self.block = block
        self.outgoing = outgoing  # we dialed it
        self.phase = "pass"  # pass -> server -> sync (the enhanced handshake) -> up
        self.password_ok = False
        self.flags = ""  # the peer's IRC+ flags (C, H, M, ...)
        self.tagged = False  # a miniircd peer with the T flag: message tags cross the link
        self.memory: PeerMemory | None = None  # a tags link's, once up (core.resume)
        self.tokens: dict[int, str] = {}  # the peer's server token -> server name
        self.burst_sent = False
        self.chaninfo: dict[str, list[str]] = {}  # folded channel -> its CHANINFO, until NJOIN
        self.peer_done = False  # the peer's burst is over (its closing PING was answered)
        self.ping_pending = False
        self.last_active = now  # the last line the peer sent
        # folded service nick -> when it was introduced again after a KILL (core.service_users)
        self.services_back: dict[str, float] = {}

    @property
    def name(self) -> str:
        return self.block.name

    @property
    def up(self) -> bool:
        return self.phase == "up"

    def __repr__(self) -> str:
        return f"<Link {self.id} {self.block.name} {self.phase}>"

    def take_output(self) -> list[bytes]:
        """Empty the queue into the lines to write to the peer (see the module docstring);
        on a tags link, its message lines go into the journal too (core.resume)."""
        lines = self._translated()
        self.outq.clear()
        if self.memory is not None:
            for line, message in lines:
                if message:
                    self.memory.keep(line)
        return [line for line, _ in lines]

    def queued_messages(self) -> list[bytes]:
        """The message lines still waiting in the queue, as the peer would take them."""
        return [line for line, message in self._translated() if message]

    def _translated(self) -> list[tuple[bytes, bool]]:
        """The queue as lines for the peer, each with whether it is a message line."""
        lines: list[tuple[bytes, bool]] = []
        last: bytes | None = None
        for line in self.outq:
            if isinstance(line, ServerLine):
                lines.append((line, isinstance(line, ResentLine)))
            elif line is not last:  # one message to several users here: once
                converted = _for_peer(line, self.tagged)
                if converted is not None:
                    lines.append(converted)
            last = line
        return lines


def _for_peer(line: bytes, tagged: bool) -> tuple[bytes, bool] | None:
    """A client line for a user behind the link, as the peer takes it, and whether it is a
    message line (core.resume counts those); None to drop it."""
    try:
        msg = parse(line.decode("utf-8", "surrogateescape").rstrip("\r\n"))
    except ParseError:
        return None
    if msg.source is None or not msg.params:
        return None
    if msg.verb.isdigit():
        # a numeric answering the user's query (a remote WHOIS): as it is, without tags
        out = msg.serialize(True, with_tags=False)
        return (out + "\r\n").encode("utf-8", "surrogateescape"), False
    source = msg.source.split("!", 1)[0]
    if tagged and msg.verb in TAGGED_VERBS:
        tags = {k: v for k, v in msg.tags.items() if k not in LOCAL_TAGS}
        params = msg.params[:1] if msg.verb == "TAGMSG" else msg.params[:2]
        out = Message(msg.verb, params, source, tags).serialize(msg.verb != "TAGMSG")
        return (out + "\r\n").encode("utf-8", "surrogateescape"), True
    if msg.verb not in RELAYED_VERBS or len(msg.params) < 2:
        return None
    text = f":{source} {msg.verb} {msg.params[0]} :{msg.params[1]}\r\n"
    return text.encode("utf-8", "surrogateescape"), True
