"""KICK of several nicks, NAMES of several channels, INVITE's list and LIST's conditions,
over real loopback sockets, as irctest drives them."""

from __future__ import annotations

from liveserver import LiveServer


def test_many_target_channel_commands(live: LiveServer) -> None:
    alice, bob, carol = (live.client(nick) for nick in ("alice", "bob", "carol"))
    welcome = alice.seen
    assert any(" ELIST=CMNTU " in line for line in welcome)
    assert any(" TARGMAX=JOIN:,KICK:4,LIST:,NAMES:," in line for line in welcome)

    alice.send("JOIN #chan1", "JOIN #chan2")
    alice.expect(" 366 alice #chan2 ")
    for client in (bob, carol):
        client.send("JOIN #chan2")
        client.expect(" 366 ")

    alice.send("NAMES #chan1,#nowhere,#chan2")
    assert alice.lines_until(" 366 alice #chan1,#nowhere,#chan2 ")[-3:] == [
        ":irc.test 353 alice = #chan1 :@alice",
        ":irc.test 353 alice = #chan2 :@alice bob carol",
        ":irc.test 366 alice #chan1,#nowhere,#chan2 :End of /NAMES list",
    ]

    carol.send("LIST >1", "LIST *an1", "LIST !*an1,<5")
    assert carol.lines_until(" 323 ")[1:] == [
        ":irc.test 322 carol #chan2 3 :",
        ":irc.test 323 carol :End of /LIST",
    ]
    assert carol.lines_until(" 323 ")[1:] == [
        ":irc.test 322 carol #chan1 1 :",
        ":irc.test 323 carol :End of /LIST",
    ]
    assert carol.lines_until(" 323 ")[1:] == [
        ":irc.test 322 carol #chan2 3 :",
        ":irc.test 323 carol :End of /LIST",
    ]

    alice.send("KICK #chan2 bob,nobody,carol :bye")
    assert alice.lines_until("KICK #chan2 carol") == [
        ":alice!~alice@127.0.0.1 KICK #chan2 bob :bye",
        ":irc.test 401 alice nobody :No such nick/channel",
        ":alice!~alice@127.0.0.1 KICK #chan2 carol :bye",
    ]
    assert carol.expect("KICK") == ":alice!~alice@127.0.0.1 KICK #chan2 bob :bye"
    assert carol.expect("KICK") == ":alice!~alice@127.0.0.1 KICK #chan2 carol :bye"

    alice.send("MODE #chan2 +i", "INVITE carol #chan2")
    carol.expect("INVITE carol #chan2")
    carol.send("INVITE")
    assert carol.lines_until(" 337 ") == [
        ":irc.test 336 carol :#chan2",
        ":irc.test 337 carol :End of /INVITE list",
    ]
    carol.send("JOIN #chan2", "INVITE")
    carol.expect(" 366 carol #chan2 ")
    assert carol.expect(" 33[67] ") == ":irc.test 337 carol :End of /INVITE list"
