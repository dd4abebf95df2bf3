"""The SQLite store: every SQL statement of the server lives in this module.

The database is `<data dir>/miniircd.sqlite3` in WAL mode. Its schema version is kept in
`PRAGMA user_version`; `MIGRATIONS[i]` takes a database from version i to i + 1, and they
run in order at open. Writes open a transaction lazily and `commit` ends it, once per loop
turn. synchronous=NORMAL in WAL mode survives a crash of the process (kill -9) without
losing a committed turn; a power cut may lose the last moments.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from miniircd.protocol.casemap import fold
from miniircd.store.base import Account

DB_NAME = "miniircd.sqlite3"

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
)


class SqliteStore:
    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

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
            for statement in _statements(MIGRATIONS[index]):
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
            "SELECT name, password_hash, email, created FROM accounts WHERE folded = ?",
            (fold(name),),
        ).fetchone()
        return Account(*row) if row else None

    def create_account(self, account: Account) -> bool:
        cursor = self._write(
            "INSERT OR IGNORE INTO accounts (folded, name, password_hash, email, created)"
            " VALUES (?, ?, ?, ?, ?)",
            (fold(account.name), account.name, account.password_hash, account.email,
             account.created),
        )  # fmt: skip
        return cursor.rowcount == 1

    def set_password(self, name: str, password_hash: str) -> None:
        self._write(
            "UPDATE accounts SET password_hash = ? WHERE folded = ?", (password_hash, fold(name))
        )

    def delete_account(self, name: str) -> None:
        self._write("DELETE FROM accounts WHERE folded = ?", (fold(name),))

    # -- transactions --------------------------------------------------------------------------

    def commit(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.commit()
        self.db.close()


def _statements(script: str) -> list[str]:
    return [statement.strip() for statement in script.split(";") if statement.strip()]
