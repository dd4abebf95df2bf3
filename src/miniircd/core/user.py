"""A user, wherever its connection is: what the tables, channels and replies need of it.

A local connection is one kind of user (`core.session.Session`, with its socket-side
state: flood control, the backlog, capability negotiation, SASL). A user whose connection
is on another server (`RemoteUser`) sits in the same tables without any of that, so NAMES,
WHO, WHOIS, MONITOR and PRIVMSG treat both alike.

`outq` is where the serialized lines for the user are queued: a session's own queue,
which the network layer writes to its socket; for a remote user, the one queue of the
server link it is reached through, shared by every user behind that link, which the link
relays (core.link: `via` is the id of that link).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from miniircd.core.channel import Channel


class User:
    __slots__ = (
        "account", "away", "caps", "channels", "closing", "connected_at", "hops", "host",
        "id", "last_active", "metadata", "metadata_subs", "modes", "monitoring", "nick",
        "nick_since", "outq", "realname", "registered", "server", "tag_caps", "user",
    )  # fmt: skip

    def __init__(self, user_id: int, host: str, now: float) -> None:
        self.id = user_id
        self.host = host
        self.nick: str | None = None
        self.nick_since = now  # when it took its nick: what it said before is not its own
        self.user: str | None = None
        self.realname = ""
        self.registered = False
        self.account: str | None = None
        self.away: str | None = None
        self.modes: set[str] = set()
        self.channels: dict[str, Channel] = {}
        self.monitoring: dict[str, str] = {}  # MONITOR list: folded nick -> nick as given
        self.metadata: dict[str, str] = {}  # METADATA key -> value (core.metadata)
        self.metadata_subs: set[str] = set()  # METADATA keys it subscribed to
        self.caps: set[str] = set()
        self.tag_caps: frozenset[str] = frozenset()  # the caps that change how lines look
        self.connected_at = now
        self.last_active = now
        self.closing = False
        self.outq: list[bytes] = []
        self.server: str | None = None  # the server it is connected to; None: this one
        self.hops = 0  # servers between that one and this

    @property
    def name(self) -> str:
        """The nick as used in numerics: `*` before one is set."""
        return self.nick or "*"

    @property
    def prefix(self) -> str:
        """`nick!user@host`, the source of this user's messages."""
        return f"{self.nick}!{self.user}@{self.host}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.name}>"


class RemoteUser(User):
    """A user connected to another server of the network, `hops` links away. Its server
    introduces it already registered: `State.add`, `claim_nick` and `register` take it
    in. Its idle time is its own server's to know."""

    __slots__ = ("network_account", "via")

    def __init__(
        self, user_id: int, user: str, host: str, realname: str, server: str, now: float,
        relay: list[bytes], hops: int = 1, via: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(user_id, host, now)
        self.user, self.realname = user, realname
        self.server, self.hops = server, hops
        self.outq = relay  # the queue of the link it is reached through, not its own
        self.via = via  # the id of that link (core.link.Link); 0: none
        # Its account is one of ours too: its server and this one share a services hub
        # (core.replica); otherwise an account of its own server's, not ours.
        self.network_account = False
