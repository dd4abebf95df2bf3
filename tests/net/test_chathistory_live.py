"""CHATHISTORY over real sockets: history written by one server process is read by the next."""

from __future__ import annotations

import re
from pathlib import Path

from liveserver import LineClient, LiveServer

CAPS = "CAP REQ :draft/chathistory batch server-time message-tags"


def modern(server: LiveServer, nick: str) -> LineClient:
    client = LineClient(server.port)
    client.send(CAPS, f"NICK {nick}", f"USER {nick} 0 * :{nick}", "CAP END")
    client.expect(r" (376|422) ")
    return client


def test_history_survives_a_restart(live: LiveServer, tmp_path: Path) -> None:
    alice = modern(live, "alice")
    alice.send("JOIN #keep")
    alice.expect(" 366 ")
    alice.send("PRIVMSG #keep :written before", "PRIVMSG #keep :the restart", "PING :sync")
    alice.expect("PONG")  # both messages are handled, hence committed
    alice.close()
    assert live.stop() == 0
    live.log_path.rename(tmp_path / "server-before-restart.log")  # the next one logs afresh

    again = LiveServer(tmp_path)  # the same data dir
    again.start()
    try:
        bob = modern(again, "bob")
        bob.send("JOIN #keep")
        bob.expect(" 366 ")
        bob.send("CHATHISTORY LATEST #keep * 10")
        lines = bob.lines_until(r"^:irc\.test BATCH -")
        opened = re.fullmatch(r":irc\.test BATCH \+(\w+) chathistory #keep", lines[0])
        assert opened is not None, lines
        ref = opened.group(1)
        body = [line.split(" ", 1)[1] for line in lines[1:-1]]
        assert body == [
            ":alice!~alice@127.0.0.1 PRIVMSG #keep :written before",
            ":alice!~alice@127.0.0.1 PRIVMSG #keep :the restart",
        ]
        assert all(f"batch={ref}" in line and "msgid=" in line for line in lines[1:-1])
        assert lines[-1] == f":irc.test BATCH -{ref}"
    finally:
        again.stop()
