"""The SQLite store on a real file: accounts, migrations, reopening, WAL mode."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from miniircd.store.base import Account, StoredMessage
from miniircd.store.schema import MIGRATIONS, statements
from miniircd.store.sqlite import DB_NAME, Checkpointer, SqliteStore


def account(name: str, password_hash: str = "scrypt$14$8$1$c2FsdA==$aGFzaA==") -> Account:
    return Account(name, password_hash, f"{name}@example.org", 1_700_000_000.5)


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        version: int = db.execute("PRAGMA user_version").fetchone()[0]
        return version
    finally:
        db.close()


def test_create_and_get_fold_case_rfc1459(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.sqlite3")
    assert store.get_account("Alice[1]") is None
    assert store.create_account(account("Alice[1]")) is True
    store.commit()
    for spelling in ("Alice[1]", "alice{1}", "ALICE[1]", "aLiCe{1]"):
        found = store.get_account(spelling)
        assert found == account("Alice[1]"), spelling  # the name keeps its registered case
    assert store.get_account("alice1") is None
    store.close()


def test_duplicate_returns_false_and_keeps_the_first(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.sqlite3")
    assert store.create_account(account("bob"))
    assert store.create_account(account("BOB", "other-hash")) is False
    found = store.get_account("bob")
    assert found == account("bob")
    store.close()


def test_set_password_and_delete(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "a.sqlite3")
    store.create_account(account("carol"))
    store.set_password("CAROL", "new-hash")
    found = store.get_account("carol")
    assert found is not None and found.password_hash == "new-hash"
    store.delete_account("Carol")
    assert store.get_account("carol") is None
    store.delete_account("carol")  # deleting what is not there is no error
    store.set_password("carol", "x")  # nor is changing it
    assert store.get_account("carol") is None
    assert store.create_account(account("carol"))  # the name is free again
    store.close()


def test_migrations_set_user_version(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    SqliteStore(path).close()
    assert user_version(path) == len(MIGRATIONS)
    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    assert "accounts" in tables


def test_old_schema_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    for statement in statements(MIGRATIONS[0]):
        db.execute(statement)
    db.execute("INSERT INTO accounts VALUES ('dave', 'Dave', 'hash', NULL, 1.0)")
    db.execute("PRAGMA user_version = 1")
    db.close()
    store = SqliteStore(path)
    assert store.get_account("dave") == Account("Dave", "hash", None, 1.0)
    store.close()
    assert user_version(path) == len(MIGRATIONS)


def test_reopening_keeps_data(tmp_path: Path) -> None:
    store = SqliteStore.in_dir(tmp_path)
    assert Path(store.path) == tmp_path / DB_NAME
    store.create_account(account("erin"))
    store.commit()
    store.set_password("erin", "changed")
    store.close()  # close commits what is pending
    again = SqliteStore.in_dir(tmp_path)
    found = again.get_account("ERIN")
    assert found is not None and found.password_hash == "changed"
    again.close()
    assert user_version(tmp_path / DB_NAME) == len(MIGRATIONS)


def test_uncommitted_writes_are_invisible_to_other_connections(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    store = SqliteStore(path)
    reader = SqliteStore(path)
    store.create_account(account("frank"))
    assert reader.get_account("frank") is None  # the turn's transaction is still open
    store.commit()
    assert reader.get_account("frank") is not None
    reader.close()
    store.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    SqliteStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        SqliteStore(path)
    assert user_version(path) == len(MIGRATIONS) + 1  # left alone


def test_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    store = SqliteStore(path)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.create_account(account("gina"))
    store.commit()
    assert (tmp_path / "a.sqlite3-wal").exists()
    store.close()
    db = sqlite3.connect(path)  # WAL mode is persistent: a fresh connection sees it too
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


def test_login_tokens_survive_a_restart_and_go_with_the_account(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / DB_NAME)
    store.create_account(Account("Alice", "h", None, 1.0))
    for i in range(4):
        store.add_login_token("ALICE", f"hash{i}", 2.0, keep=3)  # same time: newest by order
    store.commit()
    store.close()
    store = SqliteStore(tmp_path / DB_NAME)
    assert sorted(store.login_tokens("alice")) == ["hash1", "hash2", "hash3"]
    assert store.delete_login_tokens("alice", "hash0") == 0
    assert store.delete_login_tokens("alice", "hash1") == 1
    store.delete_account("alice")
    assert store.login_tokens("alice") == []


def _fill(store: SqliteStore, count: int) -> None:
    for n in range(count):
        text = f"message {n} " + "x" * 400
        stored = StoredMessage(0, "#a", n, f"id{n}", "PRIVMSG", "a!b@c", None, "#a", None, text, "")
        store.add_message(stored, unread=False)
        if n % 10 == 9:
            store.commit()


def test_commits_never_checkpoint_the_stores_thread_does(tmp_path: Path) -> None:
    """With the store's thread stopped, 2,000 messages (well past the 1,000 pages at which
    SQLite would checkpoint) stay in the WAL; a thread of the store's own then copies
    them into the database file, and the last close takes the WAL away."""
    path = tmp_path / "a.sqlite3"
    store = SqliteStore(path)
    assert store.checkpointer is not None
    store.checkpointer.stop()
    empty = path.stat().st_size
    _fill(store, 2000)
    assert path.stat().st_size == empty  # every page is still in the WAL
    assert (tmp_path / "a.sqlite3-wal").stat().st_size > 1_000_000
    store.checkpointer = Checkpointer(str(path), interval=0.01)
    deadline = time.monotonic() + 10
    while path.stat().st_size < 800_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert path.stat().st_size >= 800_000  # the thread copied the WAL in
    store.close()
    assert not (tmp_path / "a.sqlite3-wal").exists()
    reopened = SqliteStore(path)
    assert len(reopened.messages("#a", limit=5000)) == 2000
    reopened.close()


def test_a_memory_store_has_no_checkpointer() -> None:
    assert SqliteStore(":memory:").checkpointer is None


def test_rooms_from_before_the_exception_lists_load_with_empty_ones(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    before = next(i for i, script in enumerate(MIGRATIONS) if "ADD COLUMN excepts" in script)
    for script in MIGRATIONS[:before]:
        for statement in statements(script):
            db.execute(statement)
    db.execute(
        "INSERT INTO rooms VALUES ('#old', '#Old', 'alice', 5, '', '', 0, 'nt', NULL, NULL,"
        ' \'[["x!*@*", "alice", 7]]\')'
    )
    db.execute(f"PRAGMA user_version = {before}")
    db.close()
    store = SqliteStore(path)
    (room,) = store.load_rooms()
    assert (room.name, room.bans, room.excepts, room.invex) == (
        "#Old", [("x!*@*", "alice", 7)], [], [],
    )  # fmt: skip
    room.excepts = [("$a:bob", "alice", 8)]
    room.invex = [("*!*@h", "alice", 9)]
    store.save_room(room)
    assert store.load_rooms() == [room]
    store.close()
    assert user_version(path) == len(MIGRATIONS)
