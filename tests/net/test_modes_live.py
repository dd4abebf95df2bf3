"""Ban and invite exceptions, extbans, +C and STATUSMSG among real clients over sockets."""

from __future__ import annotations

import re

from liveserver import LineClient, LiveServer


def synced(client: LineClient, token: str) -> list[str]:
    """Every line the client gets before the answer to a PING sent now."""
    client.send(f"PING :{token}")
    return client.lines_until(f"PONG irc.test :{token}")[:-1]


def test_lists_extbans_noctcp_and_statusmsg(live: LiveServer) -> None:
    alice, bob, carol = (live.client(nick) for nick in ("alice", "bob", "carol"))
    isupport = " ".join(line for line in alice.seen if " 005 " in line).split()
    for token in ("CHANMODES=beI,k,l,Cimnst", "EXCEPTS=e", "INVEX=I", "EXTBAN=$,am"):
        assert token in isupport
    assert "STATUSMSG=@+" in isupport and "MAXLIST=beI:100" in isupport
    for client in (alice, bob, carol):
        client.send("JOIN #m")
        client.expect(" 366 ")
    alice.send("MODE #m +v bob")
    assert bob.expect(" MODE ") == ":alice!~alice@127.0.0.1 MODE #m +v bob"

    # STATUSMSG: @#m reaches the ops only, +#m the voiced members too
    carol.send("PRIVMSG @#m :ops only")
    assert alice.expect("PRIVMSG") == ":carol!~carol@127.0.0.1 PRIVMSG @#m :ops only"
    carol.send("PRIVMSG +#m :voices too")
    assert bob.expect("PRIVMSG") == ":carol!~carol@127.0.0.1 PRIVMSG +#m :voices too"
    assert alice.expect("PRIVMSG") == ":carol!~carol@127.0.0.1 PRIVMSG +#m :voices too"

    # a mute keeps carol in but silent, until a mute exception
    alice.send("MODE #m +b $m:carol")
    assert carol.expect(r"MODE #m \+b") == ":alice!~alice@127.0.0.1 MODE #m +b $m:carol!*@*"
    carol.send("PRIVMSG #m :can you hear me?")
    assert carol.expect(" 404 ") == ":irc.test 404 carol #m :Cannot send to channel"
    alice.send("MODE #m +e $m:*!*carol@*")
    carol.expect(r" MODE #m \+e ")
    carol.send("PRIVMSG #m :now?")
    assert bob.expect("PRIVMSG") == ":carol!~carol@127.0.0.1 PRIVMSG #m :now?"

    # +C: ACTION passes, other CTCPs do not
    alice.send("MODE #m +C")
    bob.expect(r" MODE #m \+C")
    bob.send("PRIVMSG #m :\x01VERSION\x01", "PRIVMSG #m :\x01ACTION nods\x01")
    assert bob.expect(" 404 ").endswith(":Cannot send CTCP to channel (+C: only ACTION is allowed)")
    assert carol.expect("PRIVMSG") == ":bob!~bob@127.0.0.1 PRIVMSG #m :\x01ACTION nods\x01"
    assert not any("VERSION" in line for line in synced(carol, "c1"))

    # +I lets dave past +i; erin still needs an invitation
    alice.send("MODE #m +iI dave")
    assert alice.expect(r"MODE #m \+iI") == ":alice!~alice@127.0.0.1 MODE #m +iI dave!*@*"
    alice.send("MODE #m I")
    entry = alice.expect(" 346 ")
    assert re.fullmatch(r":irc\.test 346 alice #m dave!\*@\* alice!~alice@127\.0\.0\.1 :\d+", entry)
    assert alice.expect(" 347 ") == ":irc.test 347 alice #m :End of Channel Invite Exception List"
    dave, erin = live.client("dave"), live.client("erin")
    dave.send("JOIN #m")
    assert dave.expect("JOIN") == ":dave!~dave@127.0.0.1 JOIN #m"
    erin.send("JOIN #m")
    assert erin.expect(" 473 ") == ":irc.test 473 erin #m :Cannot join channel (+i)"
