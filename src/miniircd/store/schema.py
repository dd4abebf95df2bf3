"""The SQLite store's schema: `MIGRATIONS[i]` takes a database from version i to i + 1.

The version is kept in `PRAGMA user_version`; `SqliteStore` runs the missing migrations in
order when it opens a database. A change of schema is a new entry at the end, never an
edit of an old one: databases in use have run those already.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE accounts (
        folded TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        email TEXT,
        created REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE rooms (
        folded TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        founder TEXT NOT NULL,
        created INTEGER NOT NULL,
        topic TEXT NOT NULL,
        topic_by TEXT NOT NULL,
        topic_time INTEGER NOT NULL,
        modes TEXT NOT NULL,
        key TEXT,
        user_limit INTEGER,
        bans TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        msgid TEXT NOT NULL UNIQUE,
        verb TEXT NOT NULL,
        source TEXT NOT NULL,
        account TEXT,
        target TEXT NOT NULL,
        recipient TEXT,
        text TEXT NOT NULL,
        tags TEXT NOT NULL,
        unread INTEGER NOT NULL
    );
    CREATE INDEX messages_by_conversation ON messages (conversation, id);
    CREATE INDEX messages_by_time ON messages (conversation, time_ms);
    CREATE INDEX messages_by_recipient ON messages (recipient, unread) WHERE recipient IS NOT NULL;
    """,
    """
    CREATE TABLE read_markers (
        account TEXT NOT NULL,
        target TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        PRIMARY KEY (account, target)
    ) WITHOUT ROWID;
    """,
    """
    CREATE TABLE login_tokens (
        id INTEGER PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        account TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX login_tokens_by_account ON login_tokens (account);
    """,
    # Every stored message wrote a page of this index too. A CHATHISTORY bound by time
    # finds its rows through messages_by_conversation (ids grow with time), at most
    # history_max of them.
    """
    DROP INDEX messages_by_time;
    """,
    # Ban exceptions (+e) and invite exceptions (+I) of registered rooms, kept like bans.
    """
    ALTER TABLE rooms ADD COLUMN excepts TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE rooms ADD COLUMN invex TEXT NOT NULL DEFAULT '[]';
    """,
    # SCRAM-SHA-256 records beside the scrypt hashes (NULL until the password is next set
    # or used), and random keys of the server's own (the fake SCRAM salts').
    """
    ALTER TABLE accounts ADD COLUMN scram TEXT;
    CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) WITHOUT ROWID;
    """,
    # METADATA of accounts and of registered rooms: kind is 'account' or 'room', owner
    # the folded account or room name.
    """
    CREATE TABLE metadata (
        kind TEXT NOT NULL,
        owner TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, owner, key)
    ) WITHOUT ROWID;
    """,
    # A services network's copies (core.replica): on a server that is not the hub, what
    # it still owes the hub (kind 'KEEP': a message first shown here; 'READ': an inbox
    # message shown to its account), and how far it has copied the hub's history.
    """
    CREATE TABLE handover (
        seq INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        msgid TEXT NOT NULL,
        UNIQUE (kind, msgid)
    );
    CREATE TABLE replica (
        hub TEXT PRIMARY KEY,
        position INTEGER NOT NULL,
        msgid TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
)


def statements(script: str) -> list[str]:
    """The statements of a migration, one by one (sqlite3 runs one per execute)."""
    return [statement.strip() for statement in script.split(";") if statement.strip()]
