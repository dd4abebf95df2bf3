"""The services hub shows its services to an ngIRCd peer as users of its own, and a user
there uses them by PRIVMSG (core.service_users, core.commands.memoserv), as transcripts
with a fake ngIRCd peer."""

from __future__ import annotations

from test_link_ngircd import BOB, HUB_005, HUB_376, HUB_PASS, HUB_SERVER, handshake

from harness import CoreHarness, CorePeer
from miniircd.core.commands import memoserv
from network import CoreNetwork

SERVICE_NICKS = [
    ":irc.test NICK NickServ 1 NickServ services 1 + :Account services: /msg NickServ HELP",
    ":irc.test NICK ChanServ 1 ChanServ services 1 + :Room services: /msg ChanServ HELP",
    ":irc.test NICK MemoServ 1 MemoServ services 1 + :Memo services: /msg MemoServ HELP",
]
PONG = ":irc.test PONG irc.test :hub.test"


def services_hub() -> CoreHarness:
    return CoreHarness(services_hub="irc.test")


def linked(core: CoreHarness) -> CorePeer:
    """Linked with hub.test, whose bob is a user there."""
    peer = core.link()
    peer.take()
    handshake(peer)
    peer.send(":hub.test NICK bob 1 ~b 10.0.0.2 1 + :Bob", ":hub.test PING :hub.test")
    peer.take()
    return peer


def test_the_services_hub_introduces_its_services_in_its_burst() -> None:
    core = services_hub()
    core.register("alice")
    peer = core.link()
    peer.take()
    peer.send(HUB_PASS, HUB_SERVER)
    assert peer.send(HUB_005, HUB_376) == [
        ":irc.test NICK alice 1 ~alice 127.0.0.1 1 + :Alice",
        *SERVICE_NICKS,
    ]
    # they are not users in our tables: NAMES, WHO and the like are as before
    assert core.server.state.find_user("MemoServ") is None


def test_other_servers_do_not_introduce_them(core: CoreHarness) -> None:
    for harness in (core, CoreHarness(server_name="b.test", services_hub="a.test")):
        peer = harness.link()
        peer.take()
        assert not any(" NICK " in line for line in handshake(peer))
    # nor does the hub to another miniircd server, which has services of its own
    net = CoreNetwork("a.test", "b.test", services_hub="a.test")
    net.link("b.test", "a.test")
    assert net["b.test"].server.state.find_server("a.test") is not None
    assert net["b.test"].server.state.find_user("MemoServ") is None


def test_a_memo_from_a_user_there_waits_and_comes_at_login() -> None:
    core = services_hub()
    alice = core.register("alice")
    alice.send("REGISTER * * password1", "QUIT")
    peer = linked(core)
    core.clock.now += 1
    assert peer.send(":bob PRIVMSG MemoServ :SEND alice hello  from ngIRCd") == [
        ":MemoServ NOTICE bob :alice is offline; your message will be delivered when they log in."
    ]
    assert core.store.unread_count("alice") == 1
    back = core.connect()
    lines = back.send("PASS alice:password1", "NICK alice", "USER a 0 * :a")
    start = lines.index(":irc.test NOTICE alice :You have 1 unread message(s)")
    assert lines[start + 2] == f":{BOB} PRIVMSG alice :[2023-11-14 22:13:21] hello  from ngIRCd"
    again = core.connect()
    again.send("PASS alice:password1", "NICK alice2", "USER a 0 * :a")
    assert not any("unread" in line for line in again.take())
    peer.take()  # the network learns of them
    # online now: delivered at once, from bob as he is
    assert peer.send(":bob PRIVMSG MemoServ@irc.test :SEND alice are you there?") == [
        ":MemoServ NOTICE bob :Your message to alice was delivered."
    ]
    assert back.take() == [f":{BOB} PRIVMSG alice :are you there?"]
    assert again.take() == [f":{BOB} PRIVMSG alice :are you there?"]


def test_what_a_user_there_may_ask_of_each_service() -> None:
    core = services_hub()
    peer = linked(core)
    assert peer.send(":bob PRIVMSG MemoServ :HELP") == [
        f":MemoServ NOTICE bob :{line}" for line in memoserv.HELP
    ]
    assert peer.send(":bob PRIVMSG MemoServ :SEND nobody hi") == [
        ":MemoServ NOTICE bob :nobody is not a registered account."
    ]
    assert peer.send(":bob PRIVMSG NickServ :IDENTIFY bob secret") == [
        ":NickServ NOTICE bob :IDENTIFY needs a connection to irc.test."
    ]
    assert peer.send(":bob PRIVMSG chanserv :DROP #room") == [
        ":ChanServ NOTICE bob :DROP needs a connection to irc.test."
    ]
    assert peer.send(":bob PRIVMSG NickServ :FROB") == [
        ":NickServ NOTICE bob :Unknown command FROB. Try HELP."
    ]
    assert len(peer.send(":bob PRIVMSG ChanServ :help")) > 2
    assert peer.send(":bob NOTICE MemoServ :SEND nobody hi") == []
    # a server that is not the services hub has no services for them: as any unknown nick
    other = CoreHarness()
    there = linked(other)
    assert there.send(":bob PRIVMSG MemoServ :HELP") == [
        ":irc.test 401 bob MemoServ :No such nick/channel"
    ]


def test_a_user_there_with_a_service_nick_is_killed() -> None:
    core = services_hub()
    alice = core.register("alice")
    peer = core.link()
    peer.take()
    handshake(peer)
    # in their burst: refused, and killed there before our NICK MemoServ can collide
    assert peer.send(":hub.test NICK MemoServ 1 ~m 10.0.0.9 1 + :squatter") == [
        ":irc.test KILL MemoServ :MemoServ is reserved for services"
    ]
    assert core.server.state.find_user("MemoServ") is None
    peer.send(":hub.test NICK bob 1 ~b 10.0.0.2 1 + :Bob", ":hub.test PING :hub.test")
    alice.send("JOIN #room")
    peer.send(":bob JOIN #room")
    alice.take()
    # a nick change into one: bob is killed there under the new nick, and goes here
    assert peer.send(":bob NICK chanserv") == [
        ":irc.test KILL chanserv :chanserv is reserved for services"
    ]
    assert alice.take() == [
        f":{BOB} QUIT :Killed (irc.test (chanserv is reserved for services))"
    ]
    assert core.server.state.find_user("bob") is None


def test_a_killed_service_comes_back_once_a_minute() -> None:
    core = services_hub()
    peer = linked(core)
    # ngIRCd killed both users of a collision (or an operator killed it): it comes back
    assert peer.send(":hub.test KILL MemoServ :Nick collision") == [SERVICE_NICKS[2]]
    # killed again at once: another server introduces it too; it stays away
    core.clock.now += 10
    assert peer.send(":oper KILL MemoServ :go away") == []
    core.clock.now += 60
    assert peer.send(":oper KILL NickServ :go away") == [SERVICE_NICKS[0]]
    # a new link starts afresh
    peer.lose()
    again = linked(core)
    assert again.send(":hub.test KILL MemoServ :Nick collision") == [SERVICE_NICKS[2]]
