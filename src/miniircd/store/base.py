"""The store interface the core uses: accounts, registered rooms, history, the inbox,
read markers and METADATA.

Writes made while handling a loop turn belong to one transaction; the network layer calls
`commit` at the end of the turn, before anything is sent, so nothing a client has seen can
be lost in a crash.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Account:
    name: str  # as registered; lookups fold it with rfc1459 casemapping
    password_hash: str
    email: str | None
    created: float
    scram: str | None = None  # SCRAM-SHA-256 record (store.passwords); None until made


@dataclass(slots=True)
class RoomRecord:
    """A registered room as stored: what survives a restart."""

    name: str
    founder: str
    created: int
    topic: str = ""
    topic_by: str = ""
    topic_time: int = 0
    modes: str = "nt"
    key: str | None = None
    limit: int | None = None
    bans: list[tuple[str, str, int]] = field(default_factory=list)  # (mask, set by, time)
    excepts: list[tuple[str, str, int]] = field(default_factory=list)  # +e, the same
    invex: list[tuple[str, str, int]] = field(default_factory=list)  # +I, the same


# The verbs of the rows that are messages; the other rows of the history are channel events
# (JOIN, PART, KICK, QUIT, TOPIC, NICK: see `core.events`) and redacted messages (REDACT).
MESSAGE_VERBS = ("PRIVMSG", "NOTICE")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One PRIVMSG or NOTICE as kept in history, or a channel event (`verb` says which;
    an event keeps its parameters as a JSON list in `text`), or what is left of a
    redacted message (`verb` REDACT, no text)."""

    id: int
    conversation: str  # folded channel name, or the two folded parties of a private chat
    time_ms: int
    msgid: str
    verb: str
    source: str  # nick!user@host of the sender
    account: str | None  # the sender's account
    target: str  # the channel, or the recipient as addressed
    recipient: str | None  # folded recipient account of a private message
    text: str
    tags: str  # the client-only tags, in wire form without the '@'


# A bound of a history query: ("id", message id) or ("time", milliseconds since the epoch).
Bound = tuple[str, int]


class Store(Protocol):
    def get_account(self, name: str) -> Account | None: ...

    def create_account(self, account: Account) -> bool:
        """Add the account; False (and nothing written) if the name is taken."""
        ...

    def set_password(self, name: str, password_hash: str, scram: str | None = None) -> None:
        """Replace the password hash and the SCRAM record (None: the account has none)."""
        ...

    def set_scram(self, name: str, password_hash: str, scram: str) -> bool:
        """Give the account a SCRAM record, only if its password hash is still
        `password_hash` (the record was made from that password); whether it was."""
        ...

    def secret(self, name: str) -> bytes:
        """A random 32-byte key kept in the database under `name`, made on first use."""
        ...

    def delete_account(self, name: str) -> None:
        """Remove the account, with its read markers, login tokens and METADATA."""
        ...

    def add_login_token(self, account: str, token_hash: str, created: float, keep: int) -> None:
        """Keep a login token's hash for `account`; only its `keep` newest tokens stay."""
        ...

    def login_tokens(self, account: str) -> list[str]:
        """The hashes of the account's login tokens."""
        ...

    def delete_login_tokens(self, account: str, token_hash: str | None = None) -> int:
        """Forget one login token of `account` (None: all of them); how many went."""
        ...

    def load_rooms(self) -> list[RoomRecord]: ...

    def save_room(self, room: RoomRecord) -> None: ...

    def delete_room(self, name: str) -> None:
        """Forget the registered room, with its METADATA."""
        ...

    def rename_room(self, old: str, new: str) -> None:
        """Everything kept under the room named `old` now belongs to the room named `new`
        (checked free by the caller, or `old` in another case): its registration if it has
        one, its history (each message's conversation and target) and the read markers
        on it. Messages and markers already kept under `new`, from an earlier room of that
        name, stay: the history goes with the name, as it would for a room made anew.
        Rooms and messages are found through their indexes (the messages are as many as
        history retention keeps); the read markers, keyed by account first, are scanned:
        a rename is rare, and an index for it would cost every marker write."""
        ...

    def add_message(self, message: StoredMessage, unread: bool) -> int:
        """Store a message (its `id` is ignored); return the id it was given."""
        ...

    def messages(
        self,
        conversation: str,
        after: Bound | None = None,
        before: Bound | None = None,
        limit: int = 50,
        ascending: bool = True,
        verbs: Collection[str] | None = MESSAGE_VERBS,
    ) -> list[StoredMessage]:
        """Rows strictly between the bounds, oldest first, of the given verbs (None: of
        every verb). With `ascending` False the `limit` newest of them are chosen (still
        returned oldest first)."""
        ...

    def message_by_msgid(self, msgid: str) -> StoredMessage | None:
        """The row with this msgid, of any verb."""
        ...

    def redact(self, message_id: int) -> None:
        """Forget a message's text and tags; its row stays as a REDACT placeholder (still a
        place in its conversation's order, out of every inbox)."""
        ...

    def latest_messages(
        self,
        conversations: Collection[str],
        party: str | None,
        after_ms: int,
        before_ms: int,
        limit: int,
        newest: bool,
    ) -> list[StoredMessage]:
        """The latest message (PRIVMSG or NOTICE) of each conversation that is in
        `conversations` or, when `party` is given, is a private conversation with `party`
        as one of its two parties;
        only those whose latest message falls strictly between the two times. Of these the
        `limit` earliest are chosen, or the `limit` latest with `newest`; oldest first."""
        ...

    def unread(self, account: str) -> list[StoredMessage]:
        """Private messages to `account` not yet delivered, oldest first."""
        ...

    def unread_count(self, account: str) -> int:
        """How many private messages to `account` wait undelivered."""
        ...

    def mark_read(self, ids: list[int]) -> None: ...

    def mark_read_until(self, account: str, conversation: str, time_ms: int) -> int:
        """Mark the unread messages to `account` in `conversation` sent at or before
        `time_ms` as read; return how many were."""
        ...

    def newest_message(self) -> tuple[int, int]:
        """The highest id a row of the history has, and the latest time (0, 0: none)."""
        ...

    def copies_since(self, time_ms: int) -> list[tuple[StoredMessage, bool]]:
        """The messages (as `copies_after`) of a time after `time_ms`, by id."""
        ...

    def copies_after(self, position: int, limit: int) -> list[tuple[StoredMessage, bool]]:
        """The `limit` oldest messages (PRIVMSG, NOTICE, TAGMSG: no channel events) with an
        id above `position`, each with whether it is unread (core.replica)."""
        ...

    def mark_read_msgids(self, msgids: Collection[str]) -> list[str]:
        """Mark the unread messages with these msgids as read; return those that were."""
        ...

    def delete_message(self, message_id: int) -> bool | None:
        """Delete a row; whether it was unread (None: there was none)."""
        ...

    def add_handover(self, kind: str, msgid: str) -> None:
        """Remember that the services hub is owed `kind` (KEEP, READ) of message `msgid`."""
        ...

    def handovers(self) -> list[tuple[str, str]]:
        """What the hub is owed, (kind, msgid), in the order it was added."""
        ...

    def drop_handover(self, kind: str, msgid: str) -> bool:
        """The hub has it: forget it. False if it was not owed."""
        ...

    def replica_position(self, hub: str) -> tuple[int, str] | None:
        """The id in `hub`'s store of the last of its messages copied here, and its msgid
        ((0, ""): none); None if this server never caught up with `hub`."""
        ...

    def set_replica_position(self, hub: str, position: int, msgid: str) -> None: ...

    def account_list(self) -> list[Account]:
        """Every account, oldest first."""
        ...

    def personal(self, account: str, limit: int) -> list[StoredMessage]:
        """The `limit` newest private messages to `account`, oldest first."""
        ...

    def prune(self, max_per_conversation: int, older_than_ms: int) -> int:
        """Drop rows past the retention limits; return how many went. Each conversation
        keeps its `max_per_conversation` newest messages, the other rows between them, and
        at most `max_per_conversation` other rows besides."""
        ...

    def read_marker(self, account: str, target: str) -> int | None:
        """When `account` last read `target` (ms since the epoch), or None if never said.
        `target` is a key as the history forms them: a folded room name, or the other
        party of a private conversation (see `core.history.party`)."""
        ...

    def set_read_marker(self, account: str, target: str, time_ms: int) -> None:
        """Store the read marker (the caller keeps it moving forward only)."""
        ...

    def metadata(self, kind: str, owner: str) -> dict[str, str]:
        """The METADATA kept for `owner` (an account if `kind` is "account", a registered
        room if "room"; matched folded), key -> value, by key."""
        ...

    def all_metadata(self, kind: str) -> dict[str, dict[str, str]]:
        """Every owner's METADATA of one `kind`: folded owner -> key -> value."""
        ...

    def set_metadata(self, kind: str, owner: str, key: str, value: str | None) -> None:
        """Keep `value` under `key` for `owner`; None forgets the key."""
        ...

    def commit(self) -> None: ...

    def close(self) -> None: ...
