"""WHO over real loopback sockets: which users a mask, a channel and an exact nick list."""

from __future__ import annotations

from liveserver import LiveServer


def who_nicks(lines: list[str]) -> list[str]:
    """The nick field of each 352 reply."""
    return [line.split()[7] for line in lines if " 352 " in line]


def test_who_and_invisible_users(live: LiveServer) -> None:
    ghost, eve, friend = live.client("ghost"), live.client("eve"), live.client("friend")
    ghost.send("MODE ghost +i", "JOIN #c")
    ghost.expect(" 366 ")
    friend.send("JOIN #c")
    friend.expect(" 366 ")
    # an exact nick names one user, invisible or not
    eve.send("WHO ghost")
    assert eve.lines_until(" 315 ") == [
        ":irc.test 352 eve * ~ghost 127.0.0.1 irc.test ghost H :0 ghost",
        ":irc.test 315 eve ghost :End of WHO list",
    ]
    # a mask, or a channel eve is not on, leaves out the invisible user she shares none with
    eve.send("WHO gh*")
    assert eve.lines_until(" 315 ") == [":irc.test 315 eve gh* :End of WHO list"]
    eve.send("WHO #c")
    assert who_nicks(eve.lines_until(" 315 ")) == ["friend"]
    # sharing a channel makes the invisible user visible to a mask
    friend.send("WHO gh*")
    assert who_nicks(friend.lines_until(" 315 ")) == ["ghost"]
    for client in (ghost, eve, friend):
        client.close()
