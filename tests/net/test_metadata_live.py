"""METADATA (IRCv3 draft/metadata-2) over real sockets: the exchanges irctest's
metadata_2.py checks, raw bytes that are not UTF-8, and an account's METADATA and a
registered room's outliving a restart."""

from __future__ import annotations

import re
from pathlib import Path

from liveserver import LineClient, LiveServer

CAPS = "draft/metadata-2 batch"


def modern(server: LiveServer, nick: str, pass_line: str | None = None) -> LineClient:
    client = LineClient(server.port)
    client.send(f"CAP REQ :{CAPS}")
    if pass_line is not None:
        client.send(pass_line)
    client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}", "CAP END")
    client.expect(" (376|422) ")
    return client


def batch(client: LineClient) -> tuple[str, list[str]]:
    """The next `metadata` batch: its target and its lines, without the batch tag."""
    opening = client.expect(" BATCH \\+")
    match = re.fullmatch(r":irc\.test BATCH \+(\S+) metadata (\S+)", opening)
    assert match is not None, opening
    ref, target = match.groups()
    inner = client.lines_until(f" BATCH -{ref}$")[:-1]
    return target, [line.split(" ", 1)[1] for line in inner]


def test_the_irctest_exchanges(live: LiveServer) -> None:
    foo, bar = modern(live, "foo"), modern(live, "bar")
    assert batch(foo)[0] == "foo"  # the registration burst
    assert batch(bar)[0] == "bar"
    bar.send("METADATA * SUB avatar display-name")
    assert bar.expect(" 770 ") == ":irc.test 770 bar avatar :display-name"
    foo.send("JOIN #chan")
    foo.expect(" 366 ")
    bar.send("JOIN #chan")
    bar.expect(" 366 ")
    foo.send("METADATA * SET display-name :Foo The First")
    assert foo.expect(" 761 ") == ":irc.test 761 foo foo display-name * :Foo The First"
    assert bar.expect("METADATA") == ":irc.test METADATA foo display-name * :Foo The First"
    foo.send("METADATA foo GET display-name")
    assert batch(foo) == ("foo", [":irc.test 761 foo foo display-name * :Foo The First"])
    foo.send("METADATA * SET display-name")
    assert foo.expect(" 766 ") == ":irc.test 766 foo foo display-name :key not set"
    assert bar.expect("METADATA") == ":irc.test METADATA foo display-name *"
    bar.send("METADATA #chan SET display-name :Sharp Channel")
    assert bar.expect("FAIL") == (
        ":irc.test FAIL METADATA KEY_NO_PERMISSION #chan display-name :Permission denied"
    )
    foo.send("METADATA foobar LIST")
    assert foo.expect("FAIL") == (
        ":irc.test FAIL METADATA INVALID_TARGET foobar :Invalid metadata target"
    )


def test_values_that_are_not_utf8_or_too_long_are_refused(live: LiveServer) -> None:
    foo = modern(live, "foo")
    batch(foo)
    foo.send_raw(b"METADATA * SET display-name :invalid UTF-8 ->\xc3<-\r\n")
    assert foo.expect("FAIL").split()[1:4] == ["FAIL", "METADATA", "INVALID_UTF8"]
    foo.send_raw(b"METADATA * SET display-name :" + b"abcd" * 120 + b"\r\n")
    assert foo.expect("FAIL") == ":irc.test FAIL METADATA VALUE_INVALID :Value is too long"
    foo.send("METADATA * LIST")
    assert batch(foo) == ("foo", [])


def test_set_before_connect_comes_back_in_the_burst(live: LiveServer) -> None:
    client = LineClient(live.port)
    client.send("CAP LS 302")
    assert "draft/metadata-2=before-connect,max-subs=" in client.expect(" LS ")
    client.send(f"CAP REQ :{CAPS}", "METADATA * SET display-name :Foo The First")
    assert client.expect(" 761 ") == ":irc.test 761 * * display-name * :Foo The First"
    client.send("NICK foo", "USER foo 0 * :foo", "CAP END")
    assert batch(client) == ("foo", [":irc.test METADATA foo display-name * :Foo The First"])


def test_an_account_and_a_room_keep_their_metadata_across_a_restart(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        alice = modern(server, "alice")
        batch(alice)
        alice.send("REGISTER * * password1")
        alice.expect("REGISTER SUCCESS")
        alice.send("METADATA * SET avatar :https://example.com/alice.png", "JOIN #room")
        alice.expect(" 761 ")
        alice.expect(" 366 ")
        alice.send("METADATA #room SET url :https://room.example")
        alice.expect(" 761 ")
        alice.send("QUIT")
        alice.expect_closed()
    finally:
        assert server.stop() == 0

    server = LiveServer(tmp_path)
    server.start()
    try:
        back = modern(server, "laptop", pass_line="PASS alice:password1")
        assert batch(back) == (
            "laptop", [":irc.test METADATA laptop avatar * https://example.com/alice.png"]
        )  # fmt: skip
        reader = modern(server, "reader")
        batch(reader)
        reader.send("METADATA #room GET url", "METADATA laptop LIST")
        assert batch(reader) == (
            "#room",
            [":irc.test 761 reader #room url * :https://room.example"],
        )
        assert batch(reader) == (
            "laptop", [":irc.test 761 reader laptop avatar * :https://example.com/alice.png"]
        )  # fmt: skip
    finally:
        server.stop()
