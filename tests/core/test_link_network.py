"""A network of miniircd servers, sans-IO (tests/network.py): a chain a - b - c where b is
a hub, tags carried across every link, netsplits and relinks, nick collisions settled by
the nicks' times, loops refused (core.s2s_ngircd, core.s2s_events, core.links)."""

from __future__ import annotations

import pytest

from network import A, B, C, CoreNetwork, chain, in_room


@pytest.fixture
def net() -> CoreNetwork:
    return chain()




def test_the_chain_is_one_network(net: CoreNetwork) -> None:
    for name in (A, B, C):
        others = {s.name for s in net[name].server.state.servers.values()}
        assert others == {A, B, C} - {name}
    servers = net[A].server.state.servers
    assert (servers[B].hops, servers[C].hops, servers[C].uplink) == (1, 2, B)


def test_users_on_either_end_talk_in_a_room_and_in_private(net: CoreNetwork) -> None:
    alice, carol = in_room(net)
    assert carol.send("NAMES #room") == [
        ":c.test 353 carol = #room :@alice carol",
        ":c.test 366 carol #room :End of /NAMES list",
    ]
    alice.send("PRIVMSG #room :hello from a", "PRIVMSG carol :psst")
    net.settle()
    assert carol.take() == [
        ":alice!~alice@127.0.0.1 PRIVMSG #room :hello from a",
        ":alice!~alice@127.0.0.1 PRIVMSG carol :psst",
    ]
    carol.send("PRIVMSG alice :back", "PART #room :later")
    net.settle()
    assert alice.take() == [
        ":carol!~carol@127.0.0.1 PRIVMSG alice :back",
        ":carol!~carol@127.0.0.1 PART #room :later",
    ]
    assert [m.name for m in net[B].server.state.channels["#room"].members] == ["alice"]


def test_one_message_has_one_id_and_time_on_every_server(net: CoreNetwork) -> None:
    alice, carol = in_room(net, "message-tags", "server-time")
    net[A].clock.now += 0.25  # a's clock differs from c's: c shows and keeps a's time
    alice.send("PRIVMSG #room :one message")
    net.settle()
    assert alice.take() == []  # no echo-message: the sender sees nothing
    (shown,) = carol.take()
    tags = dict(item.split("=", 1) for item in shown[1 : shown.index(" ")].split(";"))
    msgid = tags["msgid"]
    stored_a = net[A].store.messages("#room", None, None, 10, True)
    stored_c = net[C].store.messages("#room", None, None, 10, True)
    assert [(m.msgid, m.time_ms) for m in stored_a] == [(m.msgid, m.time_ms) for m in stored_c]
    assert stored_c[-1].msgid == msgid and stored_c[-1].text == "one message"
    assert stored_c[-1].time_ms == int(net[A].clock.now * 1000)


def test_a_netsplit_and_a_relink(net: CoreNetwork) -> None:
    alice, carol = in_room(net)
    net.cut(C, B)
    assert alice.take() == [":carol!~carol@127.0.0.1 QUIT :b.test c.test"]
    assert net[A].server.state.find_server(C) is None
    assert net[A].server.state.find_user("carol") is None
    net.link(C, B)
    assert alice.take() == [":carol!~carol@127.0.0.1 JOIN #room"]
    carol.take()
    alice.send("PRIVMSG carol :welcome back")
    net.settle()
    assert carol.take() == [":alice!~alice@127.0.0.1 PRIVMSG carol :welcome back"]


def test_the_older_nick_wins_a_collision_at_linking(net: CoreNetwork) -> None:
    net.cut(C, B)
    older = net.register(A, "sam")
    net[C].clock.now += 5
    newer = net.register(C, "sam")
    net.link(C, B)
    assert newer.closed and newer.take()[-1].endswith("(Killed (Nick collision))")
    assert not older.closed
    for name in (A, B, C):
        holder = net[name].server.state.find_user("sam")
        assert holder is not None and holder.host == "127.0.0.1"
        assert holder.server == (None if name == A else A)


def test_nicks_taken_at_the_same_time_are_both_killed(net: CoreNetwork) -> None:
    net.cut(C, B)
    one = net.register(A, "sam")
    other = net.register(C, "sam")
    net.link(C, B)
    assert one.closed and other.closed
    assert all(net[name].server.state.find_user("sam") is None for name in (A, B, C))


def test_a_loop_is_refused(net: CoreNetwork) -> None:
    carol = net.register(C, "carol")
    net.link(A, C)  # c.test knows a.test already, through b.test: refused
    assert [link.block.name for link in net[A].server.state.links.values()] == [B]
    assert [link.block.name for link in net[C].server.state.links.values()] == [B]
    assert net[A].server.state.find_user("carol") is not None and not carol.closed


def test_concurrent_renames_into_one_nick_keep_the_older(net: CoreNetwork) -> None:
    """Both rename before either hears of the other: every server keeps the earlier one."""
    early = net.register(A, "early")
    late = net.register(C, "late")
    wire = net.wires.pop(frozenset((C, B)))  # hold c's lines back for a moment
    early.send("NICK sam")
    net[C].clock.now += 3
    late.send("NICK sam")
    net.wires[frozenset((C, B))] = wire
    net.settle()
    assert late.closed and not early.closed
    for name in (A, B, C):
        holder = net[name].server.state.find_user("sam")
        assert holder is not None and holder.server == (None if name == A else A)
        assert net[name].server.state.find_user("late") is None


def test_room_operations_cross_the_chain(net: CoreNetwork) -> None:
    alice, carol = in_room(net)
    alice.send("TOPIC #room :the plan", "MODE #room +v carol")
    net.settle()
    assert carol.take()[-2:] == [
        ":alice!~alice@127.0.0.1 TOPIC #room :the plan",
        ":alice!~alice@127.0.0.1 MODE #room +v carol",
    ]
    assert carol.send("LIST") == [
        ":c.test 321 carol Channel :Users  Name",
        ":c.test 322 carol #room 2 :the plan",
        ":c.test 323 carol :End of /LIST",
    ]
    assert [line.split()[7] for line in carol.send("WHO #room")[:-1]] == ["alice", "carol"]
    alice.send("KICK #room carol :out")
    net.settle()
    assert carol.take() == [":alice!~alice@127.0.0.1 KICK #room carol :out"]
    assert carol.session not in net[C].server.state.channels["#room"].members


def test_reactions_cross_tags_links(net: CoreNetwork) -> None:
    alice = net.register(A, "alice")
    carol = net.register(C, "carol")
    carol.send("CAP REQ :message-tags")
    alice.send("@+draft/react=x;+typing=active TAGMSG carol")
    net.settle()
    (line,) = carol.take()
    assert "+typing=active" in line and line.endswith(" :alice!~alice@127.0.0.1 TAGMSG carol")


def test_a_split_in_the_middle_names_the_broken_link(net: CoreNetwork) -> None:
    net.register(A, "alice")
    carol = net.register(C, "carol")
    carol.send("MONITOR + alice")
    carol.take()
    net.cut(A, B)
    assert carol.take() == [":c.test 731 carol :alice"]
    assert net[C].server.state.find_server(A) is None
    assert net[C].server.state.find_server(B) is not None


def hold(net: CoreNetwork, one: str, other: str) -> None:
    """Lines between two servers stop arriving (they wait in flight), until `cut`."""
    net.held = net.wires.pop(frozenset((one, other)))  # type: ignore[attr-defined]


def cut_held(net: CoreNetwork, one: str, other: str) -> None:
    """The held connection breaks: what was in flight on it is lost."""
    for peer in net.held:  # type: ignore[attr-defined]
        peer.received.clear()
    net.wires[frozenset((one, other))] = net.held  # type: ignore[attr-defined]
    net.cut(one, other)


def test_messages_lost_in_a_cut_are_sent_again_after_the_relink(net: CoreNetwork) -> None:
    alice, carol = in_room(net)
    hold(net, C, B)
    alice.send("PRIVMSG #room :one", "PRIVMSG carol :two")
    net.settle()  # they reach b, and wait on b's connection to c
    cut_held(net, C, B)
    assert carol.take() == [":alice!~alice@127.0.0.1 QUIT :c.test b.test"]
    net.link(C, B)
    assert carol.take() == [
        ":alice!~alice@127.0.0.1 JOIN #room",
        ":a.test MODE #room +o alice",
        ":alice!~alice@127.0.0.1 PRIVMSG #room :one",
        ":alice!~alice@127.0.0.1 PRIVMSG carol :two",
    ]
    # Once acknowledged, nothing is sent again at the next relink.
    net.tick(1)
    alice.send("PRIVMSG #room :three")
    net.settle()
    assert carol.take() == [":alice!~alice@127.0.0.1 PRIVMSG #room :three"]
    net.tick(1)
    net.cut(C, B)
    net.link(C, B)
    assert carol.take() == [
        ":alice!~alice@127.0.0.1 QUIT :c.test b.test",
        ":alice!~alice@127.0.0.1 JOIN #room",
        ":a.test MODE #room +o alice",
    ]


def test_what_was_taken_before_a_cut_is_not_sent_twice(net: CoreNetwork) -> None:
    """No acknowledgement came before the cut: the count in SESSION says what was taken."""
    alice = net.register(A, "alice")
    carol = net.register(C, "carol")
    alice.send("PRIVMSG carol :one", "PRIVMSG carol :two")
    net.settle()
    hold(net, C, B)
    alice.send("PRIVMSG carol :three")
    net.settle()
    cut_held(net, C, B)
    net.link(C, B)
    assert [line.rsplit(":", 1)[1] for line in carol.take() if "PRIVMSG" in line] == [
        "one",
        "two",
        "three",
    ]


def test_a_relink_that_breaks_in_its_handshake_loses_nothing(net: CoreNetwork) -> None:
    """b opened a second session toward c, but c never heard of it: c's SESSION names the
    first, whose lost line b still has, and b sends it after all."""
    alice, carol = in_room(net)
    hold(net, C, B)
    alice.send("PRIVMSG #room :one")
    net.settle()
    cut_held(net, C, B)  # "one" was lost on its way to c
    near = net[C].link(B, send_password="c.test>b.test", accept_password="b.test>c.test")
    far = net[B].link(
        C, outgoing=False, send_password="b.test>c.test", accept_password="c.test>b.test"
    )
    for source, target in ((near, far), (far, near), (near, far)):  # c's 376 brings b up
        for line in source.take():
            target.harness.server.link_receive(target.link, line.encode(), 0.0)
        target.harness.deliver()
    assert far.link.up  # b went up and opened a new session, which c has not heard of
    assert near.link.memory is not None
    assert near.link.memory.in_session != net[B].server.state.peer_memory(C).out_session
    far.take()  # b's SESSION and burst, lost with the connection
    near.lose()
    far.lose()
    carol.take()
    net.link(C, B)
    assert [line for line in carol.take() if "PRIVMSG" in line] == [
        ":alice!~alice@127.0.0.1 PRIVMSG #room :one"
    ]


def test_a_remote_whois_crosses_the_hub(net: CoreNetwork) -> None:
    """a.test asks c.test about carol through b.test, which passes the question on and
    the answer back; a server no one knows is answered 402."""
    alice, _carol = in_room(net)
    net.tick(30)
    alice.send("WHOIS c.test carol")
    net.settle()
    lines = alice.take()
    idle = [line for line in lines if " 317 " in line]
    assert idle and idle[0].startswith(":c.test 317 alice carol ")
    assert lines[-1] == ":c.test 318 alice carol :End of /WHOIS list"
    assert alice.send("WHOIS nowhere.test carol") == [
        ":a.test 402 alice nowhere.test :No such server"
    ]
