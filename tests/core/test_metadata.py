"""Transcript tests for METADATA (IRCv3 draft/metadata-2): the subcommands and their
refusals, the limits as advertised, who is told of a change, what is shown on JOIN,
MONITOR and registration, and what an account and a registered room keep."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import CoreClient, CoreHarness
from miniircd.config import Config as Settings
from miniircd.config import ConfigError, validate
from miniircd.store.sqlite import SqliteStore

CAPS = "draft/metadata-2 batch"


def modern(
    core: CoreHarness, nick: str, caps: str = CAPS, account: str | None = None
) -> CoreClient:
    """A client that negotiated `caps` and registered as `nick` (logged in with PASS to
    `account`, whose password is password1, if one is given); its burst is dropped."""
    client = core.connect()
    client.send(f"CAP REQ :{caps}")
    if account is not None:
        client.send(f"PASS {account}:password1")
    lines = client.send(f"NICK {nick}", f"USER {nick} 0 * :x", "CAP END")
    assert any(" 001 " in line for line in lines), lines
    return client


def with_account(core: CoreHarness, nick: str, caps: str = CAPS) -> CoreClient:
    client = modern(core, nick, caps)
    assert client.send("REGISTER * * password1")[-1].startswith(":irc.test REGISTER SUCCESS")
    return client


def in_batch(lines: list[str]) -> tuple[str, list[str]]:
    """The target of the one `metadata` batch that `lines` are, and the lines in it."""
    opening = re.fullmatch(r":irc\.test BATCH \+(\S+) metadata (\S+)", lines[0])
    assert opening is not None, lines
    ref, target = opening.groups()
    assert lines[-1] == f":irc.test BATCH -{ref}", lines
    inner = lines[1:-1]
    assert all(line.startswith(f"@batch={ref} ") for line in inner), lines
    return target, [line.split(" ", 1)[1] for line in inner]


def batch_in(lines: list[str]) -> tuple[str, list[str]]:
    """`in_batch` of the `metadata` batch somewhere among `lines`."""
    start = next(i for i, line in enumerate(lines) if " BATCH +" in line and " metadata " in line)
    ref = lines[start].split()[2][1:]
    end = lines.index(f":irc.test BATCH -{ref}", start)
    return in_batch(lines[start : end + 1])


def together(core: CoreHarness, channel: str, *clients: CoreClient) -> None:
    for client in clients:
        client.send(f"JOIN {channel}")
    for client in clients:
        client.take()


# -- the capability ----------------------------------------------------------------------


def test_the_cap_value_gives_the_configured_limits() -> None:
    core = CoreHarness(metadata_max_subs=3, metadata_max_keys=4, metadata_max_value_bytes=5)
    lines = core.connect().send("CAP LS 302")
    assert "draft/metadata-2=before-connect,max-subs=3,max-keys=4,max-value-bytes=5" in lines[0]


@pytest.mark.parametrize(
    "field, value",
    [("metadata_max_subs", 0), ("metadata_max_keys", 0), ("metadata_max_value_bytes", 0),
     ("metadata_max_value_bytes", 301)],
)  # fmt: skip
def test_limits_out_of_range_are_refused(field: str, value: int) -> None:
    with pytest.raises(ConfigError):
        validate(Settings(**{field: value}))


# -- GET, SET, LIST, CLEAR ---------------------------------------------------------------


def test_get_unset_keys_answers_766_in_a_batch(core: CoreHarness) -> None:
    foo = modern(core, "foo")
    assert in_batch(foo.send("METADATA * GET display-name avatar")) == ("foo", [
        ":irc.test 766 foo foo display-name :key not set",
        ":irc.test 766 foo foo avatar :key not set",
    ])  # fmt: skip


@pytest.mark.parametrize("set_target, get_target", [("*", "foo"), ("foo", "*"), ("FOO", "foo")])
def test_set_then_get(core: CoreHarness, set_target: str, get_target: str) -> None:
    foo = modern(core, "foo")
    assert foo.send(f"METADATA {set_target} SET display-name :Foo The First") == [
        ":irc.test 761 foo foo display-name * :Foo The First"
    ]
    assert in_batch(foo.send(f"METADATA {get_target} GET display-name")) == (
        "foo", [":irc.test 761 foo foo display-name * :Foo The First"]
    )  # fmt: skip


def test_unset_answers_766_and_an_absent_key_is_key_not_set(core: CoreHarness) -> None:
    foo = modern(core, "foo")
    foo.send("METADATA * SET avatar :https://example.com/a.png")
    assert foo.send("METADATA * SET avatar") == [":irc.test 766 foo foo avatar :key not set"]
    assert foo.session.metadata == {}
    assert foo.send("METADATA * SET avatar") == [
        ":irc.test FAIL METADATA KEY_NOT_SET foo avatar :Key not set"
    ]


def test_an_empty_value_is_a_value(core: CoreHarness) -> None:
    foo = modern(core, "foo")
    assert foo.send("METADATA * SET status :") == [":irc.test 761 foo foo status * :"]
    assert foo.session.metadata == {"status": ""}


def test_get_mixes_values_invalid_keys_and_unset_keys_in_order(core: CoreHarness) -> None:
    foo = modern(core, "foo")
    foo.send("METADATA * SET homepage :https://foo.example")
    assert in_batch(foo.send("METADATA * GET Bad homepage status")) == ("foo", [
        ":irc.test FAIL METADATA KEY_INVALID Bad :Invalid key",
        ":irc.test 761 foo foo homepage * :https://foo.example",
        ":irc.test 766 foo foo status :key not set",
    ])  # fmt: skip


def test_list_is_sorted_and_clear_removes_everything(core: CoreHarness) -> None:
    foo = modern(core, "foo")
    foo.send("METADATA * SET status :busy", "METADATA * SET avatar :a.png")
    assert in_batch(foo.send("METADATA * LIST")) == ("foo", [
        ":irc.test 761 foo foo avatar * :a.png",
        ":irc.test 761 foo foo status * :busy",
    ])  # fmt: skip
    assert in_batch(foo.send("METADATA * CLEAR")) == ("foo", [
        ":irc.test 766 foo foo avatar :key not set",
        ":irc.test 766 foo foo status :key not set",
    ])  # fmt: skip
    assert in_batch(foo.send("METADATA * LIST")) == ("foo", [])


def test_without_batch_the_lines_come_bare(core: CoreHarness) -> None:
    foo = modern(core, "foo", caps="draft/metadata-2")
    assert foo.send("METADATA * GET avatar") == [":irc.test 766 foo foo avatar :key not set"]


def test_another_users_metadata_can_be_read_not_written(core: CoreHarness) -> None:
    foo, bar = modern(core, "foo"), modern(core, "bar")
    foo.send("METADATA * SET color :#c90076")
    assert in_batch(bar.send("METADATA foo GET color")) == (
        "foo", [":irc.test 761 bar foo color * :#c90076"]
    )  # fmt: skip
    assert bar.send("METADATA foo SET color :red") == [
        ":irc.test FAIL METADATA KEY_NO_PERMISSION foo color :Permission denied"
    ]
    assert bar.send("METADATA foo CLEAR") == [
        ":irc.test FAIL METADATA KEY_NO_PERMISSION foo * :Permission denied"
    ]
    assert foo.session.metadata == {"color": "#c90076"}
    assert foo.take() == []


def test_channel_metadata_is_set_by_its_operators(core: CoreHarness) -> None:
    foo, bar, out = modern(core, "foo"), modern(core, "bar"), modern(core, "out")
    together(core, "#chan", foo, bar)
    assert foo.send("METADATA #chan SET display-name :Hash Channel") == [
        ":irc.test 761 foo #chan display-name * :Hash Channel"
    ]
    assert bar.send("METADATA #chan SET display-name :Sharp") == [
        ":irc.test FAIL METADATA KEY_NO_PERMISSION #chan display-name :Permission denied"
    ]
    assert bar.send("METADATA #chan CLEAR") == [
        ":irc.test FAIL METADATA KEY_NO_PERMISSION #chan * :Permission denied"
    ]
    assert in_batch(out.send("METADATA #CHAN GET display-name")) == (
        "#chan", [":irc.test 761 out #chan display-name * :Hash Channel"]
    )  # fmt: skip
    foo.send("MODE #chan +s")
    assert out.send("METADATA #chan LIST") == [
        ":irc.test FAIL METADATA INVALID_TARGET #chan :Invalid metadata target"
    ]


@pytest.mark.parametrize(
    "line, reply",
    [
        ("METADATA foobar LIST", "FAIL METADATA INVALID_TARGET foobar :Invalid metadata target"),
        ("METADATA #nowhere GET a",
         "FAIL METADATA INVALID_TARGET #nowhere :Invalid metadata target"),
        ("METADATA * DESTROY", "FAIL METADATA SUBCOMMAND_INVALID DESTROY :Invalid subcommand"),
        ("METADATA * SET Avatar :x", "FAIL METADATA KEY_INVALID Avatar :Invalid key"),
        ("METADATA * SET :avatar x", "FAIL METADATA KEY_INVALID * :Invalid key"),
        ("METADATA * SET a:b :x", "FAIL METADATA KEY_INVALID a:b :Invalid key"),
        (f"METADATA * SET {'k' * 51} :x", f"FAIL METADATA KEY_INVALID {'k' * 51} :Invalid key"),
        ("METADATA * GET", "461 foo METADATA :Not enough parameters"),
        ("METADATA * SET", "461 foo METADATA :Not enough parameters"),
        ("METADATA * SUB", "461 foo METADATA :Not enough parameters"),
        ("METADATA *", "461 foo METADATA :Not enough parameters"),
        ("METADATA bar SUB a", "FAIL METADATA INVALID_TARGET bar :Invalid metadata target"),
    ],
)  # fmt: skip
def test_refusals_change_nothing(core: CoreHarness, line: str, reply: str) -> None:
    foo = modern(core, "foo", caps="draft/metadata-2")  # FAIL without standard-replies too
    modern(core, "bar")
    assert foo.send(line) == [f":irc.test {reply}"]
    assert foo.session.metadata == {} and foo.session.metadata_subs == set()


def test_the_value_limit_is_exact_in_bytes() -> None:
    core = CoreHarness(metadata_max_value_bytes=8)
    foo = modern(core, "foo")
    assert foo.send("METADATA * SET status :12345678")[0].startswith(":irc.test 761 ")
    assert foo.send("METADATA * SET status :éééé")[0].startswith(":irc.test 761 ")  # 8 bytes
    for value in ("123456789", "éééé1"):
        assert foo.send(f"METADATA * SET status :{value}") == [
            ":irc.test FAIL METADATA VALUE_INVALID :Value is too long"
        ]
    assert foo.session.metadata == {"status": "éééé"}


def test_the_key_limit_is_exact_for_users_and_channels() -> None:
    core = CoreHarness(metadata_max_keys=2)
    foo = modern(core, "foo")
    foo.send("JOIN #c")
    for target, name in (("*", "foo"), ("#c", "#c")):
        foo.send(f"METADATA {target} SET a :1", f"METADATA {target} SET b :2")
        assert foo.send(f"METADATA {target} SET c :3") == [
            f":irc.test FAIL METADATA LIMIT_REACHED {name} :Metadata limit reached"
        ]
        assert foo.send(f"METADATA {target} SET b :two") == [
            f":irc.test 761 foo {name} b * :two"
        ]  # a key already set may change
    assert foo.session.metadata == {"a": "1", "b": "two"}


def test_a_long_value_fits_in_one_reply_line(core: CoreHarness) -> None:
    foo = modern(core, "f" * 30)
    foo.send("JOIN #" + "c" * 49)
    key, value = "k" * 50, "v" * 300
    reply = foo.send(f"METADATA #{'c' * 49} SET {key} :{value}")
    assert reply[0].endswith(value) and len(reply[0]) + 2 <= 512


# -- SUB, UNSUB, SUBS --------------------------------------------------------------------


def test_sub_acknowledges_keys_as_separate_parameters(core: CoreHarness) -> None:
    bar = modern(core, "bar")
    assert bar.send("METADATA * SUB avatar display-name avatar") == [
        ":irc.test 770 bar avatar :display-name"
    ]
    assert bar.send("METADATA * SUB avatar $bad website") == [
        ":irc.test FAIL METADATA KEY_INVALID $bad :Invalid key",
        ":irc.test 770 bar avatar :website",
    ]
    assert bar.send("METADATA * SUBS") == [":irc.test 772 bar avatar display-name :website"]
    assert bar.send("METADATA * UNSUB website nothing") == [":irc.test 771 bar website :nothing"]
    assert bar.send("METADATA bar SUBS") == [":irc.test 772 bar avatar :display-name"]


def test_subscriptions_stop_exactly_at_the_limit() -> None:
    core = CoreHarness(metadata_max_subs=3)
    bar = modern(core, "bar")
    bar.send("METADATA * SUB avatar website")
    assert bar.send("METADATA * SUB avatar foo country city") == [
        ":irc.test FAIL METADATA TOO_MANY_SUBS country :Too many subscriptions",
        ":irc.test 770 bar avatar :foo",
    ]
    assert bar.session.metadata_subs == {"avatar", "website", "foo"}
    assert bar.send("METADATA * SUB website") == [":irc.test 770 bar :website"]  # already in


def test_many_keys_are_split_over_lines() -> None:
    core = CoreHarness(metadata_max_subs=100)
    bar = modern(core, "bar")
    keys = [f"key{n:02}" for n in range(30)]
    bar.send("METADATA * SUB " + " ".join(keys[:14]), "METADATA * SUB " + " ".join(keys[14:]))
    lines = bar.send("METADATA * SUBS")
    assert [line.replace(":", "").split()[3:] for line in lines] == [
        keys[:14], keys[14:28], keys[28:]
    ]  # fmt: skip


# -- who is told -------------------------------------------------------------------------


def test_subscribers_sharing_a_channel_are_told(core: CoreHarness) -> None:
    foo, bar = modern(core, "foo"), modern(core, "bar")
    plain = modern(core, "plain", caps="batch")  # no capability: never told
    other = modern(core, "other")  # not subscribed
    bar.send("METADATA * SUB avatar display-name")
    plain.send("METADATA * SUB display-name")
    together(core, "#chan", foo, bar, plain, other)
    assert foo.send("METADATA * SET display-name :Foo") == [
        ":irc.test 761 foo foo display-name * :Foo"
    ]
    assert bar.take() == [":irc.test METADATA foo display-name * Foo"]
    foo.send("METADATA * SET display-name :Foo")  # no change: nobody is told
    foo.send("METADATA * SET display-name")
    assert bar.take() == [":irc.test METADATA foo display-name *"]
    foo.send("METADATA * SET status :away", "METADATA #chan SET avatar :c.png")
    assert bar.take() == [":irc.test METADATA #chan avatar * c.png"]
    assert plain.take() == [] and other.take() == []


def test_no_shared_channel_no_notification(core: CoreHarness) -> None:
    foo, bar = modern(core, "foo"), modern(core, "bar")
    bar.send("METADATA * SUB display-name")
    foo.send("METADATA * SET display-name :Foo")
    assert bar.take() == []


def test_monitoring_shows_current_values_and_changes(core: CoreHarness) -> None:
    foo, bar = modern(core, "foo"), modern(core, "bar")
    foo.send("METADATA * SET avatar :a.png")
    bar.send("METADATA * SUB avatar")
    assert bar.send("MONITOR + foo,nobody") == [
        ":irc.test 730 bar :foo!~foo@127.0.0.1",
        ":irc.test 731 bar :nobody",
        ":irc.test METADATA foo avatar * a.png",
    ]
    foo.send("METADATA * SET avatar :b.png")
    assert bar.take() == [":irc.test METADATA foo avatar * b.png"]
    late = core.connect()
    late.send("CAP REQ :draft/metadata-2", "METADATA * SET avatar :n.png", "NICK nobody")
    late.send("USER n 0 * :x", "CAP END")
    assert bar.take() == [
        ":irc.test 730 bar :nobody!~n@127.0.0.1",
        ":irc.test METADATA nobody avatar * n.png",
    ]


def test_subscribing_shows_what_is_already_set(core: CoreHarness) -> None:
    foo, bar = modern(core, "foo"), modern(core, "bar")
    together(core, "#chan", foo, bar)
    foo.send("METADATA * SET avatar :a.png", "METADATA #chan SET avatar :c.png")
    assert bar.send("METADATA * SUB avatar") == [
        ":irc.test 770 bar :avatar",
        ":irc.test METADATA #chan avatar * c.png",
        ":irc.test METADATA foo avatar * a.png",
    ]


# -- JOIN and SYNC -----------------------------------------------------------------------


def test_the_joiner_gets_the_channel_and_its_members(core: CoreHarness) -> None:
    foo, bar = modern(core, "foo"), modern(core, "bar")
    bar.send("METADATA * SUB display-name avatar")
    foo.send("METADATA * SET display-name :Foo", "JOIN #chan", "METADATA #chan SET avatar :c")
    lines = bar.send("JOIN #chan")
    assert in_batch(lines[-4:]) == ("#chan", [
        ":irc.test METADATA #chan avatar * c",
        ":irc.test METADATA foo display-name * Foo",
    ])  # fmt: skip
    assert lines[-5].startswith(":irc.test 366 ")
    other = modern(core, "other")
    other.send("METADATA * SUB homepage")  # set nowhere: no batch at all
    assert other.send("JOIN #chan")[-1].startswith(":irc.test 366 ")


def test_members_get_a_new_joiners_metadata(core: CoreHarness) -> None:
    foo, bar = modern(core, "foo"), modern(core, "bar")
    foo.send("METADATA * SUB display-name", "JOIN #a", "JOIN #b")
    bar.send("METADATA * SET display-name :Bar", "JOIN #a")
    assert foo.take()[-1] == ":irc.test METADATA bar display-name * Bar"
    bar.send("JOIN #b")  # they already shared #a
    assert [line for line in foo.take() if "METADATA" in line] == []


def test_sync_sends_what_is_subscribed(core: CoreHarness) -> None:
    foo, bar = modern(core, "foo"), modern(core, "bar")
    together(core, "#chan", foo, bar)
    foo.send("METADATA * SET avatar :a", "METADATA * SET status :s", "METADATA #chan SET avatar :c")
    bar.send("METADATA * SUB avatar")
    assert in_batch(bar.send("METADATA #chan SYNC")) == ("#chan", [
        ":irc.test METADATA #chan avatar * c",
        ":irc.test METADATA foo avatar * a",
    ])  # fmt: skip
    assert in_batch(bar.send("METADATA foo SYNC")) == (
        "foo", [":irc.test METADATA foo avatar * a"]
    )  # fmt: skip


# -- before-connect and the registration burst -------------------------------------------


def test_set_before_registration_is_shown_in_the_burst(core: CoreHarness) -> None:
    client = core.connect()
    client.send("CAP LS 302", f"CAP REQ :{CAPS}")
    assert client.send("METADATA * SET display-name :Foo The First") == [
        ":irc.test 761 * * display-name * :Foo The First"
    ]
    assert (
        client.send("METADATA #chan GET a", "METADATA someone LIST")
        == [":irc.test 451 * :You have not registered"] * 2
    )
    lines = client.send("NICK foo", "USER foo 0 * :x", "CAP END")
    assert batch_in(lines) == ("foo", [":irc.test METADATA foo display-name * :Foo The First"])
    assert lines[-4].startswith(":irc.test 376 ")  # after the MOTD


def test_the_burst_is_an_empty_batch_without_metadata(core: CoreHarness) -> None:
    client = core.connect()
    client.send(f"CAP REQ :{CAPS}")
    lines = client.send("NICK foo", "USER foo 0 * :x", "CAP END")
    assert in_batch(lines[-2:]) == ("foo", [])


# -- what is kept ------------------------------------------------------------------------


def test_an_accounts_metadata_survives_a_restart(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    core = CoreHarness(store)
    alice = with_account(core, "alice")
    alice.send("METADATA * SET avatar :https://a.example/me.png", "METADATA * SET status :hi")
    alice.send("METADATA * SET status")
    core = CoreHarness.on_store(store)
    client = core.connect()
    client.send(f"CAP REQ :{CAPS}", "PASS alice:password1")
    lines = client.send("NICK alice2", "USER a 0 * :x", "CAP END")
    assert batch_in(lines) == (
        "alice2", [":irc.test METADATA alice2 avatar * https://a.example/me.png"]
    )  # fmt: skip
    assert client.session.metadata == {"avatar": "https://a.example/me.png"}
    assert store.metadata("account", "ALICE") == {"avatar": "https://a.example/me.png"}


def test_login_after_registration_merges_and_shows(core: CoreHarness) -> None:
    alice = with_account(core, "alice")
    alice.send("METADATA * SET avatar :old.png", "METADATA * SET color :red")
    guest = modern(core, "guest")
    watcher = modern(core, "watcher")
    watcher.send("METADATA * SUB avatar color")
    together(core, "#c", guest, watcher)
    guest.send("METADATA * SET avatar :new.png")  # set before logging in: the newest word
    watcher.take()
    lines = guest.send("PRIVMSG NickServ :IDENTIFY alice password1")
    assert batch_in(lines) == ("guest", [
        ":irc.test METADATA guest avatar * new.png",
        ":irc.test METADATA guest color * red",
    ])  # fmt: skip
    assert watcher.take() == [":irc.test METADATA guest color * red"]
    assert alice.session.metadata == guest.session.metadata == {"avatar": "new.png", "color": "red"}
    assert core.store.metadata("account", "alice") == {"avatar": "new.png", "color": "red"}
    assert alice.take() == []  # not subscribed


def test_every_client_of_an_account_changes_together(core: CoreHarness) -> None:
    one = with_account(core, "alice")
    two = modern(core, "alice2", account="alice")
    two.send("METADATA * SUB status")
    assert one.send("METADATA * SET status :busy") == [":irc.test 761 alice alice status * :busy"]
    assert two.take() == [":irc.test METADATA alice2 status * busy"]
    assert two.session.metadata == {"status": "busy"}
    assert core.store.metadata("account", "alice") == {"status": "busy"}


def test_a_guests_metadata_is_not_kept(core: CoreHarness) -> None:
    guest = modern(core, "guest")
    guest.send("METADATA * SET avatar :g.png")
    assert core.store.all_metadata("account") == {}


def test_dropping_the_account_forgets_its_metadata(core: CoreHarness) -> None:
    alice = with_account(core, "alice")
    alice.send("METADATA * SET avatar :a.png", "PRIVMSG NickServ :DROP password1")
    assert core.store.metadata("account", "alice") == {}


def test_a_registered_rooms_metadata_survives_a_restart(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite3")
    core = CoreHarness(store)
    alice = with_account(core, "alice")
    alice.send("JOIN #room", "METADATA #room SET url :https://room.example")
    guest = modern(core, "guest")
    guest.send("JOIN #plain", "METADATA #plain SET url :https://plain.example")
    core = CoreHarness.on_store(store)
    reader = modern(core, "reader")
    assert in_batch(reader.send("METADATA #room GET url")) == (
        "#room", [":irc.test 761 reader #room url * :https://room.example"]
    )  # fmt: skip
    assert store.all_metadata("room") == {"#room": {"url": "https://room.example"}}
    owner = modern(core, "alice", account="alice")
    owner.send("PRIVMSG ChanServ :DROP #room")
    assert store.all_metadata("room") == {}
