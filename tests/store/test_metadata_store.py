"""The store's METADATA: one value per key of a folded owner, kept by kind, forgotten with
the account or room it belongs to, and there after reopening the file."""

from __future__ import annotations

from pathlib import Path

from miniircd.store.base import Account
from miniircd.store.schema import MIGRATIONS
from miniircd.store.sqlite import SqliteStore


def test_values_are_kept_per_kind_and_folded_owner(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    store.set_metadata("account", "Alice", "avatar", "a")
    store.set_metadata("account", "alice", "avatar", "b")
    store.set_metadata("account", "alice", "status", "")
    store.set_metadata("room", "#Alice", "avatar", "c")
    assert store.metadata("account", "ALICE") == {"avatar": "b", "status": ""}
    store.set_metadata("account", "alice", "avatar", None)
    store.set_metadata("account", "alice", "nothing", None)  # not set: no error
    assert store.metadata("account", "alice") == {"status": ""}
    assert store.all_metadata("room") == {"#alice": {"avatar": "c"}}
    store.close()
    again = SqliteStore(tmp_path / "db.sqlite3")
    assert again.metadata("account", "alice") == {"status": ""}
    assert again.metadata("room", "#alice") == {"avatar": "c"}
    again.close()


def test_dropping_an_account_or_a_room_forgets_its_metadata(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    store.create_account(Account("alice", "hash", None, 0.0))
    for kind, owner in (("account", "alice"), ("room", "#room"), ("account", "bob")):
        store.set_metadata(kind, owner, "url", "https://example.com")
    store.delete_account("ALICE")
    store.delete_room("#ROOM")
    assert store.all_metadata("account") == {"bob": {"url": "https://example.com"}}
    assert store.all_metadata("room") == {}
    store.close()
