"""The seam for linking: a user whose connection is on another server sits in the same
tables as a local one (no socket, flood state or backlog of ours), and NAMES, WHO, WHOIS,
MONITOR and PRIVMSG treat it as they treat anyone."""

from __future__ import annotations

from harness import CoreClient, CoreHarness
from miniircd.core import actions
from miniircd.core.user import RemoteUser

FAR = "far!~far@far.example"


LINK: list[bytes] = []  # stands for the queue of the link to leaf.test


def introduce(core: CoreHarness, nick: str = "far") -> RemoteUser:
    """What a server link will do when a server introduces one of its users."""
    state = core.server.state
    now = core.clock.now
    LINK.clear()
    user = RemoteUser(
        state.next_id(), "~far", "far.example", "Far Away", "leaf.test", now, relay=LINK
    )
    state.add(user)
    state.claim_nick(user, nick, now)
    state.register(user)
    return user


def alice_and_far_in_a_room(core: CoreHarness) -> tuple[CoreClient, RemoteUser]:
    alice = core.register("alice")
    alice.send("JOIN #room", "MONITOR + far")
    far = introduce(core)
    core.server.state.join(far, core.server.state.channels["#room"], set())
    return alice, far


def test_a_remote_user_in_a_channel(core: CoreHarness) -> None:
    alice, _ = alice_and_far_in_a_room(core)
    assert alice.send("NAMES #room") == [
        ":irc.test 353 alice = #room :@alice far",
        ":irc.test 366 alice #room :End of /NAMES list",
    ]
    who = alice.send("WHO #room")
    assert ":irc.test 352 alice #room ~far far.example leaf.test far H :1 Far Away" in who
    whois = alice.send("WHOIS far")
    assert whois[0] == ":irc.test 311 alice far ~far far.example * :Far Away"
    assert ":irc.test 312 alice far leaf.test :miniircd IRC server" in whois
    assert not any(" 317 " in line for line in whois)  # idle time: its server's to know
    lusers = alice.send("LUSERS")
    assert lusers[0] == ":irc.test 251 alice :There are 2 users and 0 invisible on 1 servers"


def test_messages_to_and_from_the_channel_reach_a_remote_user(core: CoreHarness) -> None:
    alice, _ = alice_and_far_in_a_room(core)
    assert alice.send("PRIVMSG far :hello there", "PRIVMSG #room :hi all") == []
    assert core.relayed["leaf.test"] == [
        ":alice!~alice@127.0.0.1 PRIVMSG far :hello there",
        ":alice!~alice@127.0.0.1 PRIVMSG #room :hi all",
    ]


def test_monitor_and_quit_of_a_remote_user(core: CoreHarness) -> None:
    alice, far = alice_and_far_in_a_room(core)
    assert alice.send("MONITOR S") == [f":irc.test 730 alice :{FAR}"]
    actions.quit(core.server, far, "leaf.test hub.test")  # as a netsplit will
    core.deliver()
    assert alice.take() == [
        f":{FAR} QUIT :leaf.test hub.test",
        ":irc.test 731 alice :far",
    ]
    assert core.server.state.find_nick("far") is None
    assert "leaf.test" not in core.relayed  # no ERROR line to a user that is not ours
