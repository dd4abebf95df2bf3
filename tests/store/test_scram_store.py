"""The SCRAM records beside the password hashes, and the store's secrets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from miniircd.store.base import Account
from miniircd.store.passwords import scram_credentials, scram_record
from miniircd.store.schema import MIGRATIONS, statements
from miniircd.store.sqlite import SqliteStore


def test_accounts_from_before_scram_are_migrated_without_a_record(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    scram = next(i for i, m in enumerate(MIGRATIONS) if "ADD COLUMN scram" in m)
    for migration in MIGRATIONS[:scram]:
        for statement in statements(migration):
            db.execute(statement)
    db.execute("INSERT INTO accounts VALUES ('dave', 'Dave', 'hash', NULL, 1.0)")
    db.execute(f"PRAGMA user_version = {scram}")
    db.close()
    store = SqliteStore(path)
    assert store.get_account("dave") == Account("Dave", "hash", None, 1.0, None)
    store.close()


def test_set_scram_only_for_the_password_it_was_made_from(tmp_path: Path) -> None:
    store = SqliteStore.in_dir(tmp_path)
    store.create_account(Account("alice", "hash-1", None, 1.0))
    record = scram_record("a password")
    assert not store.set_scram("alice", "hash-0", record)  # the password changed meanwhile
    found = store.get_account("alice")
    assert found is not None and found.scram is None
    assert store.set_scram("ALICE", "hash-1", record)
    store.close()
    again = SqliteStore.in_dir(tmp_path)
    found = again.get_account("alice")
    assert found is not None and found.scram == record
    again.set_password("alice", "hash-2")  # a new password without a record drops the old
    found = again.get_account("alice")
    assert found is not None and (found.password_hash, found.scram) == ("hash-2", None)
    again.set_password("alice", "hash-3", record)
    found = again.get_account("alice")
    assert found is not None and found.scram == record
    again.close()


def test_secrets_are_random_per_name_and_kept(tmp_path: Path) -> None:
    store = SqliteStore.in_dir(tmp_path)
    first = store.secret("one")
    assert len(first) == 32 and store.secret("one") == first
    assert store.secret("two") != first
    store.close()
    again = SqliteStore.in_dir(tmp_path)
    assert again.secret("one") == first
    again.close()
    other = SqliteStore(tmp_path / "other.sqlite3")  # another database, another secret
    assert other.secret("one") != first
    other.close()


def test_malformed_records_read_as_none() -> None:
    good = scram_record("pw")
    assert scram_credentials(good) is not None
    for bad in (None, "", "scrypt$1$2$3$4$5", good + "$x", good.replace("$", "$!", 1)):
        assert scram_credentials(bad) is None
    prefix, _, rest = good.partition("$")
    assert scram_credentials(f"{prefix}$0${rest.split('$', 1)[1]}") is None
