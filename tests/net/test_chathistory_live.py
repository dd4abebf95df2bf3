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


def registered(server: LiveServer, nick: str) -> LineClient:
    """A modern client that registered (and so is logged in to) the account `nick`."""
    client = modern(server, nick)
    client.send(f"REGISTER * * password-of-{nick}")
    client.expect("REGISTER SUCCESS")
    return client


def history_of(client: LineClient, target: str) -> tuple[str, list[str]]:
    """`CHATHISTORY LATEST <target> * 10`: the batch's target and the lines in it, tags off."""
    client.send(f"CHATHISTORY LATEST {target} * 10")
    lines = client.lines_until(r"^:irc\.test (BATCH -|FAIL )")
    opened = re.fullmatch(r":irc\.test BATCH \+\w+ chathistory (\S+)", lines[0])
    assert opened is not None, lines
    return opened.group(1), [line.split(" ", 1)[1] for line in lines[1:-1]]


def test_private_batch_names_the_other_party_as_asked(live: LiveServer) -> None:
    """Never case-folded: the target as the client wrote it (irctest's DM tests ask in
    capitals), also for a guest that has left."""
    alice = registered(live, "alice")
    gus = modern(live, "Gus")  # a guest
    gus.send("PRIVMSG alice :from Gus", "QUIT")
    gus.expect_closed()
    alice.expect("from Gus")
    assert history_of(alice, "GUS") == ("GUS", [":Gus!~Gus@127.0.0.1 PRIVMSG alice :from Gus"])


def test_target_that_is_no_correspondent_is_invalid(live: LiveServer) -> None:
    alice = registered(live, "alice")
    registered(live, "Carol")
    alice.send("CHATHISTORY LATEST carol * 10")
    assert alice.expect("FAIL|BATCH") == (
        ":irc.test FAIL CHATHISTORY INVALID_TARGET LATEST carol :Messages could not be retrieved"
    )


def test_messages_to_oneself_are_kept(live: LiveServer) -> None:
    alice = registered(live, "Alice")
    alice.send("PRIVMSG alice :note to self")
    alice.expect("note to self")  # delivered to herself
    assert history_of(alice, "ALICE") == (
        "ALICE",
        [":Alice!~Alice@127.0.0.1 PRIVMSG Alice :note to self"],
    )


def test_a_room_one_is_not_in_is_an_invalid_target(live: LiveServer) -> None:
    alice = registered(live, "alice")
    alice.send("JOIN #talk", "PRIVMSG #talk :members only")
    alice.expect(" 366 ")
    bob = modern(live, "bob")
    bob.send("CHATHISTORY LATEST #talk * 10")
    assert bob.expect("FAIL|BATCH") == (
        ":irc.test FAIL CHATHISTORY INVALID_TARGET LATEST #talk :Messages could not be retrieved"
    )
    bob.send("JOIN #talk")
    bob.expect(" 366 ")
    said = ":alice!~alice@127.0.0.1 PRIVMSG #talk :members only"
    assert history_of(bob, "#TALK") == ("#TALK", [said])
