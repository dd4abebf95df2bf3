"""Rooms, history and the inbox survive restarts and kill -9, over real sockets and SQLite."""

from __future__ import annotations

import base64
import re
import sqlite3
import threading
from pathlib import Path

from liveserver import LineClient, LiveServer


def sasl_login(client: LineClient, nick: str, password: str) -> list[str]:
    """Log in with SASL PLAIN during registration; the lines up to the end of the MOTD."""
    payload = base64.b64encode(f"\0{nick}\0{password}".encode()).decode()
    client.send("CAP LS 302", f"NICK {nick}", f"USER {nick} 0 * :{nick}", "CAP REQ :sasl")
    client.expect("ACK")
    client.send("AUTHENTICATE PLAIN")
    client.expect("AUTHENTICATE")
    client.send(f"AUTHENTICATE {payload}")
    client.expect(" 903 ")
    client.send("CAP END")
    return client.lines_until(" 376 ")


def test_restart_keeps_rooms_history_and_inbox(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    alice = server.client("alice")
    alice.send("REGISTER * * alice-password")
    alice.expect("REGISTER SUCCESS")
    alice.send("JOIN #club", "TOPIC #club :we remember", "PRIVMSG #club :before the restart")
    alice.expect("TOPIC")
    alice.send("QUIT")
    alice.expect_closed()
    bob = server.client("bob")
    bob.send("PRIVMSG alice :left while you were away")
    assert bob.expect("NOTICE").endswith("will be delivered when they log in")
    assert server.stop() == 0

    server = LiveServer(tmp_path)
    server.start()
    try:
        watcher = server.client("watcher")
        watcher.send("LIST")
        assert ":irc.test 322 watcher #club 0 :we remember" in watcher.lines_until(" 323 ")
        alice = LineClient(server.port)
        sasl_login(alice, "alice", "alice-password")
        assert alice.expect("unread") == ":irc.test NOTICE alice :You have 1 unread message(s)"
        delivered = alice.expect("PRIVMSG")
        assert re.search(r"PRIVMSG alice :\[[\d :-]+\] left while you were away$", delivered)
        alice.send("JOIN #club")
        joined = alice.lines_until("end of recent history")
        assert ":irc.test 332 alice #club :we remember" in joined
        assert ":irc.test 353 alice = #club :@alice" in joined  # the founder is op again
        assert any(line.endswith("] before the restart") for line in joined)
    finally:
        server.stop()


def test_kill_9_during_a_message_storm_loses_nothing_seen(tmp_path: Path) -> None:
    unlimited = tmp_path / "storm.toml"
    # The storm is the point here, not flood control; nor retention, which (at the restart's
    # first tick) would prune the room past history_max, oldest first.
    unlimited.write_text("[flood]\nenabled = false\n\n[history]\nhistory_max = 1000000\n")
    server = LiveServer(tmp_path, "--config", str(unlimited))
    server.start()
    listener = server.client("listener")
    listener.send("JOIN #storm")
    listener.expect(" 366 ")
    senders = [server.client(f"sender{i}") for i in range(4)]
    for sender in senders:
        sender.send("JOIN #storm")
        sender.expect(" 366 ")

    def flood(index: int, client: LineClient) -> None:
        try:
            for n in range(5000):
                client.send(f"PRIVMSG #storm :s{index}-{n}")
        except OSError:
            pass  # the server is gone: that is the point

    threads = [threading.Thread(target=flood, args=(i, s)) for i, s in enumerate(senders)]
    for thread in threads:
        thread.start()
    seen: list[str] = []
    while len(seen) < 2000:
        line = listener.expect("PRIVMSG #storm")
        seen.append(line.rsplit(" :", 1)[1])
    server.kill9()
    for thread in threads:
        thread.join(10)
    try:  # whatever was already on its way to the listener was sent, so it counts too
        while True:
            line = listener.read_line(deadline=0)
            if line is None:
                break
            if "PRIVMSG #storm" in line:
                seen.append(line.rsplit(" :", 1)[1])
    except (TimeoutError, OSError):
        pass

    db_path = server.data_dir / "miniircd.sqlite3"
    server = LiveServer(tmp_path, "--config", str(unlimited))
    server.start()  # recovery runs on open
    server.stop()
    db = sqlite3.connect(db_path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = [row[0] for row in db.execute("SELECT text FROM messages ORDER BY id")]
        msgids = [row[0] for row in db.execute("SELECT msgid FROM messages")]
    finally:
        db.close()
    assert len(stored) == len(set(stored)), "a message was stored twice"
    assert len(msgids) == len(set(msgids))
    missing = set(seen) - set(stored)
    assert not missing, f"{len(missing)} delivered messages are not in history"
    for index in range(4):  # each sender's messages are stored in the order sent, no gaps
        mine = [int(text.split("-")[1]) for text in stored if text.startswith(f"s{index}-")]
        assert mine == list(range(len(mine)))
