"""The SQLite store: every SQL query of the server lives in this module (the schema's
statements in `store.schema`).

The database is `<data dir>/miniircd.sqlite3` in WAL mode. Its schema is
`store.schema.MIGRATIONS`, run in order at open up to the version the database lacks.
Writes open a transaction lazily and `commit` ends it, once per loop turn.
synchronous=NORMAL in WAL mode survives a crash of the process (kill -9) without losing a
committed turn; a power cut may lose the last moments.

Checkpoints (copying the WAL into the database file, with an fsync) would otherwise run
inside whichever commit crosses SQLite's 1,000-page mark, a pause of milliseconds in the
middle of a loop turn. They run on a thread of the store's own instead (`Checkpointer`),
with its own connection, once a second; SQLite's automatic ones are off.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Collection
from pathlib import Path

from miniircd.protocol.casemap import fold
from miniircd.store.base import MESSAGE_VERBS, Account, Bound, RoomRecord, StoredMessage
from miniircd.store.schema import MIGRATIONS, statements

log = logging.getLogger("miniircd.store")

DB_NAME = "miniircd.sqlite3"


_MESSAGE_COLUMNS = (
    "id, conversation, time_ms, msgid, verb, source, account, target, recipient, text, tags"
)
_BOUND_COLUMNS = {"id": "id", "time": "time_ms"}
_IS_MESSAGE = f"verb IN ({', '.join(repr(verb) for verb in MESSAGE_VERBS)})"
CHECKPOINT_SECONDS = 1.0


class Checkpointer:
    """A thread that checkpoints the WAL of the database at `path` every `interval`
    seconds. PASSIVE checkpoints never wait for the writer, nor it for them; the sqlite3
    module lets go of the GIL while SQLite works, so the loop goes on meanwhile."""

    def __init__(self, path: str, interval: float = CHECKPOINT_SECONDS) -> None:
        self.path = path
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="miniircd-checkpoint", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            while not self.stopped.wait(self.interval):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # the next one may do; the WAL only grows
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            db.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


class SqliteStore:
    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()
        self.checkpointer: Checkpointer | None = None
        if str(path) != ":memory:":
            self.db.execute("PRAGMA wal_autocheckpoint=0")
            self.checkpointer = Checkpointer(str(path))

    @classmethod
    def in_dir(cls, data_dir: Path) -> SqliteStore:
        return cls(data_dir / DB_NAME)

    def _migrate(self) -> None:
        version: int = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"{self.path} has schema version {version}, newer than this miniircd knows"
            )
        for index in range(version, len(MIGRATIONS)):
            self.db.execute("BEGIN")
            for statement in statements(MIGRATIONS[index]):
                self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {index + 1}")
            self.db.execute("COMMIT")

    def _write(self, sql: str, params: tuple[object, ...]) -> sqlite3.Cursor:
        if not self.db.in_transaction:
            self.db.execute("BEGIN")
        return self.db.execute(sql, params)

    # -- accounts ----------------------------------------------------------------------------

    def get_account(self, name: str) -> Account | None:
        row = self.db.execute(
            "SELECT name, password_hash, email, created, scram FROM accounts WHERE folded = ?",
            (fold(name),),
        ).fetchone()
        return Account(*row) if row else None

    def create_account(self, account: Account) -> bool:
        cursor = self._write(
            "INSERT OR IGNORE INTO accounts (folded, name, password_hash, email, created, scram)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (fold(account.name), account.name, account.password_hash, account.email,
             account.created, account.scram),
        )  # fmt: skip
        return cursor.rowcount == 1

    def set_password(self, name: str, password_hash: str, scram: str | None = None) -> None:
        self._write(
            "UPDATE accounts SET password_hash = ?, scram = ? WHERE folded = ?",
            (password_hash, scram, fold(name)),
        )

    def set_scram(self, name: str, password_hash: str, scram: str) -> bool:
        cursor = self._write(
            "UPDATE accounts SET scram = ? WHERE folded = ? AND password_hash = ?",
            (scram, fold(name), password_hash),
        )
        return cursor.rowcount == 1

    def secret(self, name: str) -> bytes:
        row = self.db.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return bytes(row[0])
        value = secrets.token_bytes(32)
        self._write("INSERT INTO secrets (name, value) VALUES (?, ?)", (name, value))
        return value

    def delete_account(self, name: str) -> None:
        self._write("DELETE FROM accounts WHERE folded = ?", (fold(name),))
        # what a dropped account had read must not pass to whoever takes the name next
        self._write("DELETE FROM read_markers WHERE account = ?", (fold(name),))
        self._write("DELETE FROM metadata WHERE kind = 'account' AND owner = ?", (fold(name),))
        self.delete_login_tokens(name)

    def add_login_token(self, account: str, token_hash: str, created: float, keep: int) -> None:
        folded = fold(account)
        self._write(
            "INSERT INTO login_tokens (hash, account, created) VALUES (?, ?, ?)",
            (token_hash, folded, created),
        )
        self._write(
            "DELETE FROM login_tokens WHERE account = ? AND id NOT IN (SELECT id FROM"
            " login_tokens WHERE account = ? ORDER BY id DESC LIMIT ?)",
            (folded, folded, keep),
        )

    def login_tokens(self, account: str) -> list[str]:
        rows = self.db.execute(
            "SELECT hash FROM login_tokens WHERE account = ?", (fold(account),)
        ).fetchall()
        return [row[0] for row in rows]

    def delete_login_tokens(self, account: str, token_hash: str | None = None) -> int:
        if token_hash is None:
            sql, params = "DELETE FROM login_tokens WHERE account = ?", [fold(account)]
        else:
            sql = "DELETE FROM login_tokens WHERE account = ? AND hash = ?"
            params = [fold(account), token_hash]
        return self._write(sql, tuple(params)).rowcount

    # -- rooms ------------------------------------------------------------------------------------

    def load_rooms(self) -> list[RoomRecord]:
        rows = self.db.execute(
            "SELECT name, founder, created, topic, topic_by, topic_time, modes, key, user_limit,"
            " bans, excepts, invex FROM rooms"
        ).fetchall()
        return [
            RoomRecord(*row[:9], *(_entries(text) for text in row[9:12]))
            for row in rows
        ]

    def save_room(self, room: RoomRecord) -> None:
        self._write(
            "INSERT OR REPLACE INTO rooms (folded, name, founder, created, topic, topic_by,"
            " topic_time, modes, key, user_limit, bans, excepts, invex)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fold(room.name), room.name, room.founder, room.created, room.topic, room.topic_by,
             room.topic_time, room.modes, room.key, room.limit, json.dumps(room.bans),
             json.dumps(room.excepts), json.dumps(room.invex)),
        )  # fmt: skip

    def delete_room(self, name: str) -> None:
        self._write("DELETE FROM rooms WHERE folded = ?", (fold(name),))
        self._write("DELETE FROM metadata WHERE kind = 'room' AND owner = ?", (fold(name),))

    def rename_room(self, old: str, new: str) -> None:
        old_key, new_key = fold(old), fold(new)
        self._write(
            "UPDATE rooms SET folded = ?, name = ? WHERE folded = ?", (new_key, new, old_key)
        )
        self._write(
            "UPDATE messages SET conversation = ?, target = ? WHERE conversation = ?",
            (new_key, new, old_key),
        )
        if new_key == old_key:
            return  # a change of case: the keys of markers and metadata stay as they are
        self._write("DELETE FROM metadata WHERE kind = 'room' AND owner = ?", (new_key,))
        self._write(
            "UPDATE metadata SET owner = ? WHERE kind = 'room' AND owner = ?", (new_key, old_key)
        )
        # An account with markers on both names keeps the later one.
        self._write(
            "INSERT INTO read_markers (account, target, time_ms)"
            " SELECT account, ?, time_ms FROM read_markers WHERE target = ?"
            " ON CONFLICT (account, target) DO UPDATE SET time_ms = max(time_ms, excluded.time_ms)",
            (new_key, old_key),
        )
        self._write("DELETE FROM read_markers WHERE target = ?", (old_key,))

    # -- history and the inbox --------------------------------------------------------------------

    def add_message(self, message: StoredMessage, unread: bool) -> int:
        m = message
        cursor = self._write(
            "INSERT INTO messages (conversation, time_ms, msgid, verb, source, account, target,"
            " recipient, text, tags, unread) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.conversation, m.time_ms, m.msgid, m.verb, m.source, m.account, m.target,
             m.recipient, m.text, m.tags, int(unread)),
        )  # fmt: skip
        return cursor.lastrowid or 0

    def messages(
        self,
        conversation: str,
        after: Bound | None = None,
        before: Bound | None = None,
        limit: int = 50,
        ascending: bool = True,
        verbs: Collection[str] | None = MESSAGE_VERBS,
    ) -> list[StoredMessage]:
        where = ["conversation = ?"]
        params: list[object] = [conversation]
        if verbs is not None:
            where.append(f"verb IN ({', '.join('?' * len(verbs))})")
            params.extend(verbs)
        if after is not None:
            where.append(f"{_BOUND_COLUMNS[after[0]]} > ?")
            params.append(after[1])
        if before is not None:
            where.append(f"{_BOUND_COLUMNS[before[0]]} < ?")
            params.append(before[1])
        order = "ASC" if ascending else "DESC"
        rows = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE {' AND '.join(where)}"
            f" ORDER BY id {order} LIMIT ?",
            (*params, limit),
        ).fetchall()
        found = [StoredMessage(*row) for row in rows]
        return found if ascending else found[::-1]

    def message_by_msgid(self, msgid: str) -> StoredMessage | None:
        row = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE msgid = ?", (msgid,)
        ).fetchone()
        return StoredMessage(*row) if row else None

    def redact(self, message_id: int) -> None:
        self._write(
            "UPDATE messages SET verb = 'REDACT', text = '', tags = '', recipient = NULL,"
            " unread = 0 WHERE id = ?",
            (message_id,),
        )

    def latest_messages(
        self,
        conversations: Collection[str],
        party: str | None,
        after_ms: int,
        before_ms: int,
        limit: int,
        newest: bool,
    ) -> list[StoredMessage]:
        which = [f"conversation IN ({', '.join('?' * len(conversations))})"]
        params: list[object] = list(conversations)
        if party is not None:
            # a private key is "<party> <party>", sorted: ours comes first or last
            which.append("substr(conversation, 1, ?) = ? OR substr(conversation, -?) = ?")
            params += [len(party) + 1, party + " ", len(party) + 1, " " + party]
        order = "DESC" if newest else "ASC"
        rows = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id IN ("
            f" SELECT max(id) FROM messages WHERE ({' OR '.join(which)}) AND {_IS_MESSAGE}"
            " GROUP BY conversation)"
            f" AND time_ms > ? AND time_ms < ? ORDER BY time_ms {order}, id {order} LIMIT ?",
            (*params, after_ms, before_ms, limit),
        ).fetchall()
        found = [StoredMessage(*row) for row in rows]
        return found[::-1] if newest else found

    def unread(self, account: str) -> list[StoredMessage]:
        rows = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE recipient = ? AND unread = 1"
            " ORDER BY id",
            (fold(account),),
        ).fetchall()
        return [StoredMessage(*row) for row in rows]

    def unread_count(self, account: str) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM messages WHERE recipient = ? AND unread = 1", (fold(account),)
        ).fetchone()
        return int(row[0])

    def mark_read(self, ids: list[int]) -> None:
        for message_id in ids:
            self._write("UPDATE messages SET unread = 0 WHERE id = ?", (message_id,))

    def newest_message(self) -> tuple[int, int]:
        row = self.db.execute(
            "SELECT coalesce(max(id), 0), coalesce(max(time_ms), 0) FROM messages"
        ).fetchone()
        return int(row[0]), int(row[1])

    def copies_since(self, time_ms: int) -> list[tuple[StoredMessage, bool]]:
        rows = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS}, unread FROM messages WHERE time_ms > ?"
            " AND verb IN ('PRIVMSG', 'NOTICE', 'TAGMSG') ORDER BY id",
            (time_ms,),
        ).fetchall()
        return [(StoredMessage(*row[:-1]), bool(row[-1])) for row in rows]

    def copies_after(self, position: int, limit: int) -> list[tuple[StoredMessage, bool]]:
        rows = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS}, unread FROM messages WHERE id > ?"
            " AND verb IN ('PRIVMSG', 'NOTICE', 'TAGMSG') ORDER BY id LIMIT ?",
            (position, limit),
        ).fetchall()
        return [(StoredMessage(*row[:-1]), bool(row[-1])) for row in rows]

    def mark_read_msgids(self, msgids: Collection[str]) -> list[str]:
        return [
            msgid for msgid in msgids
            if self._write(
                "UPDATE messages SET unread = 0 WHERE msgid = ? AND unread = 1", (msgid,)
            ).rowcount
        ]  # fmt: skip

    def delete_message(self, message_id: int) -> bool | None:
        row = self._write(
            "DELETE FROM messages WHERE id = ? RETURNING unread", (message_id,)
        ).fetchone()
        return bool(row[0]) if row else None

    def add_handover(self, kind: str, msgid: str) -> None:
        self._write("INSERT OR IGNORE INTO handover (kind, msgid) VALUES (?, ?)", (kind, msgid))

    def handovers(self) -> list[tuple[str, str]]:
        rows = self.db.execute("SELECT kind, msgid FROM handover ORDER BY seq").fetchall()
        return [(str(kind), str(msgid)) for kind, msgid in rows]

    def drop_handover(self, kind: str, msgid: str) -> bool:
        cursor = self._write("DELETE FROM handover WHERE kind = ? AND msgid = ?", (kind, msgid))
        return cursor.rowcount == 1

    def replica_position(self, hub: str) -> tuple[int, str] | None:
        row = self.db.execute(
            "SELECT position, msgid FROM replica WHERE hub = ?", (fold(hub),)
        ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def set_replica_position(self, hub: str, position: int, msgid: str) -> None:
        self._write(
            "INSERT INTO replica (hub, position, msgid) VALUES (?, ?, ?) ON CONFLICT (hub)"
            " DO UPDATE SET position = excluded.position, msgid = excluded.msgid",
            (fold(hub), position, msgid),
        )

    def account_list(self) -> list[Account]:
        rows = self.db.execute(
            "SELECT name, password_hash, email, created, scram FROM accounts ORDER BY created"
        ).fetchall()
        return [Account(*row) for row in rows]

    def mark_read_until(self, account: str, conversation: str, time_ms: int) -> int:
        return self._write(
            "UPDATE messages SET unread = 0 WHERE recipient = ? AND unread = 1"
            " AND conversation = ? AND time_ms <= ?",
            (fold(account), conversation, time_ms),
        ).rowcount

    def personal(self, account: str, limit: int) -> list[StoredMessage]:
        rows = self.db.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE recipient = ? ORDER BY id DESC LIMIT ?",
            (fold(account), limit),
        ).fetchall()
        return [StoredMessage(*row) for row in reversed(rows)]

    def prune(self, max_per_conversation: int, older_than_ms: int) -> int:
        dropped = self._write(
            "DELETE FROM messages WHERE time_ms < ? AND unread = 0", (older_than_ms,)
        ).rowcount
        # Messages first: the events older than the oldest message kept go with them. Then
        # the events (and redacted placeholders), counted on their own, so that they never
        # push a message out.
        for kind, rows in ((_IS_MESSAGE, ""), (f"NOT {_IS_MESSAGE}", f" AND NOT {_IS_MESSAGE}")):
            crowded = self.db.execute(
                f"SELECT conversation FROM messages WHERE {kind} GROUP BY conversation"
                " HAVING count(*) > ?",
                (max_per_conversation,),
            ).fetchall()
            for (conversation,) in crowded:
                dropped += self._write(
                    f"DELETE FROM messages WHERE conversation = ? AND unread = 0{rows} AND id <= ("
                    f" SELECT id FROM messages WHERE conversation = ? AND {kind}"
                    " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (conversation, conversation, max_per_conversation),
                ).rowcount
        return dropped

    # -- read markers -----------------------------------------------------------------------------

    def read_marker(self, account: str, target: str) -> int | None:
        row = self.db.execute(
            "SELECT time_ms FROM read_markers WHERE account = ? AND target = ?",
            (fold(account), target),
        ).fetchone()
        return int(row[0]) if row else None

    def set_read_marker(self, account: str, target: str, time_ms: int) -> None:
        self._write(
            "INSERT INTO read_markers (account, target, time_ms) VALUES (?, ?, ?)"
            " ON CONFLICT (account, target) DO UPDATE SET time_ms = excluded.time_ms",
            (fold(account), target, time_ms),
        )

    # -- METADATA --------------------------------------------------------------------------------

    def metadata(self, kind: str, owner: str) -> dict[str, str]:
        rows = self.db.execute(
            "SELECT key, value FROM metadata WHERE kind = ? AND owner = ? ORDER BY key",
            (kind, fold(owner)),
        ).fetchall()
        return {key: value for key, value in rows}

    def all_metadata(self, kind: str) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        rows = self.db.execute(
            "SELECT owner, key, value FROM metadata WHERE kind = ? ORDER BY owner, key", (kind,)
        ).fetchall()
        for owner, key, value in rows:
            found.setdefault(owner, {})[key] = value
        return found

    def set_metadata(self, kind: str, owner: str, key: str, value: str | None) -> None:
        if value is None:
            self._write(
                "DELETE FROM metadata WHERE kind = ? AND owner = ? AND key = ?",
                (kind, fold(owner), key),
            )
            return
        self._write(
            "INSERT INTO metadata (kind, owner, key, value) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (kind, owner, key) DO UPDATE SET value = excluded.value",
            (kind, fold(owner), key, value),
        )

    # -- transactions --------------------------------------------------------------------------

    def commit(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.commit()
        self.db.close()  # the last connection to go checkpoints what is left


def backup(data_dir: Path, dest: Path, pages_per_step: int = 1024) -> int:
    """Copy the database in `data_dir` to `dest`, a new file, while the server may be running.

    It uses SQLite's online backup API on a read-only connection that holds one read
    transaction throughout: in WAL mode that snapshot never blocks the server's writes, and
    the copy is consistent as of its start and is not restarted by writes made meanwhile.
    Pages go over `pages_per_step` at a time. The copy is written next to `dest`, switched
    to a rollback journal (one self-contained file) and renamed into place only when
    complete. Returns the number of pages copied. Raises FileNotFoundError if there is no
    database, FileExistsError if `dest` exists (a backup never overwrites) and
    sqlite3.Error if SQLite fails.
    """
    source_path = data_dir / DB_NAME
    if not source_path.is_file():
        raise FileNotFoundError(f"no database at {source_path}")
    if dest.exists():
        raise FileExistsError(f"{dest} already exists; a backup never overwrites")
    if not dest.parent.is_dir():
        raise FileNotFoundError(f"no folder {dest.parent} to write the backup in")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(
        f"{source_path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
    )
    try:
        source.execute("BEGIN")
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts
        target = sqlite3.connect(str(partial), isolation_level=None)
        try:
            source.backup(target, pages=pages_per_step)
            target.execute("PRAGMA journal_mode=DELETE")
            pages: int = target.execute("PRAGMA page_count").fetchone()[0]
        finally:
            target.close()
        source.execute("COMMIT")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    partial.replace(dest)
    return pages


def _entries(text: str) -> list[tuple[str, str, int]]:
    """A room's list (bans, exceptions) from its JSON column: [mask, set by, time] rows."""
    return [(str(mask), str(by), int(when)) for mask, by, when in json.loads(text)]
