"""RENAME (IRCv3 draft/channel-rename) over real sockets: the RENAME line, the PART/JOIN
fallback, and a renamed registered room with its history surviving a restart."""

from __future__ import annotations

import re
from pathlib import Path

from liveserver import LineClient, LiveServer


def renamer(server: LiveServer, nick: str) -> LineClient:
    client = LineClient(server.port)
    client.send("CAP LS 302", "CAP REQ :draft/channel-rename")
    client.expect(" ACK ")
    client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}", "CAP END")
    client.expect(" 376 ")
    return client


def test_renamed_room_keeps_its_history_across_a_restart(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    alice = renamer(server, "alice")
    alice.send("REGISTER * * alice-password")
    alice.expect("REGISTER SUCCESS")
    alice.send("JOIN #old", "TOPIC #old :kept")
    alice.expect("TOPIC")
    bob = server.client("bob")
    bob.send("JOIN #old")
    bob.expect(" 366 ")
    bob.send("PRIVMSG #old :said under the old name")
    alice.expect("PRIVMSG")
    alice.send("RENAME #old #new :a better name")
    assert alice.expect("RENAME") == ":alice!~alice@127.0.0.1 RENAME #old #new :a better name"
    prefix = "bob!~bob@127.0.0.1"
    fallback = bob.lines_until(" 366 ")
    assert fallback[:3] == [
        f":{prefix} PART #old :a better name",
        f":{prefix} JOIN #new",
        ":irc.test 332 bob #new :kept",
    ]
    assert re.fullmatch(r":irc\.test 333 bob #new alice!~alice@127\.0\.0\.1 :\d+", fallback[3])
    assert fallback[4:] == [
        ":irc.test 353 bob = #new :@alice bob",
        ":irc.test 366 bob #new :End of /NAMES list",
    ]
    alice.send("QUIT")
    alice.expect_closed()
    assert server.stop() == 0

    server = LiveServer(tmp_path)
    server.start()
    try:
        carol = server.client("carol")
        carol.send("JOIN #new")
        joined = carol.lines_until("end of recent history")
        assert ":irc.test 332 carol #new :kept" in joined
        assert any(
            line.startswith(f":{prefix} PRIVMSG #new :[")
            and line.endswith("said under the old name")
            for line in joined
        ), joined
        carol.send("LIST")
        listed = carol.lines_until(" 323 ")
        assert [line.split()[3] for line in listed if " 322 " in line] == ["#new"]
    finally:
        server.stop()
