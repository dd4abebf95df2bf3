"""IRCv3 draft/multiline over real sockets: a batch in, one message out, limits, restart."""

from __future__ import annotations

import re
from pathlib import Path

from liveserver import LineClient, LiveServer

ML = "draft/multiline"
BASE = "message-tags batch echo-message server-time labeled-response"
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
ALICE = re.escape(":alice!~alice@127.0.0.1")


def modern(live: LiveServer, nick: str, caps: str, channel: str) -> LineClient:
    client = LineClient(live.port)
    client.send("CAP LS 302", f"CAP REQ :{caps}", f"NICK {nick}", f"USER {nick} 0 * :x")
    client.send("CAP END", f"JOIN {channel}")
    client.expect(f" 366 {nick} ")
    return client


def read(client: LineClient, count: int) -> list[str]:
    return [client.expect(".") for _ in range(count)]


def test_a_batch_is_one_message_for_each_kind_of_client(live: LiveServer) -> None:
    alice = modern(live, "alice", f"{BASE} {ML}", "#test")
    bob = modern(live, "bob", f"{BASE} {ML}", "#test")
    charlie = modern(live, "charlie", BASE, "#test")
    alice.expect("JOIN #test")  # bob's
    alice.expect("JOIN #test")  # charlie's
    bob.expect("JOIN #test")
    alice.send(
        f"@label=xyz BATCH +123 {ML} #test",
        "@batch=123 PRIVMSG #test hello",
        "@batch=123 PRIVMSG #test :#how is ",
        "@batch=123;draft/multiline-concat PRIVMSG #test :everyone?",
        "BATCH -123",
    )
    echo = read(alice, 5)
    opening = re.fullmatch(
        rf"@time=({TIME});msgid=(\S+);label=xyz {ALICE} BATCH \+(\w+) {ML} #test", echo[0]
    )
    assert opening is not None, echo
    time, msgid, ref = opening.groups()
    assert echo[1:] == [
        f"@batch={ref} :alice!~alice@127.0.0.1 PRIVMSG #test :hello",
        f"@batch={ref} :alice!~alice@127.0.0.1 PRIVMSG #test :#how is ",
        f"@batch={ref};draft/multiline-concat :alice!~alice@127.0.0.1 PRIVMSG #test :everyone?",
        f":alice!~alice@127.0.0.1 BATCH -{ref}",
    ]
    relay = read(bob, 5)
    assert relay[0] == f"@time={time};msgid={msgid} :alice!~alice@127.0.0.1 BATCH +{ref} {ML} #test"
    assert relay[1:] == echo[1:]
    assert read(charlie, 3) == [
        f"@time={time};msgid={msgid} :alice!~alice@127.0.0.1 PRIVMSG #test :hello",
        f"@time={time} :alice!~alice@127.0.0.1 PRIVMSG #test :#how is ",
        f"@time={time} :alice!~alice@127.0.0.1 PRIVMSG #test :everyone?",
    ]


def test_limits_with_flood_control_on(live: LiveServer) -> None:
    alice = modern(live, "alice", f"{BASE} {ML}", "#test")
    alice.send(f"BATCH +123 {ML} #test", *["@batch=123 PRIVMSG #test hi"] * 33)
    assert alice.expect("FAIL") == (
        ":irc.test FAIL BATCH MULTILINE_MAX_LINES 32 :Multiline batch max-lines exceeded"
    )
    alice.send("BATCH -123", f"BATCH +234 {ML} #test")
    alice.send(*["@batch=234 PRIVMSG #test " + "x" * 400] * 11)
    assert alice.expect("FAIL") == (
        ":irc.test FAIL BATCH MULTILINE_MAX_BYTES 4096 :Multiline batch max-bytes exceeded"
    )


def test_kept_as_one_message_across_a_restart(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    alice = modern(server, "alice", f"batch {ML}", "#keep")
    alice.send(f"BATCH +1 {ML} #keep", "@batch=1 PRIVMSG #keep :one", "@batch=1 PRIVMSG #keep :two")
    alice.send("BATCH -1", "PING :sent")
    alice.expect("PONG")
    assert server.stop() == 0

    server = LiveServer(tmp_path)
    server.start()
    reader = modern(server, "reader", f"batch server-time {ML}", "#keep")
    replay = reader.lines_until(r"BATCH -\w+$")  # the multiline batch closes first
    start = next(i for i, line in enumerate(replay) if f"{ML} #keep" in line)
    assert [line.split(" ", 1)[1] for line in replay[start + 1 : start + 4]] == [
        ":alice!~alice@127.0.0.1 PRIVMSG #keep :one",
        ":alice!~alice@127.0.0.1 PRIVMSG #keep :two",
        ":alice!~alice@127.0.0.1 BATCH -" + replay[start].split("+")[1].split()[0],
    ]
    plain = server.client("plain")
    plain.send("HISTORY #keep")
    lines = plain.lines_until("end of history")
    assert lines[0] == ":irc.test NOTICE #keep :*** history: 1 message(s) follow"
    assert re.fullmatch(rf"{ALICE} PRIVMSG #keep :\[.*\] one", lines[1])
    assert lines[2:] == [
        ":alice!~alice@127.0.0.1 PRIVMSG #keep :two",
        ":irc.test NOTICE #keep :*** end of history",
    ]
