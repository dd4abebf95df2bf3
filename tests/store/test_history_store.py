"""The history part of the SQLite store: range queries, the inbox, retention, rooms."""

from __future__ import annotations

from pathlib import Path

from miniircd.store.base import RoomRecord, StoredMessage
from miniircd.store.sqlite import SqliteStore


def message(conversation: str, n: int, recipient: str | None = None) -> StoredMessage:
    return StoredMessage(
        0, conversation, 1000 * n, f"id{conversation}{n}", "PRIVMSG", "a!a@h", None,
        conversation, recipient, f"text {n}", "",
    )  # fmt: skip


def filled(tmp_path: Path, count: int = 10) -> SqliteStore:
    store = SqliteStore(tmp_path / "db.sqlite3")
    for n in range(1, count + 1):
        store.add_message(message("#a", n), unread=False)
        store.add_message(message("#b", n), unread=False)
    store.commit()
    return store


def texts(found: list[StoredMessage]) -> list[int]:
    return [int(m.text.split()[1]) for m in found]


def test_range_query_bounds_are_exclusive(tmp_path: Path) -> None:
    store = filled(tmp_path)
    assert texts(store.messages("#a", limit=3)) == [1, 2, 3]
    assert texts(store.messages("#a", limit=3, ascending=False)) == [8, 9, 10]
    ids = {m.text: m.id for m in store.messages("#a", limit=100)}
    after = ("id", ids["text 4"])
    assert texts(store.messages("#a", after=after, limit=2)) == [5, 6]
    newest_first = store.messages("#a", before=("time", 4000), limit=10, ascending=False)
    assert texts(newest_first) == [1, 2, 3]
    assert texts(store.messages("#a", after=("time", 2000), before=("time", 5000))) == [3, 4]
    assert store.messages("#nowhere") == []


def test_msgid_lookup(tmp_path: Path) -> None:
    store = filled(tmp_path)
    found = store.message_by_msgid("id#b7")
    assert found is not None and found.text == "text 7" and found.conversation == "#b"
    assert store.message_by_msgid("nope") is None


def test_inbox_unread_and_personal(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    first = store.add_message(message("alice bob", 1, recipient="alice"), unread=True)
    store.add_message(message("alice bob", 2, recipient="alice"), unread=False)
    store.add_message(message("alice carol", 3, recipient="carol"), unread=True)
    assert [m.id for m in store.unread("ALICE")] == [first]
    store.mark_read([first])
    assert store.unread("alice") == []
    assert texts(store.personal("alice", 10)) == [1, 2]
    assert texts(store.personal("alice", 1)) == [2]


def test_prune_by_count_and_age_keeps_unread(tmp_path: Path) -> None:
    store = filled(tmp_path)
    store.add_message(message("alice bob", 0, recipient="alice"), unread=True)  # time 0
    dropped = store.prune(max_per_conversation=4, older_than_ms=3000)
    assert texts(store.messages("#a", limit=100)) == [7, 8, 9, 10]
    assert texts(store.messages("#b", limit=100)) == [7, 8, 9, 10]
    assert len(store.unread("alice")) == 1  # an undelivered message is never dropped
    assert dropped == 12


def event(conversation: str, n: int, verb: str = "JOIN") -> StoredMessage:
    return StoredMessage(
        0, conversation, 1000 * n, f"ev{conversation}{n}", verb, "a!a@h", None,
        conversation, None, f'["{conversation}"]', "",
    )  # fmt: skip


def test_verbs_choose_the_rows_and_the_limit_counts_only_them(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    for n in range(1, 7):
        store.add_message(message("#a", n) if n % 2 else event("#a", n), unread=False)
    assert texts(store.messages("#a", limit=2, ascending=False)) == [3, 5]  # messages only
    both = store.messages("#a", limit=3, ascending=False, verbs=("PRIVMSG", "JOIN"))
    assert [m.time_ms for m in both] == [4000, 5000, 6000]
    assert [m.verb for m in store.messages("#a", limit=1, verbs=None)] == ["PRIVMSG"]
    assert store.latest_messages(["#a"], None, 0, 10_000, 5, False)[0].text == "text 5"


def test_redact_keeps_a_placeholder_out_of_every_inbox(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    kept = store.add_message(message("alice bob", 1, recipient="alice"), unread=True)
    gone = store.add_message(message("alice bob", 2, recipient="alice"), unread=True)
    store.redact(gone)
    assert [m.id for m in store.unread("alice")] == [kept]
    assert store.unread_count("alice") == 1
    assert texts(store.personal("alice", 10)) == [1]
    assert texts(store.messages("alice bob")) == [1]
    placeholder = store.message_by_msgid("idalice bob2")
    assert placeholder is not None
    assert (placeholder.verb, placeholder.text, placeholder.id) == ("REDACT", "", gone)


def test_prune_counts_events_apart_from_messages(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    for n in range(1, 11):
        store.add_message(message("#a", n), unread=False)
    for n in range(11, 31):  # many events after the messages: they push no message out
        store.add_message(event("#a", n), unread=False)
    store.prune(max_per_conversation=4, older_than_ms=0)
    assert texts(store.messages("#a", limit=100)) == [7, 8, 9, 10]
    events = store.messages("#a", limit=100, verbs=("JOIN",))
    assert [m.time_ms // 1000 for m in events] == [27, 28, 29, 30]
    # interleaved: the events up to the newest message dropped go with the messages
    store = SqliteStore(tmp_path / "other.sqlite3")
    for n in range(1, 13):
        store.add_message(message("#a", n) if n % 2 else event("#a", n), unread=False)
    store.prune(max_per_conversation=4, older_than_ms=0)
    assert texts(store.messages("#a", limit=100)) == [5, 7, 9, 11]
    events = store.messages("#a", limit=100, verbs=("JOIN",))
    assert [m.time_ms // 1000 for m in events] == [6, 8, 10, 12]
    store.prune(max_per_conversation=4, older_than_ms=9000)  # and by age, every kind
    left = store.messages("#a", limit=100, verbs=None)
    assert [m.time_ms // 1000 for m in left] == [9, 10, 11, 12]


def test_rooms_round_trip_across_reopen(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    room = RoomRecord("#Club", "alice", 1700, "topic", "alice!a@h", 1800, "knt", "key", None,
                      [("x!*@*", "alice!a@h", 1900)])  # fmt: skip
    store.save_room(room)
    store.close()
    reopened = SqliteStore(tmp_path / "db.sqlite3")
    assert reopened.load_rooms() == [room]
    reopened.delete_room("#CLUB")
    assert reopened.load_rooms() == []


def test_rename_room_moves_registration_history_and_markers(tmp_path: Path) -> None:
    store = filled(tmp_path, 3)
    store.add_message(message("#c", 1), unread=False)  # an earlier room's history stays
    store.save_room(RoomRecord("#A", "alice", 1700))
    store.set_read_marker("alice", "#a", 2000)
    store.set_read_marker("bob", "#a", 1000)
    store.set_read_marker("bob", "#c", 5000)  # bob's later marker on the new name wins
    store.set_read_marker("carol", "#b", 3000)
    store.rename_room("#A", "#C")
    store.close()
    reopened = SqliteStore(tmp_path / "db.sqlite3")
    assert reopened.load_rooms() == [RoomRecord("#C", "alice", 1700)]
    assert reopened.messages("#a") == []
    moved = reopened.messages("#c")
    assert texts(moved) == [1, 2, 3, 1]  # by id: #a's, then the one #c had before
    assert [m.target for m in moved] == ["#C", "#C", "#C", "#c"]
    assert texts(reopened.messages("#b")) == [1, 2, 3]
    markers = [(who, key, reopened.read_marker(who, key)) for who in ("alice", "bob", "carol")
               for key in ("#a", "#b", "#c")]  # fmt: skip
    assert [m for m in markers if m[2] is not None] == [
        ("alice", "#c", 2000), ("bob", "#c", 5000), ("carol", "#b", 3000),
    ]  # fmt: skip


def test_rename_room_by_case_keeps_the_keys(tmp_path: Path) -> None:
    store = filled(tmp_path, 2)
    store.save_room(RoomRecord("#a", "alice", 1700))
    store.set_read_marker("alice", "#a", 2000)
    store.rename_room("#a", "#A")
    assert store.load_rooms() == [RoomRecord("#A", "alice", 1700)]
    assert [m.target for m in store.messages("#a")] == ["#A", "#A"]
    assert store.read_marker("alice", "#a") == 2000


def test_rename_room_of_an_unregistered_room_moves_its_history(tmp_path: Path) -> None:
    store = filled(tmp_path, 2)
    store.rename_room("#b", "#d")
    assert store.load_rooms() == []
    assert texts(store.messages("#d")) == [1, 2]
