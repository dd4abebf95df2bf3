"""Transcript tests for MARKREAD (IRCv3 draft/read-marker): an account's markers, their
tie-in with the inbox, and the markers a client that is not logged in keeps on its
connection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from harness import CoreClient, CoreHarness
from miniircd.core.commands import readmarker
from miniircd.core.errors import Fail
from miniircd.core.history import iso_time, private_conversation
from miniircd.protocol.message import Message
from miniircd.store.base import StoredMessage
from miniircd.store.sqlite import MIGRATIONS, SqliteStore

START = 1_700_000_000  # the harness clock's start: 2023-11-14T22:13:20.000Z
CAP = "draft/read-marker"
BAD_TIMESTAMPS = [
    "timestamp=garbage",
    "*",  # the spec: a client's set command MUST NOT use '*'
    "2023-11-14T22:13:20.000Z",  # without `timestamp=`
    "msgid=abc",
    "timestamp=2023-11-14T22:13:20Z",
    "timestamp=2023-11-14T22:13:20.0000Z",
    "timestamp=2023-11-14T22:13:20,000Z",
    "timestamp=2023-11-14T22:13:20.000",
    "timestamp=2023-11-14T22:13:20.000+00:00",
    "timestamp=2023-02-30T00:00:00.000Z",
    "timestamp=1-01-01T00:00:00.000Z",
]


def stamp(seconds: float) -> str:
    """The timestamp parameter `seconds` after the harness clock's start."""
    return "timestamp=" + iso_time(int((START + seconds) * 1000))


def account(core: CoreHarness, nick: str) -> CoreClient:
    """A guest that registers the account `nick` (password1) and so is logged in to it."""
    client = core.register(nick)
    lines = client.send("REGISTER * * password1")
    assert lines[-1] == f":irc.test REGISTER SUCCESS {nick} :Account successfully registered"
    return client


def logged_in(
    core: CoreHarness, nick: str, name: str = "alice", caps: str = CAP
) -> tuple[CoreClient, list[str]]:
    """A new connection logged in to account `name` with PASS, as `nick`, with `caps`;
    and the lines of its registration burst."""
    client = core.connect()
    if caps:
        client.send(f"CAP REQ :{caps}")
    lines = client.send(f"PASS {name}:password1", f"NICK {nick}", f"USER {nick} 0 * :x")
    if caps:
        lines = client.send("CAP END")
    assert any(f" 900 {nick} " in line for line in lines), lines
    assert any(f" 001 {nick} " in line for line in lines), lines
    return client, lines


def login(core: CoreHarness, nick: str, name: str = "alice", caps: str = CAP) -> CoreClient:
    """As `logged_in`, the client only."""
    return logged_in(core, nick, name, caps)[0]


def guest(core: CoreHarness, nick: str, caps: str = CAP) -> CoreClient:
    """A client that is not logged in, with `caps`."""
    client = core.connect()
    client.send(f"CAP REQ :{caps}", f"NICK {nick}", f"USER {nick} 0 * :x")
    assert any(" 001 " in line for line in client.send("CAP END"))
    return client


def test_get_without_and_with_a_marker(core: CoreHarness) -> None:
    account(core, "bob")
    alice = account(core, "alice")
    alice.send("JOIN #room")
    assert alice.send("MARKREAD #room") == [":irc.test MARKREAD #room *"]
    assert alice.send("MARKREAD BOB") == [":irc.test MARKREAD bob *"]
    core.clock.now += 10
    assert alice.send(f"MARKREAD #ROOM {stamp(5)}") == [f":irc.test MARKREAD #room {stamp(5)}"]
    assert alice.send("MARKREAD #room") == [f":irc.test MARKREAD #room {stamp(5)}"]
    assert alice.send(f"MARKREAD bob {stamp(3)}") == [f":irc.test MARKREAD bob {stamp(3)}"]
    assert alice.send("MARKREAD bob") == [f":irc.test MARKREAD bob {stamp(3)}"]
    assert core.store.read_marker("ALICE", "#room") == (START + 5) * 1000


def test_markers_survive_a_restart(core: CoreHarness) -> None:
    alice = account(core, "alice")
    alice.send("JOIN #room")
    core.clock.now += 10
    alice.send(f"MARKREAD #room {stamp(7)}")
    restarted = CoreHarness.on_store(core.store)
    again = login(restarted, "alice")
    assert again.send("MARKREAD #room") == [f":irc.test MARKREAD #room {stamp(7)}"]


def test_marker_only_moves_forward_and_not_past_now(core: CoreHarness) -> None:
    alice = account(core, "alice")
    other = login(core, "phone")
    alice.send("JOIN #room")
    other.take()
    core.clock.now += 10
    assert alice.send(f"MARKREAD #room {stamp(8)}") == [f":irc.test MARKREAD #room {stamp(8)}"]
    assert other.take() == [f":irc.test MARKREAD #room {stamp(8)}"]
    # older or equal: ignored, the sender is told the stored one, nobody else hears of it
    assert alice.send(f"MARKREAD #room {stamp(2)}") == [f":irc.test MARKREAD #room {stamp(8)}"]
    assert alice.send(f"MARKREAD #room {stamp(8)}") == [f":irc.test MARKREAD #room {stamp(8)}"]
    assert other.take() == []
    # in the future: clamped to the server's clock
    assert alice.send(f"MARKREAD #room {stamp(3600)}") == [f":irc.test MARKREAD #room {stamp(10)}"]
    assert other.take() == [f":irc.test MARKREAD #room {stamp(10)}"]


def test_update_goes_to_every_session_of_the_account_with_the_cap(core: CoreHarness) -> None:
    account(core, "bob")
    alice = account(core, "alice")  # no cap
    laptop, phone = login(core, "laptop"), login(core, "phone")
    bob = login(core, "bob2", name="bob")
    nocap = guest(core, "eve")
    core.clock.now += 10
    assert laptop.send(f"MARKREAD #room {stamp(1)}") == [  # no such room yet
        ":irc.test FAIL MARKREAD INVALID_PARAMS #room :No such channel"
    ]
    laptop.send("JOIN #room")
    for client in (alice, phone, bob, nocap):
        client.take()
    assert laptop.send(f"MARKREAD #room {stamp(1)}") == [f":irc.test MARKREAD #room {stamp(1)}"]
    assert phone.take() == [f":irc.test MARKREAD #room {stamp(1)}"]
    assert alice.take() == [] and bob.take() == [] and nocap.take() == []
    # a session without the cap is answered, and the ones with it told
    assert alice.send(f"MARKREAD #room {stamp(2)}") == [f":irc.test MARKREAD #room {stamp(2)}"]
    assert laptop.take() == phone.take() == [f":irc.test MARKREAD #room {stamp(2)}"]
    assert bob.send("MARKREAD #room") == [":irc.test MARKREAD #room *"]  # markers are private


def test_join_burst_has_the_marker_after_join_before_names(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    founder = account(core, "bob")
    founder.send("JOIN #room", "TOPIC #room :hello")
    alice = login(core, "alice")
    lines = alice.send("JOIN #room")
    assert [line.split()[1] for line in lines] == ["JOIN", "MARKREAD", "332", "333", "353", "366"]
    assert lines[1] == ":irc.test MARKREAD #room *"
    core.clock.now += 10
    alice.send(f"MARKREAD #room {stamp(4)}", "PART #room")
    assert alice.send("JOIN #ROOM")[1] == f":irc.test MARKREAD #room {stamp(4)}"
    plain = login(core, "plain", caps="")
    assert not any("MARKREAD" in line for line in plain.send("JOIN #room"))
    lines = guest(core, "visitor").send("JOIN #room")
    assert lines[1] == ":irc.test MARKREAD #room *"  # the spec wants one for every cap client
    assert lines[-1] == ":irc.test 366 visitor #room :End of /NAMES list"


def test_private_marker_follows_the_account_not_the_nick(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    bob = account(core, "bob")
    alice = login(core, "alice")
    core.clock.now += 10
    assert alice.send(f"MARKREAD Bob {stamp(6)}") == [f":irc.test MARKREAD bob {stamp(6)}"]
    bob.send("NICK robert")
    alice.take()
    assert alice.send("MARKREAD robert") == [f":irc.test MARKREAD robert {stamp(6)}"]
    bob.send("QUIT")
    assert alice.send("MARKREAD BOB") == [f":irc.test MARKREAD bob {stamp(6)}"]
    assert core.store.read_marker("alice", "bob") == (START + 6) * 1000
    carol = core.register("carol")  # a guest: keyed by her nick
    assert alice.send(f"MARKREAD carol {stamp(7)}") == [f":irc.test MARKREAD carol {stamp(7)}"]
    assert core.store.read_marker("alice", "~carol") == (START + 7) * 1000
    carol.send("QUIT")  # gone, and no message exchanged: a get still finds the marker
    assert alice.send("MARKREAD Carol") == [f":irc.test MARKREAD Carol {stamp(7)}"]
    assert alice.send(f"MARKREAD carol {stamp(8)}") == [  # but there is nobody to set it on
        ":irc.test FAIL MARKREAD INVALID_PARAMS carol :No such nick/channel"
    ]


def test_private_marker_marks_inbox_messages_read(core: CoreHarness) -> None:
    account(core, "bob").send("QUIT")
    account(core, "alice").send("QUIT")
    alice = login(core, "alice")
    conversation = private_conversation("alice", "bob")
    for n in (1, 2):  # unread messages to alice, as if they arrived while she was away
        stored = StoredMessage(
            0, conversation, (START + n) * 1000, f"id{n}", "PRIVMSG", "bob!~bob@h", "bob",
            "alice", "alice", f"message {n}", "",
        )  # fmt: skip
        core.store.add_message(stored, unread=True)
    core.clock.now += 10
    alice.send(f"MARKREAD bob {stamp(1)}")
    assert [m.text for m in core.store.unread("alice")] == ["message 2"]
    alice.send("QUIT")
    lines = logged_in(core, "alice")[1]
    assert any(line.endswith(" PRIVMSG alice :[2023-11-14 22:13:22] message 2") for line in lines)
    assert not any("message 1" in line for line in lines)


def test_delivering_unread_moves_the_markers(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    bob, carol = account(core, "bob"), core.register("carol")
    core.clock.now += 1
    bob.send("PRIVMSG alice :one")
    core.clock.now += 1
    carol.send("PRIVMSG alice :hi from carol")
    core.clock.now += 1
    bob.send("PRIVMSG alice :two")
    alice = core.connect()
    alice.send(f"CAP REQ :{CAP}", "PASS alice:password1", "NICK alice", "USER a 0 * :a")
    lines = alice.send("CAP END")
    end = lines.index(":irc.test NOTICE alice :*** end of unread messages")
    assert lines[end + 1 :] == [
        f":irc.test MARKREAD bob {stamp(3)}",
        f":irc.test MARKREAD carol {stamp(2)}",
    ]
    assert alice.send("MARKREAD bob") == [f":irc.test MARKREAD bob {stamp(3)}"]
    assert core.store.read_marker("alice", "~carol") == (START + 2) * 1000
    # a later login without the cap: nothing left to deliver, no MARKREAD lines
    assert not any("unread" in line for line in logged_in(core, "ally", caps="")[1])


def test_delivery_never_moves_a_marker_back(core: CoreHarness) -> None:
    alice = account(core, "alice")
    bob = account(core, "bob")
    core.clock.now += 1
    alice.send("QUIT")
    bob.send("PRIVMSG alice :old news")
    core.clock.now += 10
    core.store.set_read_marker("alice", "bob", (START + 5) * 1000)
    lines = logged_in(core, "alice")[1]
    assert any(line.endswith("] old news") for line in lines)
    assert not any("MARKREAD" in line for line in lines)
    assert core.store.read_marker("alice", "bob") == (START + 5) * 1000


def test_bad_params(core: CoreHarness) -> None:
    alice = account(core, "alice")
    alice.send("JOIN #room")
    assert alice.send("MARKREAD :") == [
        ":irc.test FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters"
    ]
    with pytest.raises(Fail) as raised:  # MARKREAD with no parameter at all, at the handler
        readmarker.markread(core.server, alice.session, Message("MARKREAD", []))
    assert (raised.value.code, raised.value.params) == ("NEED_MORE_PARAMS", ("Missing parameters",))
    for bad in BAD_TIMESTAMPS:
        assert alice.send(f"MARKREAD #room {bad}") == [
            f":irc.test FAIL MARKREAD INVALID_PARAMS {bad} :Invalid timestamp"
        ], bad
    assert alice.send("MARKREAD #room :two words") == [
        ":irc.test FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp"
    ]
    # a get on a well-formed name nobody uses: no marker; a set: no such target
    assert alice.send("MARKREAD #Nowhere", "MARKREAD nobody") == [
        ":irc.test MARKREAD #Nowhere *",
        ":irc.test MARKREAD nobody *",
    ]
    assert alice.send(f"MARKREAD #nowhere {stamp(0)}") == [
        ":irc.test FAIL MARKREAD INVALID_PARAMS #nowhere :No such channel"
    ]
    assert alice.send(f"MARKREAD nobody {stamp(0)}") == [
        ":irc.test FAIL MARKREAD INVALID_PARAMS nobody :No such nick/channel"
    ]
    # a secret channel one is not in looks like no channel at all
    other = core.register("other")
    other.send("JOIN #hidden", "MODE #hidden +s")
    assert alice.send("MARKREAD #hidden") == [":irc.test MARKREAD #hidden *"]
    assert alice.send(f"MARKREAD #hidden {stamp(0)}") == [
        ":irc.test FAIL MARKREAD INVALID_PARAMS #hidden :No such channel"
    ]
    # a get on what is neither a channel name nor a nick: an invalid selector
    for bad in ("a,b", "#a,#b", "9lives", "x" * 31, "#" + "x" * 50):
        assert alice.send(f"MARKREAD {bad}") == [
            f":irc.test FAIL MARKREAD INVALID_PARAMS {bad} :Invalid target"
        ], bad
    assert alice.send("MARKREAD :two words", "MARKREAD ::x") == [
        ":irc.test FAIL MARKREAD INVALID_PARAMS * :Invalid target",
        ":irc.test FAIL MARKREAD INVALID_PARAMS * :Invalid target",
    ]
    assert core.store.read_marker("alice", "#room") is None
    assert core.store.read_marker("alice", "#nowhere") is None


def test_the_conformance_sequences_from_a_guest(core: CoreHarness) -> None:
    """What irctest's ReadMarkerTestCase sends, from a client that is not logged in."""
    alice = guest(core, "alice")
    assert alice.send("MARKREAD #nosuchtarget") == [":irc.test MARKREAD #nosuchtarget *"]
    lines = alice.send("JOIN #test")
    assert [line.split()[1] for line in lines] == ["JOIN", "MARKREAD", "353", "366"]
    assert lines[1] == ":irc.test MARKREAD #test *"
    newer, older = "timestamp=2019-06-01T12:00:00.000Z", "timestamp=2019-01-01T00:00:00.000Z"
    assert alice.send(f"MARKREAD #test {newer}") == [f":irc.test MARKREAD #test {newer}"]
    assert alice.send("MARKREAD #test") == [f":irc.test MARKREAD #test {newer}"]
    assert alice.send(f"MARKREAD #test {older}") == [f":irc.test MARKREAD #test {newer}"]
    alice.send("PART #test")
    lines = alice.send("JOIN #test")
    assert lines[1] == f":irc.test MARKREAD #test {newer}"
    assert lines[-1].split()[1] == "366"
    core.register("bob")
    when = "timestamp=2023-07-04T00:00:00.000Z"
    assert alice.send(f"MARKREAD bob {when}") == [f":irc.test MARKREAD bob {when}"]
    assert alice.send("MARKREAD bob") == [f":irc.test MARKREAD bob {when}"]
    assert alice.send("MARKREAD") == [
        ":irc.test FAIL MARKREAD NEED_MORE_PARAMS :Missing parameters"
    ]
    assert alice.send("MARKREAD #test timestamp=not-a-timestamp") == [
        ":irc.test FAIL MARKREAD INVALID_PARAMS timestamp=not-a-timestamp :Invalid timestamp"
    ]
    assert alice.send("MARKREAD #test *") == [
        ":irc.test FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp"
    ]
    assert core.connect().send("MARKREAD #room") == [":irc.test 451 * :You have not registered"]


def test_a_guest_keeps_its_own_markers_until_it_leaves(core: CoreHarness) -> None:
    visitor, other = guest(core, "visitor"), guest(core, "other")
    nocap = guest(core, "nocap", caps="")
    founder = account(core, "alice")
    for client in (visitor, other, nocap, founder):
        client.send("JOIN #room")
    core.clock.now += 10
    for client in (visitor, other, nocap, founder):
        client.take()
    assert visitor.send(f"MARKREAD #ROOM {stamp(4)}") == [f":irc.test MARKREAD #room {stamp(4)}"]
    # clamped to the server's clock, forward only
    assert visitor.send(f"MARKREAD #room {stamp(3600)}") == [
        f":irc.test MARKREAD #room {stamp(10)}"
    ]
    assert visitor.send(f"MARKREAD #room {stamp(5)}") == [f":irc.test MARKREAD #room {stamp(10)}"]
    # nobody else hears of it or sees it: not another guest, not an account
    assert other.take() == [] and nocap.take() == [] and founder.take() == []
    assert other.send("MARKREAD #room") == [":irc.test MARKREAD #room *"]
    assert founder.send("MARKREAD #room") == [":irc.test MARKREAD #room *"]
    # a guest without the capability is answered all the same
    assert nocap.send(f"MARKREAD #room {stamp(2)}") == [f":irc.test MARKREAD #room {stamp(2)}"]
    assert not any("MARKREAD" in line for line in nocap.send("PART #room", "JOIN #room"))
    visitor.take()
    # a nick: keyed by the party behind it, as for an account (a guest: its nick)
    assert visitor.send(f"MARKREAD Alice {stamp(6)}", f"MARKREAD OTHER {stamp(7)}") == [
        f":irc.test MARKREAD alice {stamp(6)}",
        f":irc.test MARKREAD other {stamp(7)}",
    ]
    assert visitor.session.read_markers == {
        "#room": (START + 10) * 1000,
        "alice": (START + 6) * 1000,
        "~other": (START + 7) * 1000,
    }
    # nothing reaches the store (nor the inbox) for a guest
    assert core.store.db.execute("SELECT COUNT(*) FROM read_markers").fetchone()[0] == 0
    visitor.send("QUIT")
    again = guest(core, "visitor")  # the same nick, a new connection: none left
    assert again.send("JOIN #room")[1] == ":irc.test MARKREAD #room *"
    assert again.send("MARKREAD alice") == [":irc.test MARKREAD alice *"]


def test_guest_markers_are_not_the_accounts(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    mine = login(core, "laptop")
    visitor = guest(core, "visitor")
    visitor.send("JOIN #room")
    mine.send("JOIN #room")
    core.clock.now += 10
    visitor.send(f"MARKREAD #room {stamp(3)}")
    mine.send(f"MARKREAD #room {stamp(5)}")
    visitor.send("NICK alice2", "PRIVMSG NickServ :IDENTIFY alice password1")
    mine.take()
    assert visitor.send("MARKREAD #room") == [f":irc.test MARKREAD #room {stamp(5)}"]
    assert visitor.send(f"MARKREAD #room {stamp(6)}") == [f":irc.test MARKREAD #room {stamp(6)}"]
    assert mine.take() == [f":irc.test MARKREAD #room {stamp(6)}"]  # now one of the account's
    visitor.send("PRIVMSG NickServ :LOGOUT")
    assert visitor.send("MARKREAD #room") == [f":irc.test MARKREAD #room {stamp(3)}"]
    assert core.store.read_marker("alice", "#room") == (START + 6) * 1000


def test_a_guest_keeps_at_most_so_many_markers(
    core: CoreHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readmarker, "GUEST_MARKERS", 3)
    visitor = guest(core, "visitor")
    visitor.send("JOIN #a,#b,#c,#d")
    core.clock.now += 10
    for n, room in enumerate(("#a", "#b", "#c"), 1):
        visitor.send(f"MARKREAD {room} {stamp(n)}")
    visitor.send(f"MARKREAD #a {stamp(4)}")  # moving it again makes it the newest
    visitor.send(f"MARKREAD #b {stamp(1)}")  # not moved (older): stays the oldest
    assert visitor.send(f"MARKREAD #d {stamp(5)}") == [f":irc.test MARKREAD #d {stamp(5)}"]
    assert list(visitor.session.read_markers) == ["#c", "#a", "#d"]  # #b, moved least recently
    assert visitor.send("MARKREAD #b") == [":irc.test MARKREAD #b *"]


def test_parse_timestamp() -> None:
    assert readmarker.parse_timestamp("timestamp=2019-01-04T14:33:26.123Z") == 1546612406123
    assert readmarker.parse_timestamp("timestamp=1970-01-01T00:00:00.000Z") == 0
    for text in (
        *BAD_TIMESTAMPS,
        "timestamp=",
        "timestamp=Z",
        "timestamp=\uff12019-01-04T14:33:26.123Z",
    ):
        assert readmarker.parse_timestamp(text) is None, text


def test_store_migration_and_dropped_accounts(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)  # a database as the previous version left it
    for script in MIGRATIONS[:2]:
        old.executescript(script)
    old.execute("PRAGMA user_version = 2")
    old.close()
    store = SqliteStore(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    store.set_read_marker("Alice", "#room", 5)
    store.set_read_marker("alice", "#room", 7)
    store.set_read_marker("bob", "#room", 1)
    assert store.read_marker("ALICE", "#room") == 7
    store.delete_account("alice")
    assert store.read_marker("alice", "#room") is None
    assert store.read_marker("bob", "#room") == 1
    store.close()


def test_malformed_timestamp_is_refused_from_a_guest_too(core: CoreHarness) -> None:
    visitor = guest(core, "visitor")  # not logged in
    visitor.send("JOIN #room")
    for bad in BAD_TIMESTAMPS:
        assert visitor.send(f"MARKREAD #room {bad}") == [
            f":irc.test FAIL MARKREAD INVALID_PARAMS {bad} :Invalid timestamp"
        ], bad
    assert visitor.send("MARKREAD nobody *") == [  # the timestamp is checked first
        ":irc.test FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp"
    ]
    assert visitor.send(f"MARKREAD #room {stamp(0)}") == [f":irc.test MARKREAD #room {stamp(0)}"]
    assert visitor.session.read_markers == {"#room": START * 1000}


def test_private_markers_by_nick(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    account(core, "Bob")
    laptop, phone = login(core, "laptop"), login(core, "phone")
    gus = core.register("Gus")  # a guest
    core.clock.now += 10
    gus.send("PRIVMSG laptop :hello from Gus")
    laptop.take()
    assert laptop.send(f"MARKREAD bob {stamp(4)}") == [f":irc.test MARKREAD Bob {stamp(4)}"]
    assert phone.take() == [f":irc.test MARKREAD Bob {stamp(4)}"]
    assert phone.send("MARKREAD BOB") == [f":irc.test MARKREAD Bob {stamp(4)}"]
    assert laptop.send(f"MARKREAD gus {stamp(10)}") == [f":irc.test MARKREAD Gus {stamp(10)}"]
    gus.send("QUIT")  # gone, but the messages exchanged with him still name him
    phone.take()
    assert phone.send("MARKREAD gus") == [f":irc.test MARKREAD Gus {stamp(10)}"]
    assert core.store.read_marker("alice", "~gus") == (START + 10) * 1000
    assert core.store.read_marker("alice", "bob") == (START + 4) * 1000


def test_join_after_a_marker_was_stored_sends_it(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    phone = login(core, "phone")
    phone.send("JOIN #a", "JOIN #b")
    core.clock.now += 10
    phone.send(f"MARKREAD #a {stamp(3)}")
    laptop = login(core, "laptop")  # another session of the account, joining afterwards
    lines = laptop.send("JOIN #A,#b")
    assert [line.split()[1] for line in lines] == [
        "JOIN", "MARKREAD", "353", "366", "JOIN", "MARKREAD", "353", "366",
    ]  # fmt: skip
    assert lines[1] == f":irc.test MARKREAD #a {stamp(3)}"
    assert lines[5] == ":irc.test MARKREAD #b *"


def test_marker_reaches_the_accounts_other_sessions_at_once(core: CoreHarness) -> None:
    account(core, "bob").send("QUIT")
    account(core, "alice").send("QUIT")
    laptop, phone = login(core, "laptop"), login(core, "phone")
    desktop = login(core, "desktop", caps="")  # no capability: not told
    other = login(core, "bobby", name="bob")  # another account: never told
    core.clock.now += 10
    laptop.send("JOIN #room")
    for client in (phone, desktop, other):
        client.take()
    for target, shown in (("#ROOM", "#room"), ("bob", "bob")):
        assert laptop.send(f"MARKREAD {target} {stamp(5)}") == [
            f":irc.test MARKREAD {shown} {stamp(5)}"
        ]
        assert phone.take() == [f":irc.test MARKREAD {shown} {stamp(5)}"]
        assert desktop.take() == [] and other.take() == []
