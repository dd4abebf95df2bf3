"""Everything the client remembers about its connection, and the operations in flight.

Theory of operation: the client keeps no data of its own (the server keeps accounts, rooms
and messages); it tracks who it is (nick, account), where it is (joined rooms, the current
room), what the server offers (capabilities, ISUPPORT), and the *pending operations*: each
user command that waits for the server is a `Pending` in `ClientState.pending`, in the order
sent. Replies are matched to it (by verb, target or kind) so that one user command gets one
user-facing answer. Invariants:

- `phase` is DISCONNECTED exactly when there is no connection; then `pending`, `joined`,
  `current`, `account` and the caches are empty;
- `current` is None or one of the rooms in `joined`;
- names are compared folded (rfc1459), and stored as the server spells them.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from miniircd.protocol.casemap import fold, is_valid_channel, is_valid_nick

__all__ = ["SERVICES", "ClientState", "Pending", "Phase", "Replay", "RoomInfo", "UsageError"]

SERVICES = frozenset({"nickserv", "chanserv", "memoserv"})
PASSWORD_MIN, PASSWORD_MAX = 8, 128


class UsageError(Exception):
    """Raised by a command handler given the wrong arguments: the table shows the usage."""


class Phase(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"  # socket asked for or open, welcome burst not over
    READY = "ready"  # 376/422 seen: commands go straight to the server


@dataclass
class Pending:
    """A user command waiting for the server.

    `kind` names the command (`join`, `login`...), `verb` the IRC command whose refusals
    (421, 461, FAIL <verb>) end it, `targets` the folded names still awaited, `stage` the
    step for commands of several steps (`check` = LIST before JOIN; `nick` = NICK first).
    """

    kind: str
    verb: str
    targets: list[str] = field(default_factory=list)
    stage: str = ""
    arg: str = ""
    secret: str = ""
    count: int = 0
    seq: int = 0


@dataclass
class Replay:
    """Stored messages on their way (a chathistory batch, or between NOTICE markers)."""

    label: str
    empty: str
    op: Pending | None
    shown: int = 0


@dataclass(frozen=True)
class RoomInfo:
    name: str
    users: int
    topic: str


class ClientState:
    def __init__(self, nick: str, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.guest_nick = nick  # the nick used while not logged in
        self.seq = 0
        self.reset()

    def reset(self) -> None:
        """Back to DISCONNECTED, forgetting everything learnt from the server."""
        self.phase = Phase.DISCONNECTED
        self.server = ""
        self.nick = self.guest_nick
        self.wanted_nick = ""
        self.account: str | None = None
        self.nick_tries = 0
        self.caps_offered: dict[str, str] = {}
        self.caps: set[str] = set()
        self.cap_negotiating = False
        self.isupport: dict[str, str] = {}
        self.joined: dict[str, str] = {}  # folded -> name, in the order joined
        self.current: str | None = None
        self.rooms: dict[str, RoomInfo] = {}  # folded -> info, from the last LIST
        self.list_buffer: list[RoomInfo] = []
        self.names_buffer: dict[str, list[str]] = {}
        self.topics: dict[str, str] = {}
        self.bursting: set[str] = set()  # rooms whose JOIN burst is arriving
        self.pending: list[Pending] = []
        self.batches: dict[str, Replay] = {}
        self.marker_replays: dict[str, Replay] = {}  # folded NOTICE target -> replay
        self.queued: list[str] = []  # commands typed before the connection was ready
        self.pm_targets: set[str] = set()  # folded nicks we sent personal messages to

    # --- time, names, limits -------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def is_me(self, nick: str) -> bool:
        return fold(nick) == fold(self.nick)

    def limit(self, token: str, default: int) -> int:
        value = self.isupport.get(token, "")
        return int(value) if value.isdigit() and int(value) > 0 else default

    def valid_user(self, name: str) -> bool:
        return is_valid_nick(name, self.limit("NICKLEN", 30)) and fold(name) not in SERVICES

    def valid_room(self, name: str) -> bool:
        return is_valid_channel(name, self.limit("CHANNELLEN", 50))

    def targmax(self, verb: str) -> int:
        """Targets per line for `verb` from TARGMAX; 1 when the server does not say."""
        for item in self.isupport.get("TARGMAX", "").split(","):
            name, _, value = item.partition(":")
            if name.upper() == verb:
                return int(value) if value.isdigit() else 100
        return 1

    # --- rooms ---------------------------------------------------------------------------

    def in_room(self, name: str) -> bool:
        return fold(name) in self.joined

    def add_room(self, name: str) -> None:
        self.joined[fold(name)] = name
        self.current = name

    def remove_room(self, name: str) -> str | None:
        """Forget a joined room; returns the new current room when it changed to another."""
        self.joined.pop(fold(name), None)
        self.names_buffer.pop(fold(name), None)
        if self.current is not None and fold(self.current) == fold(name):
            self.current = next(reversed(self.joined.values()), None)
            return self.current
        return None

    # --- pending operations --------------------------------------------------------------

    def start(
        self, kind: str, verb: str, targets: list[str] | None = None, **extra: str
    ) -> Pending:
        self.seq += 1
        op = Pending(kind, verb, [fold(t) for t in targets or []], seq=self.seq)
        op.stage = extra.get("stage", "")
        op.arg = extra.get("arg", "")
        op.secret = extra.get("secret", "")
        self.pending.append(op)
        return op

    def find(self, kind: str | tuple[str, ...], target: str | None = None) -> Pending | None:
        """The oldest pending operation of that kind (awaiting that target, if given)."""
        kinds = (kind,) if isinstance(kind, str) else kind
        for op in self.pending:
            if op.kind in kinds and (target is None or fold(target) in op.targets):
                return op
        return None

    def done(self, op: Pending) -> None:
        if op in self.pending:
            self.pending.remove(op)

    # --- the prompt ----------------------------------------------------------------------

    def prompt(self) -> str:
        """`alice #room> `: who is logged in and the current room."""
        if self.phase is Phase.DISCONNECTED:
            return "(not connected)> "
        if self.phase is Phase.CONNECTING:
            return "(connecting)> "
        who = self.account if self.account else "(guest)"
        return f"{who} {self.current}> " if self.current else f"{who}> "
