"""One client connection's state, as the core sees it.

Invariants: `nick` is None until the client has sent a valid NICK; `registered` becomes
True once (after NICK, USER, any CAP negotiation and a correct server password) and never
goes back; `outq` holds serialized lines not yet handed to the network layer.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from miniircd.core.channel import Channel


class Session:
    __slots__ = (
        "account",
        "answer_label",
        "answer_lines",
        "away",
        "backlog",
        "busy",
        "cap_negotiating",
        "cap_version",
        "caps",
        "channels",
        "closing",
        "connected_at",
        "flood_stamp",
        "flood_tokens",
        "host",
        "id",
        "last_active",
        "last_seen",
        "modes",
        "monitoring",
        "nick",
        "nick_deadline",
        "nick_refused",
        "outq",
        "password",
        "ping_pending",
        "quit_line",
        "read_markers",
        "realname",
        "registered",
        "sasl_buffer",
        "sasl_mechanism",
        "tag_caps",
        "user",
    )

    def __init__(self, session_id: int, host: str, now: float) -> None:
        self.id = session_id
        self.host = host
        self.nick: str | None = None
        self.user: str | None = None
        self.realname = ""
        self.registered = False
        self.cap_negotiating = False
        self.cap_version = 0
        self.caps: set[str] = set()
        self.tag_caps: frozenset[str] = frozenset()  # the caps that change how lines look
        self.password: str | None = None
        self.account: str | None = None
        self.away: str | None = None
        self.modes: set[str] = set()
        self.channels: dict[str, Channel] = {}
        self.monitoring: dict[str, str] = {}  # MONITOR list: folded nick -> nick as given
        self.read_markers: dict[str, int] = {}  # MARKREAD while not logged in: key -> ms
        self.connected_at = now
        self.last_seen = now
        self.last_active = now
        self.ping_pending = False
        self.closing = False
        self.busy = 0  # work off the loop it waits on; its later lines wait too (core.flood)
        self.quit_line: bytes | None = None  # a QUIT that waits for the job (core.server)
        self.answer_label: str | None = None  # labeled-response: the label, and the lines
        self.answer_lines: list[bytes] = []  # sent so far, of the command that waits
        self.flood_tokens = 0.0  # see core.flood
        self.flood_stamp = now
        self.backlog: deque[bytes] | None = None  # lines not yet handled (core.flood)
        self.nick_refused: str | None = None  # the last NICK refused as in use (433)
        self.nick_deadline: float | None = None  # when a protected nick must be identified
        self.sasl_mechanism: str | None = None
        self.sasl_buffer = ""
        self.outq: list[bytes] = []

    @property
    def name(self) -> str:
        """The nick as used in numerics: `*` before one is set."""
        return self.nick or "*"

    @property
    def prefix(self) -> str:
        """`nick!user@host`, the source of this client's messages."""
        return f"{self.nick}!{self.user}@{self.host}"

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.name}>"
