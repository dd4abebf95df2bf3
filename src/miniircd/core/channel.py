"""A channel's state: members with their prefixes, modes, topic, lists.

Invariants: `members` maps each member Session to its set of prefix modes (`o`, `v`);
a Session is in `channel.members` exactly when the channel is in `session.channels`
(under its folded name); `key` is set exactly when mode `k` is on, `limit` when `l` is.
"""

from __future__ import annotations

from miniircd.core.session import Session

PREFIXES = (("o", "@"), ("v", "+"))  # highest first
PREFIX_OF = dict(PREFIXES)


class Channel:
    __slots__ = (
        "bans",
        "created",
        "invited",
        "key",
        "limit",
        "members",
        "modes",
        "name",
        "topic",
        "topic_by",
        "topic_time",
    )

    def __init__(self, name: str, now: float) -> None:
        self.name = name
        self.created = int(now)
        self.members: dict[Session, set[str]] = {}
        self.modes: set[str] = {"n", "t"}
        self.key: str | None = None
        self.limit: int | None = None
        self.topic = ""
        self.topic_by = ""
        self.topic_time = 0
        self.bans: dict[str, tuple[str, int]] = {}  # mask -> (set by, time)
        self.invited: set[str] = set()  # folded nicks

    def is_op(self, session: Session) -> bool:
        return "o" in self.members.get(session, ())

    def prefix(self, session: Session, multi: bool = False) -> str:
        """The member's prefix chars: the highest only, or all of them with multi-prefix."""
        ranks = self.members.get(session, ())
        chars = [char for mode, char in PREFIXES if mode in ranks]
        return "".join(chars) if multi else "".join(chars[:1])
