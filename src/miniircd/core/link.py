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
"""

from __future__ import annotations

from miniircd.config import LinkBlock
from miniircd.core.serverline import ServerLine
from miniircd.core.user import User
from miniircd.protocol.message import ParseError, parse

# Verbs a client line for a user behind a link may carry across it.
RELAYED_VERBS = frozenset({"PRIVMSG", "NOTICE"})


class RemoteServer:
    __slots__ = ("hops", "info", "link_id", "name", "token", "uplink")

    def __init__(
        self, name: str, hops: int, info: str, link_id: int, uplink: str, token: int
    ) -> None:
        self.name = name
        self.hops = hops
        self.info = info
        self.link_id = link_id  # the link it is reached through
        self.uplink = uplink  # the server that introduced it
        self.token = token  # the peer's token for it (1: the peer itself)


class Link(User):
    """One connection to a peer server. `block` is its `[[links]]` configuration."""

    __slots__ = (
        "block", "burst_sent", "chaninfo", "flags", "outgoing", "password_ok", "peer_done",
        "phase", "ping_pending", "tokens",
    )  # fmt: skip

    def __init__(self, link_id: int, block: LinkBlock, host: str, now: float, outgoing: bool):
        super().__init__(link_id, host, now)
        self.block = block
        self.outgoing = outgoing  # we dialed it
        self.phase = "pass"  # pass -> server -> sync (the enhanced handshake) -> up
        self.password_ok = False
        self.flags = ""  # the peer's IRC+ flags (C, H, M, ...)
        self.tokens: dict[int, str] = {}  # the peer's server token -> server name
        self.burst_sent = False
        self.chaninfo: dict[str, list[str]] = {}  # folded channel -> its CHANINFO, until NJOIN
        self.peer_done = False  # the peer's burst is over (its closing PING was answered)
        self.ping_pending = False
        self.last_active = now  # the last line the peer sent

    @property
    def name(self) -> str:
        return self.block.name

    @property
    def up(self) -> bool:
        return self.phase == "up"

    def __repr__(self) -> str:
        return f"<Link {self.id} {self.block.name} {self.phase}>"

    def take_output(self) -> list[bytes]:
        """Empty the queue into the lines to write to the peer (see the module docstring)."""
        lines: list[bytes] = []
        last: bytes | None = None
        for line in self.outq:
            if isinstance(line, ServerLine):
                lines.append(line)
            elif line is not last:  # one message to several users here: once
                converted = _for_peer(line)
                if converted is not None:
                    lines.append(converted)
            last = line
        self.outq.clear()
        return lines


def _for_peer(line: bytes) -> bytes | None:
    """A client line for a user behind the link, as the peer takes it; None to drop it."""
    try:
        msg = parse(line.decode("utf-8", "surrogateescape").rstrip("\r\n"))
    except ParseError:
        return None
    if msg.verb.isdigit() and msg.source is not None and msg.params:
        # a numeric answering the user's query (a remote WHOIS): as it is, without tags
        text = msg.serialize(True, with_tags=False) + "\r\n"
        return text.encode("utf-8", "surrogateescape")
    if msg.verb not in RELAYED_VERBS or msg.source is None or len(msg.params) < 2:
        return None
    source = msg.source.split("!", 1)[0]
    text = f":{source} {msg.verb} {msg.params[0]} :{msg.params[1]}\r\n"
    return text.encode("utf-8", "surrogateescape")
