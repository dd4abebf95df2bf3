"""Behaviour across a network of miniircd servers, sans-IO (tests/network.py): INVITE,
every channel mode and the lists, private messages kept in history and inboxes, and the
user queries that see remote users (core.s2s_channels, core.s2s_events, core.links)."""

from __future__ import annotations

import pytest

from network import A, B, C, CoreNetwork, chain, in_room

ALICE = "alice!~alice@127.0.0.1"
CAROL = "carol!~carol@127.0.0.1"


@pytest.fixture
def net() -> CoreNetwork:
    return chain()




def test_an_invitation_crosses_the_hub_and_lets_the_guest_in(net: CoreNetwork) -> None:
    alice = net.register(A, "alice")
    carol = net.register(C, "carol")
    dave = net.register(A, "dave")
    dave.send("CAP REQ :invite-notify")
    alice.send("JOIN #room", "MODE #room +il 1")
    net.settle()
    dave.send("JOIN #room")  # +i: dave is refused until alice invites him below
    alice.send("MODE #room +v alice")
    net.settle()
    assert carol.send("JOIN #room") == [":c.test 473 carol #room :Cannot join channel (+i)"]
    assert alice.send("INVITE carol #room") == []  # carol's server answers, over two links
    net.settle()
    assert alice.take() == [":c.test 341 alice carol :#room"]
    assert carol.take() == [f":{ALICE} INVITE carol #room"]
    carol.send("JOIN #room")  # past +i and +l (1 member, alice): invited
    net.settle()
    assert alice.take() == [f":{CAROL} JOIN #room"]
    assert [m.name for m in net[B].server.state.channels["#room"].members] == ["alice", "carol"]
    # carol invites dave back on a.test: dave's server answers, dave (with invite-notify)
    # is told, alice (without) is not
    alice.send("MODE #room +o carol")
    net.settle()
    carol.take()
    alice.take()
    carol.send("INVITE dave #room")
    net.settle()
    assert carol.take() == [":a.test 341 carol dave :#room"]
    assert dave.take()[-1] == f":{CAROL} INVITE dave #room"
    assert alice.take() == []
    assert dave.send("JOIN #room")[0] == ":dave!~dave@127.0.0.1 JOIN #room"


def test_an_invitation_to_someone_away_and_invite_notify(net: CoreNetwork) -> None:
    alice, carol = in_room(net)
    alice.send("CAP REQ :invite-notify")
    alice.take()
    erin = net.register(A, "erin")
    erin.send("AWAY :out to lunch")
    net.settle()
    carol.send("INVITE erin #room")
    net.settle()
    assert carol.take() == [
        ":a.test 341 carol erin :#room",
        ":a.test 301 carol erin :out to lunch",
    ]
    assert alice.take() == [f":{CAROL} INVITE erin #room"]  # invite-notify
    assert erin.take()[-1] == f":{CAROL} INVITE erin #room"
    assert "erin" in net[A].server.state.channels["#room"].invited
    assert carol.send("INVITE alice #room") == [
        ":c.test 443 carol alice #room :is already on channel"
    ]


def test_every_channel_mode_and_list_crosses_both_ways(net: CoreNetwork) -> None:
    alice, carol = in_room(net)
    for name in (B, C):  # a.test opened it and told its modes
        assert net[name].server.state.channels["#room"].modes == {"n", "t"}
    alice.send("MODE #room +bkl-t bad!*@* sekrit 9", "MODE #room +eImsC good!*@* friend!*@*")
    net.settle()
    assert carol.take() == [
        f":{ALICE} MODE #room +bkl-t bad!*@* sekrit 9",
        f":{ALICE} MODE #room +eImsC good!*@* friend!*@*",
    ]
    for name in (B, C):
        room = net[name].server.state.channels["#room"]
        assert (room.modes, room.key, room.limit) == (set("Cklmns"), "sekrit", 9)
        assert list(room.bans) == ["bad!*@*"] and list(room.excepts) == ["good!*@*"]
        assert room.bans["bad!*@*"][0] == ALICE
        assert list(room.invex) == ["friend!*@*"]
    assert carol.send("MODE #room b") == [
        f":c.test 367 carol #room bad!*@* {ALICE} :1700000000",
        ":c.test 368 carol #room :End of channel ban list",
    ]
    alice.send("MODE #room +o carol")
    net.settle()
    alice.take()
    carol.send("MODE #room -bk-lmsCe+i bad!*@* sekrit good!*@*")
    net.settle()
    assert alice.take() == [f":{CAROL} MODE #room -bklmsCe+i bad!*@* sekrit good!*@*"]
    room = net[A].server.state.channels["#room"]
    assert (room.modes, room.key, room.limit, room.bans, room.excepts) == (
        set("in"), None, None, {}, {}
    )
    # a change that changes nothing here is shown to no one
    carol.send("MODE #room +i")
    net.settle()
    assert alice.take() == []


def test_a_remote_join_is_never_refused(net: CoreNetwork) -> None:
    """The joiner's server let it in: a ban, key or limit only one side knew of stands
    aside (here b.test does not know of one its peer had already)."""
    alice = net.register(A, "alice")
    carol = net.register(C, "carol")
    alice.send("JOIN #room")
    net.settle()
    room_b = net[B].server.state.channels["#room"]
    room_b.bans["carol!*@*"] = ("someone", 0)
    room_b.modes.update("ik")
    room_b.key = "other"
    carol.send("JOIN #room")
    net.settle()
    assert alice.take() == [f":{CAROL} JOIN #room"]
    assert [m.name for m in room_b.members] == ["alice", "carol"]


def test_the_lists_come_with_the_burst(net: CoreNetwork) -> None:
    alice, carol = in_room(net)
    net.cut(B, C)
    alice.send("MODE #room +bI bad!*@* friend!*@*", "MODE #room +e good!*@*")
    net.settle()
    assert net[C].server.state.channels["#room"].bans == {}
    carol.take()
    net.link(C, B)
    assert [line for line in carol.take() if " MODE " in line] == [
        ":a.test MODE #room +o alice",  # alice is on a.test
        ":b.test MODE #room +e good!*@*",
        ":b.test MODE #room +b bad!*@*",
        ":b.test MODE #room +I friend!*@*",
    ]
    room = net[C].server.state.channels["#room"]
    assert list(room.bans) == ["bad!*@*"]
    assert list(room.excepts) == ["good!*@*"] and list(room.invex) == ["friend!*@*"]
    assert room.bans["bad!*@*"][0] == B  # set by the server that sent its burst


def test_private_messages_are_kept_and_offline_accounts_get_them(net: CoreNetwork) -> None:
    alice = net.register(A, "alice")
    carol = net.register(C, "carol")
    carol.send("REGISTER carol * secretpass")
    net[C].finish_jobs()
    net.settle()
    carol.take()
    carol.send("CAP REQ :server-time message-tags")
    net[C].ids.msgid()  # c.test's next msgid is not a.test's: c.test must keep a.test's
    net[A].clock.now += 0.25  # and a.test's time
    alice.send("PRIVMSG carol :hello carol")
    net.settle()
    (shown,) = [line for line in carol.take() if "PRIVMSG" in line]
    stored_c = net[C].store.messages("carol ~alice", None, None, 10, True)
    assert [(m.text, m.target) for m in stored_c] == [("hello carol", "carol")]
    assert f"msgid={stored_c[0].msgid}" in shown  # the id a.test gave it
    # a.test keeps nothing: alice is a guest there, and carol's account is c.test's, not
    # a.test's (history.party: someone else may own that name on a.test)
    assert net[A].store.messages("carol ~alice", None, None, 10, True) == []
    assert net[A].store.messages("~alice ~carol", None, None, 10, True) == []
    assert stored_c[0].time_ms == int(net[A].clock.now * 1000)
    # carol leaves while alice's next message is on its way: it waits in her inbox
    alice.send("PRIVMSG carol :are you there")
    carol.send("QUIT :bye")
    net.settle()
    assert alice.take() == [
        ":c.test NOTICE alice :carol is offline; your message will be delivered when they log in"
    ]
    assert net[C].store.unread_count("carol") == 1


def test_queries_see_remote_users(net: CoreNetwork) -> None:
    alice, carol = in_room(net)
    carol.send("AWAY :gone", "MODE carol +i")
    net.settle()
    alice.take()
    assert alice.send("WHO c*") == [
        ":a.test 352 alice * ~carol 127.0.0.1 c.test carol G :2 Carol",
        ":a.test 315 alice c* :End of WHO list",
    ]
    assert alice.send("ISON carol nobody") == [":a.test 303 alice :carol"]
    assert alice.send("USERHOST carol") == [":a.test 302 alice :carol=-~carol@127.0.0.1"]
    assert alice.send("MONITOR + dave") == [":a.test 731 alice :dave"]
    dave = net.register(C, "dave")
    assert alice.take() == [":a.test 730 alice :dave!~dave@127.0.0.1"]
    dave.send("QUIT :bye")
    net.settle()
    assert alice.take() == [":a.test 731 alice :dave"]
    whowas = alice.send("WHOWAS dave")
    assert whowas[0] == ":a.test 314 alice dave ~dave 127.0.0.1 * :Dave"
    assert whowas[1].startswith(":a.test 312 alice dave c.test :")


def test_the_away_text_crosses_and_comes_with_the_burst(net: CoreNetwork) -> None:
    alice = net.register(A, "alice")
    carol = net.register(C, "carol")
    carol.send("AWAY :gone fishing")
    net.settle()
    assert ":a.test 301 alice carol :gone fishing" in alice.send("WHOIS carol")
    net.cut(B, C)
    net.link(C, B)
    assert ":a.test 301 alice carol :gone fishing" in alice.send("WHOIS carol")
    carol.send("AWAY")
    net.settle()
    assert alice.send("USERHOST carol") == [":a.test 302 alice :carol=+~carol@127.0.0.1"]
