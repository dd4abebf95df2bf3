"""One history and one inbox for a services network (docs/linking.md, "History and the
inbox across the network").

The services hub's store holds every message (PRIVMSG, NOTICE, a kept TAGMSG) shown
anywhere in the network, with the time and msgid of the server that showed it first;
every other miniircd server of the network keeps a copy of the hub's, so that replay on
JOIN, HISTORY, CHATHISTORY and the inbox read the same rows there, with the same ids, from
its own store (reads never wait for the hub). Channel events (JOIN, PART, ...) stay each
server's own.

A server owes the hub what it showed first (its own users' messages, and an ngIRCd user's,
which reach us without a msgid) and the inbox messages it showed to their account. It
keeps those debts in its store (`handover`) until the hub's copy of the message (STORED)
or its word (KEPT, READ) comes back, and sends them again each time its way to the hub
comes up (SYNC): kept by the server that saw them while the hub is away, stored once.

The lines, on tags links only. A line naming a server goes toward it (through other
miniircd servers); `*` goes to every tags link but the one it came on.

    :<server> KEEP <hub> :<message>           store this, shown first here
    :<hub> KEPT <server> <msgid>               the hub has it already
    :<hub> STORED <server|*> <position> :<message>   in the hub's store, row <position>
    :<server> SYNC <hub> <position> <msgid|*>  the accounts, and the rows after <position>
                                               (the copy of row <position> has <msgid>)
    :<hub> SYNCED <server> <time|*>            that was every row; with a <time>, the rows
                                               were sent from the first: row <position> is
                                               not the one named (a store restored from a
                                               backup), so send back what you hold
    :<server> READ <hub> <msgid>{,<msgid>}     inbox messages shown to their account
    :<hub> READ * <msgid>{,<msgid>}
    :<hub> ACCOUNT <server|*> <name> <created>  an account exists (logins stay the hub's;
                                                ACCOUNTDROP: core.replica_accounts)

`<message>` is a JSON object of the stored row (`_encode`). A copy is inserted only if its
msgid is new here; a row inserted as a copy is remembered for a while (`copied`), so that
the same message arriving live afterwards over a link is still shown to the members here.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from miniircd.core import replica_accounts, replica_rooms, services_link
from miniircd.core.hub_lines import flood, from_hub, hub_of, is_hub, origin_of, pass_on, toward
from miniircd.core.link import Link
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message
from miniircd.store.base import Account, StoredMessage

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")

KEEP, READ = "KEEP", "READ"
FEED_ROWS = 2000  # rows of a catch-up sent per tick and per server
READ_BATCH = 50  # msgids per READ line
COPIED_SECONDS = 30.0  # how long a copy may wait for its live line
RESTORE_MARGIN_MS = 600_000  # what a restored hub is sent again: from this long before its last
NO_PASSWORD = "!"  # an account's copy: never a valid hash (logins are the hub's)


class Feed:
    """A server catching up with the hub's rows: the last one sent, the last one there
    was when it asked, and if its copies were not of our rows, our latest row's time."""

    __slots__ = ("position", "restored", "until")

    def __init__(self, position: int, until: int, restored: int | None) -> None:
        self.position = position
        self.until = until
        self.restored = restored


class Replica:
    """The copying's bookkeeping on one server (see the module docstring)."""

    __slots__ = (
        "accounts", "copied", "feeds", "first", "last_local", "link_id", "live", "rooms", "synced",
    )  # fmt: skip

    def __init__(self) -> None:
        self.copied: dict[str, float] = {}  # msgid -> when inserted as a copy
        self.feeds: dict[str, Feed] = {}  # on the hub: by folded server name
        self.link_id = 0  # elsewhere: the link SYNC went out on (0: not yet)
        self.synced = False  # ... and SYNCED came back on it
        self.first = False  # ... the first SYNC with this hub ever
        self.live = (0, "")  # ... the last flooded row seen before that, and its msgid
        self.last_local = 0  # ... our id of the last copy placed (see `_place_copy`)
        self.rooms: set[str] = set()  # ... rooms the hub named since SYNC (core.replica_rooms)
        self.accounts: set[str] = set()  # ... accounts it named (core.replica_accounts)

    def add(self, server: Server, stored: StoredMessage, unread: bool, first: bool) -> None:
        """Store a message shown here (`first`: by this server first, else it came over a
        tags link with its msgid and time) and tell the hub, or as the hub, every server.
        (A method: core.history calls it through the server, below this module.)"""
        if server.config.services_hub is None:  # no copies: the caller checked its msgid
            server.store.add_message(stored, unread)
            return
        if not first and server.store.message_by_msgid(stored.msgid) is not None:
            return  # a copy of it is here already
        position = server.store.add_message(stored, unread)
        if is_hub(server):
            flood(server, server.name, "STORED", [str(position), _encode(stored, unread)], True)
        elif first:
            server.store.add_handover(KEEP, stored.msgid)
            hub = hub_of(server)
            if hub is not None and self.link_id:
                toward(server, hub, "KEEP", [_encode(stored, unread)], True)


def _encode(stored: StoredMessage, unread: bool) -> str:
    return json.dumps(
        {
            "conversation": stored.conversation, "time": stored.time_ms, "msgid": stored.msgid,
            "verb": stored.verb, "source": stored.source, "account": stored.account,
            "target": stored.target, "recipient": stored.recipient, "text": stored.text,
            "tags": stored.tags, "unread": unread,
        },
        separators=(",", ":"),
        ensure_ascii=False,  # a line's length: UTF-8 text stays as short as it came
    )  # fmt: skip


def _decode(text: str) -> tuple[StoredMessage, bool] | None:
    try:
        f = json.loads(text)
        stored = StoredMessage(
            0, str(f["conversation"]), int(f["time"]), str(f["msgid"]), str(f["verb"]),
            str(f["source"]), _optional(f["account"]), str(f["target"]),
            _optional(f["recipient"]), str(f["text"]), str(f["tags"]),
        )  # fmt: skip
        unread = bool(f["unread"])
    except (ValueError, KeyError, TypeError):
        return None
    if stored.verb not in ("PRIVMSG", "NOTICE", "TAGMSG") or not stored.msgid:
        return None
    return stored, unread


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


# -- storing -----------------------------------------------------------------------------------


def shown_here(server: Server, msgid: str) -> bool:
    """Whether a message that came live over a link was shown here already (a line sent
    again after a relink); a copy that came first does not count, once."""
    if server.store.message_by_msgid(msgid) is None:
        return False
    return server.replica.copied.pop(msgid, None) is None


def _insert_copy(server: Server, stored: StoredMessage, unread: bool) -> int | None:
    """Insert a copy of a row if its msgid is new here; its id, or None."""
    if server.store.message_by_msgid(stored.msgid) is not None:
        return None
    server.replica.copied[stored.msgid] = server.now
    return server.store.add_message(stored, unread)


def _place_copy(server: Server, row: StoredMessage, unread: bool) -> None:
    """Give a copy of the hub's row its place here: after the copies before it, so that
    this server's history is in the hub's order (a query for the latest messages then
    gives the same ones everywhere). A row here already stays if it is placed so (the
    usual case); else it is stored again, at the end, as it stands here (read or not)."""
    replica = server.replica
    existing = server.store.message_by_msgid(row.msgid)
    if existing is not None and existing.id > replica.last_local:
        replica.last_local = existing.id
        return
    if existing is None:
        replica.copied[row.msgid] = server.now
    else:
        row = existing
        unread = bool(server.store.delete_message(existing.id))
    replica.last_local = server.store.add_message(row, unread)


# :<server> KEEP <hub> :<message>
def keep(server: Server, link: Link, msg: Message) -> None:
    origin = origin_of(server, link, msg)
    if origin is None or not pass_on(server, link, msg, True) or not is_hub(server):
        return
    decoded = _decode(msg.params[1])
    if decoded is None:
        log.warning("KEEP from %s: not a message; dropped", origin)
        return
    stored, unread = decoded
    position = _insert_copy(server, stored, unread)
    if position is None:
        toward(server, origin, "KEPT", [stored.msgid])
    else:
        flood(server, server.name, "STORED", [str(position), _encode(stored, unread)], True)


# :<hub> KEPT <server> <msgid>
def kept(server: Server, link: Link, msg: Message) -> None:
    if from_hub(server, link, msg, False):
        server.store.drop_handover(KEEP, msg.params[1])


# :<hub> STORED <server|*> <position> :<message>
def stored(server: Server, link: Link, msg: Message) -> None:
    if len(msg.params) < 3 or not msg.params[1].isdigit() or not from_hub(server, link, msg, True):
        return
    decoded = _decode(msg.params[2])
    if decoded is None:
        return
    row, unread = decoded
    position = int(msg.params[1])
    _place_copy(server, row, unread)
    server.store.drop_handover(KEEP, row.msgid)
    replica = server.replica
    if msg.params[0] != "*" or replica.synced:
        server.store.set_replica_position(msg.source or "", position, row.msgid)
    elif position > replica.live[0]:  # a catch-up may not have reached it yet
        replica.live = (position, row.msgid)
    if unread and row.recipient is not None:
        _deliver_now(server, row.recipient)


def _deliver_now(server: Server, account: str) -> None:
    """An inbox message copied here for an account logged in here (it was stored while
    the hub was away): shown now, as at login."""
    from miniircd.core.commands.history import deliver_unread
    from miniircd.core.session import Session

    for user in server.state.logged_in(account):
        if isinstance(user, Session):
            deliver_unread(server, user)


# -- catching up -------------------------------------------------------------------------------


def tick(server: Server) -> None:
    """Once a second: forget old copies; elsewhere, ask the hub for what we lack when the
    way to it is new; on the hub, send the servers catching up their next rows."""
    replica = server.replica
    if replica.copied:
        old = server.now - COPIED_SECONDS
        for msgid in [m for m, when in replica.copied.items() if when < old]:
            del replica.copied[msgid]
    hub = hub_of(server)
    if hub is not None:
        link = services_link.route(server, hub)
        if link is None:
            replica.link_id, replica.synced = 0, False
        elif link.id != replica.link_id:
            _sync(server, hub, link)
    elif replica.feeds:
        for name, feed in list(replica.feeds.items()):
            _feed(server, name, feed)


def _sync(server: Server, hub: str, link: Link) -> None:
    """The way to the hub is up: ask for what we lack, and hand over what we owe."""
    replica = server.replica
    replica.link_id, replica.synced, replica.live = link.id, False, (0, "")
    replica.accounts = set()
    known = server.store.replica_position(hub)
    replica.first = known is None  # never synced with this hub: what we hold is news to it
    position, last = known or (0, "")
    placed = server.store.message_by_msgid(last) if last else None
    replica.last_local = placed.id if placed is not None else 0
    toward(server, hub, "SYNC", [str(position), last or "*"])
    replica_rooms.hand_over(server, hub)
    owed = [(kind, key) for kind, key in server.store.handovers() if kind in (KEEP, READ)]
    reads: list[str] = []
    for kind, msgid in owed:
        row = server.store.message_by_msgid(msgid)
        if row is None:  # pruned meanwhile: nothing left to hand over
            server.store.drop_handover(kind, msgid)
        elif kind == KEEP:
            toward(server, hub, "KEEP", [_encode(row, _is_unread(server, row))], True)
        else:
            reads.append(msgid)
    _send_reads(server, hub, reads)
    log.info("services hub %s: asked for its rows after %d; handed over %d", hub, position,
             len(owed))  # fmt: skip


def _is_unread(server: Server, row: StoredMessage) -> bool:
    if row.recipient is None:
        return False
    return any(m.msgid == row.msgid for m in server.store.unread(row.recipient))


# :<server> SYNC <hub> <position> <msgid|*>
def sync(server: Server, link: Link, msg: Message) -> None:
    origin = origin_of(server, link, msg)
    if origin is None or not pass_on(server, link, msg, False) or not is_hub(server):
        return
    if not msg.params[1].isdigit():
        return
    for account in server.store.account_list():
        toward(server, origin, "ACCOUNT", [account.name, str(int(account.created))])
    replica_rooms.send_all(server, origin)
    position = int(msg.params[1])
    newest, latest = server.store.newest_message()
    restored = None
    if position:
        row = server.store.message_by_msgid(msg.params[2]) if len(msg.params) > 2 else None
        if row is None or row.id != position:  # not our row: from the first, and tell it
            position, restored = 0, latest
    server.replica.feeds[fold(origin)] = Feed(position, newest, restored)
    _feed(server, fold(origin), server.replica.feeds[fold(origin)])


def _feed(server: Server, name: str, feed: Feed) -> None:
    """The next rows of a catch-up (the rows stored since are flooded as they come)."""
    if services_link.route(server, name) is None:
        del server.replica.feeds[name]  # it left: it asks again when it is back
        return
    rows = server.store.copies_after(feed.position, FEED_ROWS)
    done = len(rows) < FEED_ROWS
    for row, unread in rows:
        if row.id > feed.until:
            done = True
            break
        toward(server, name, "STORED", [str(row.id), _encode(row, unread)], True)
        feed.position = row.id
    if done or feed.position >= feed.until:
        toward(server, name, "SYNCED", [str(feed.restored) if feed.restored is not None else "*"])
        del server.replica.feeds[name]


# :<hub> SYNCED <server> <time|*>
def synced(server: Server, link: Link, msg: Message) -> None:
    if not from_hub(server, link, msg, False):
        return
    replica, hub = server.replica, msg.source or ""
    replica.synced = True
    restored = msg.params[1].isdigit()
    replica_rooms.synced(server, hub, send_back=restored or replica.first)
    replica_accounts.synced(server)
    known = server.store.replica_position(hub) or (0, "")
    server.store.set_replica_position(hub, *max(known, replica.live))  # now known: synced once
    if msg.params[1].isdigit():
        _restore(server, hub, int(msg.params[1]))


def _restore(server: Server, hub: str, latest: int) -> None:
    """The hub's rows are not those we copied: its store was restored from a backup.
    What we hold from about its latest row on goes back to it (it keeps what it lacks)."""
    rows = server.store.copies_since(latest - RESTORE_MARGIN_MS)
    for row, unread in rows:
        toward(server, hub, "KEEP", [_encode(row, unread)], True)
    log.warning("services hub %s lost rows (restored from a backup?): sent it %d", hub, len(rows))


# -- the inbox and the accounts ----------------------------------------------------------------


def read(server: Server, msgids: list[str]) -> None:
    """Inbox messages were shown to their account here: the hub and every server mark
    them read too (so no other server shows them again at a login)."""
    if server.config.services_hub is None or not msgids:
        return
    if is_hub(server):
        for start in range(0, len(msgids), READ_BATCH):
            flood(server, server.name, READ, [",".join(msgids[start : start + READ_BATCH])], False)
        return
    for msgid in msgids:
        server.store.add_handover(READ, msgid)
    hub = hub_of(server)
    if hub is not None and server.replica.link_id:
        _send_reads(server, hub, msgids)


def _send_reads(server: Server, hub: str, msgids: list[str]) -> None:
    for start in range(0, len(msgids), READ_BATCH):
        toward(server, hub, READ, [",".join(msgids[start : start + READ_BATCH])])


# :<server> READ <hub> <msgid>{,<msgid>}   |   :<hub> READ * <msgid>{,<msgid>}
def read_(server: Server, link: Link, msg: Message) -> None:
    origin = origin_of(server, link, msg)
    if origin is None:
        return
    msgids = [m for m in msg.params[1].split(",") if m][:READ_BATCH]
    if msg.params[0] == "*":
        if from_hub(server, link, msg, False):
            server.store.mark_read_msgids(msgids)
            for msgid in msgids:
                server.store.drop_handover(READ, msgid)
        return
    if pass_on(server, link, msg, False) and is_hub(server):
        server.store.mark_read_msgids(msgids)
        read(server, msgids)


def account_made(server: Server, account: Account) -> None:
    """An account was created on the hub: every server learns its name."""
    if is_hub(server):
        flood(server, server.name, "ACCOUNT", [account.name, str(int(account.created))], False)


# :<hub> ACCOUNT <server|*> <name> <created>
def account(server: Server, link: Link, msg: Message) -> None:
    if len(msg.params) < 3 or not from_hub(server, link, msg, False):
        return
    name, created = msg.params[1], msg.params[2]
    server.replica.accounts.add(fold(name))
    if services_link.fits(name) and created.isdigit() and server.store.get_account(name) is None:
        server.store.create_account(Account(name, NO_PASSWORD, None, float(created)))
