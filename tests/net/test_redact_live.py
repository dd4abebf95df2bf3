"""REDACT and event playback over real sockets: a redaction leaves no text in the
database's rows, and both outlive a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from liveserver import LineClient, LiveServer

CAPS = "draft/chathistory draft/event-playback draft/message-redaction batch server-time"


def modern(server: LiveServer, nick: str) -> LineClient:
    client = LineClient(server.port)
    client.send(
        f"CAP REQ :{CAPS} message-tags echo-message", f"NICK {nick}", f"USER {nick} 0 * :{nick}"
    )
    client.send("CAP END")
    client.expect(" 376 ")
    return client


def replayed(client: LineClient, target: str) -> list[str]:
    """The lines (without tags) of `CHATHISTORY LATEST <target> * 50`."""
    client.send(f"CHATHISTORY LATEST {target} * 50")
    lines = client.lines_until("BATCH -")
    return [line.split(" ", 1)[1] for line in lines[1:-1]]


def test_redaction_and_events_outlive_a_restart(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    alice = modern(server, "alice")
    alice.send("JOIN #club")
    alice.expect(" 366 ")
    bob = modern(server, "bob")
    bob.send("JOIN #club", "PRIVMSG #club :a secret by mistake", "PRIVMSG #club :hello")
    echo = bob.expect("a secret by mistake")
    msgid = echo.split(" ", 1)[0].split("msgid=")[1].split(";")[0]
    alice.expect("hello")
    bob.send(f"REDACT #club {msgid} :oops")
    assert alice.expect("REDACT").endswith(f":bob!~bob@127.0.0.1 REDACT #club {msgid} oops")
    bob.send("QUIT :later")
    alice.expect("QUIT")
    assert server.stop() == 0

    database = sqlite3.connect(tmp_path / "data" / "miniircd.sqlite3")
    try:
        texts = " ".join(row[0] for row in database.execute("SELECT text FROM messages"))
    finally:
        database.close()
    assert "hello" in texts
    assert "secret" not in texts  # forgotten, not hidden

    server.start()
    try:
        carol = modern(server, "carol")
        carol.send("JOIN #club")
        carol.expect(" 366 ")
        assert replayed(carol, "#club") == [
            ":alice!~alice@127.0.0.1 JOIN #club",
            ":bob!~bob@127.0.0.1 JOIN #club",
            ":bob!~bob@127.0.0.1 PRIVMSG #club :hello",
            ":bob!~bob@127.0.0.1 QUIT :Quit: later",
            ":carol!~carol@127.0.0.1 JOIN #club",
        ]
        carol.send(f"REDACT #club {msgid}")
        assert carol.expect("FAIL") == (
            f":irc.test FAIL REDACT UNKNOWN_MSGID #club {msgid} "
            ":This message does not exist or is too old"
        )
    finally:
        server.stop()
