"""A channel's state: members with their prefixes, modes, topic, lists, founder.

The lists are `bans` (+b), `excepts` (+e) and `invex` (+I), each mask -> (set by, time);
what their masks match is core.masks' business.

Invariants: `members` maps each member (a core.user.User) to its set of prefix modes (`o`, `v`);
a user is in `channel.members` exactly when the channel is in `user.channels`
(under its folded name); `key` is set exactly when mode `k` is on, `limit` when `l` is.
A channel with a `founder` (an account) is registered: it is stored, and it exists while
empty; one without is a classic IRC channel that goes away with its last member.
"""

from __future__ import annotations

from miniircd.core import masks
from miniircd.core.user import User
from miniircd.protocol.casemap import fold
from miniircd.store.base import RoomRecord

PREFIXES = (("o", "@"), ("v", "+"))  # highest first
PREFIX_OF = dict(PREFIXES)


class Channel:
    __slots__ = (
        "bans",
        "created",
        "excepts",
        "founder",
        "invex",
        "invited",
        "key",
        "limit",
        "members",
        "metadata",
        "modes",
        "name",
        "topic",
        "topic_by",
        "topic_time",
    )

    def __init__(self, name: str, now: float) -> None:
        self.name = name
        self.created = int(now)
        self.members: dict[User, set[str]] = {}
        self.modes: set[str] = {"n", "t"}
        self.key: str | None = None
        self.limit: int | None = None
        self.topic = ""
        self.topic_by = ""
        self.topic_time = 0
        self.bans: dict[str, tuple[str, int]] = {}  # mask -> (set by, time)
        self.excepts: dict[str, tuple[str, int]] = {}  # +e, the same
        self.invex: dict[str, tuple[str, int]] = {}  # +I, the same
        self.invited: set[str] = set()  # folded nicks
        self.founder: str | None = None
        self.metadata: dict[str, str] = {}  # METADATA key -> value (core.metadata)

    def to_record(self) -> RoomRecord:
        assert self.founder is not None
        return RoomRecord(
            self.name, self.founder, self.created, self.topic, self.topic_by, self.topic_time,
            "".join(sorted(self.modes)), self.key, self.limit,
            [(mask, by, when) for mask, (by, when) in self.bans.items()],
            [(mask, by, when) for mask, (by, when) in self.excepts.items()],
            [(mask, by, when) for mask, (by, when) in self.invex.items()],
        )  # fmt: skip

    @classmethod
    def from_record(cls, room: RoomRecord) -> Channel:
        channel = cls(room.name, room.created)
        channel.founder = room.founder
        channel.topic, channel.topic_by, channel.topic_time = (
            room.topic, room.topic_by, room.topic_time,
        )  # fmt: skip
        channel.modes = set(room.modes)
        channel.key, channel.limit = room.key, room.limit
        channel.bans = {mask: (by, when) for mask, by, when in room.bans}
        channel.excepts = {mask: (by, when) for mask, by, when in room.excepts}
        channel.invex = {mask: (by, when) for mask, by, when in room.invex}
        return channel

    def is_op(self, session: User) -> bool:
        return "o" in self.members.get(session, ())

    def prefix(self, session: User, multi: bool = False) -> str:
        """The member's prefix chars: the highest only, or all of them with multi-prefix."""
        ranks = self.members.get(session, ())
        chars = [char for mode, char in PREFIXES if mode in ranks]
        return "".join(chars) if multi else "".join(chars[:1])

    def is_founder(self, session: User) -> bool:
        founder, account = self.founder, session.account
        return founder is not None and account is not None and fold(founder) == fold(account)

    def visible_to(self, session: User) -> bool:
        """Secret channels exist only for their members."""
        return "s" not in self.modes or session in self.members

    def list_of(self, mode: str) -> dict[str, tuple[str, int]]:
        """The list behind list mode `mode` (b, e or I)."""
        if mode == "e":
            return self.excepts
        if mode == "I":
            return self.invex
        return self.bans

    def list_size(self) -> int:
        """Entries on all the lists together: what MAXLIST bounds."""
        return len(self.bans) + len(self.excepts) + len(self.invex)

    def is_banned(self, session: User) -> bool:
        """Kept out: a ban matches and no ban exception does (mutes do not keep out)."""
        return masks.is_banned(self.bans, self.excepts, session)

    def is_invite_excepted(self, session: User) -> bool:
        """An invite exception (+I) lets the user into a +i channel uninvited."""
        return masks.is_invite_excepted(self.invex, session)

    def can_speak(self, session: User) -> bool:
        """+n keeps outsiders out; +m, bans and mutes silence all but voiced members and
        ops; a ban exception lifts bans and mutes."""
        ranks = self.members.get(session)
        if ranks:
            return True
        closed_to = "n" if ranks is None else "m"  # outsiders need -n, plain members -m
        if closed_to in self.modes:
            return False
        muted = masks.is_muted(self.bans, self.excepts, session)
        return not muted and not self.is_banned(session)
