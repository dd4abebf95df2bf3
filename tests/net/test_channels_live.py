"""Channel flows among several real clients over loopback sockets."""

from __future__ import annotations

from liveserver import LiveServer


def test_three_clients_join_talk_part_quit(live: LiveServer) -> None:
    alice, bob, carol = (live.client(nick) for nick in ("alice", "bob", "carol"))
    alice.send("JOIN #room")
    assert alice.lines_until(" 366 ") == [
        ":alice!~alice@127.0.0.1 JOIN #room",
        ":irc.test 353 alice = #room :@alice",
        ":irc.test 366 alice #room :End of /NAMES list",
    ]
    bob.send("JOIN #room")
    bob.expect(" 366 ")
    alice.expect("bob!~bob@127.0.0.1 JOIN #room")
    carol.send("JOIN #room")
    assert carol.expect(" 353 ") == ":irc.test 353 carol = #room :@alice bob carol"
    carol.expect(" 366 ")
    alice.expect("carol!~carol@127.0.0.1 JOIN #room")
    bob.expect("carol!~carol@127.0.0.1 JOIN #room")

    alice.send("PRIVMSG #room :hello, room")
    for other in (bob, carol):
        assert other.expect("PRIVMSG") == ":alice!~alice@127.0.0.1 PRIVMSG #room :hello, room"

    bob.send("PRIVMSG alice :just you")
    assert alice.expect("PRIVMSG") == ":bob!~bob@127.0.0.1 PRIVMSG alice :just you"

    bob.send("PART #room :bye for now")
    for client in (alice, bob, carol):
        assert client.expect("PART") == ":bob!~bob@127.0.0.1 PART #room :bye for now"

    carol.send("QUIT :off to bed")
    assert carol.expect_closed() == ["ERROR :Closing link: carol[127.0.0.1] (Quit: off to bed)"]
    assert alice.expect("QUIT") == ":carol!~carol@127.0.0.1 QUIT :Quit: off to bed"

    alice.send("PRIVMSG #room :still here?")  # only alice is left; bob must not get it
    bob.send("PING :sync")
    assert bob.expect(".") == ":irc.test PONG irc.test :sync"


def test_dropped_connection_is_relayed_as_quit(live: LiveServer) -> None:
    alice, bob = live.client("alice"), live.client("bob")
    alice.send("JOIN #r")
    alice.expect(" 366 ")
    bob.send("JOIN #r")
    bob.expect(" 366 ")
    bob.close()
    assert alice.expect("QUIT") == (
        ":bob!~bob@127.0.0.1 QUIT :Remote host closed the connection"
    )


def test_join_twenty_channels_at_once(live: LiveServer) -> None:
    alice = live.client("alice")
    names = [f"#chan{i}" for i in range(20)]
    alice.send("JOIN " + ",".join(names))
    lines = alice.lines_until(" 366 alice #chan19 ")
    joins = [line.split()[-1] for line in lines if " JOIN " in line]
    assert joins == names
    assert sum(" 366 " in line for line in lines) == 20
    alice.send("LIST")
    listed = alice.lines_until(" 323 ")
    assert sum(" 322 " in line for line in listed) == 20


def test_an_invitation_gets_past_the_limit(live: LiveServer) -> None:
    alice, bob = live.client("alice"), live.client("bob")
    alice.send("JOIN #full", "MODE #full +l 1")
    alice.expect("MODE #full")
    bob.send("JOIN #full")
    assert bob.expect(" 471 ") == ":irc.test 471 bob #full :Cannot join channel (+l)"
    alice.send("INVITE bob #full")
    bob.expect("INVITE bob")
    bob.send("JOIN #full")
    assert bob.expect("JOIN|471") == ":bob!~bob@127.0.0.1 JOIN #full"
