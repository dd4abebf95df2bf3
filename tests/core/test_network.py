"""Transcript tests for the network commands (core.commands.network, core.s2s_queries):
LINKS and MAP over a linked network, CONNECT and SQUIT for operators, and WHOIS asked of
another server or by a user of another server. The network: irc.test (us, alice) linked
to hub.test (bob), with other.test (carol) behind the hub."""

from __future__ import annotations

import pytest

from harness import CoreClient, CoreHarness, CorePeer
from miniircd.config import LinkBlock, Operator
from miniircd.store.passwords import hash_password

HUB = LinkBlock("hub.test", "127.0.0.1", 6667, "leaf-to-hub", "hub-to-leaf", connect=True)
SPARE = LinkBlock("spare.test", "127.0.0.5", 6670, "a", "b")
WAITS = LinkBlock("waits.test", send_password="a", accept_password="b")
OPERATORS = (Operator("admin", hash_password("pw")),)
NOT_OPER = ":irc.test 481 alice :Permission Denied- You're not an IRC operator"


@pytest.fixture
def core() -> CoreHarness:
    return CoreHarness(operators=OPERATORS, links=(HUB, SPARE, WAITS))


def linked(core: CoreHarness, oper: bool = False) -> tuple[CoreClient, CorePeer]:
    alice = core.register("alice")
    alice.send("JOIN #room")
    if oper:
        alice.send("OPER admin pw")
    peer = core.link()
    peer.take()
    peer.send(
        ":hub.test PASS hub-to-leaf 0210-IRC+ ngIRCd|26.1:CHLMSXZ PZ",
        ":hub.test SERVER hub.test 1 :test hub",
        ":hub.test 005 irc.test NICKLEN=30 CASEMAPPING=ascii :are supported on this server",
        ":hub.test 376 irc.test :End of MOTD command",
        ":hub.test SERVER other.test 2 7 :other server",
        ":hub.test NICK bob 1 ~b 10.0.0.2 1 + :Bob",
        ":hub.test NICK carol 2 ~c 10.0.0.3 7 +o :Carol",
        ":hub.test NJOIN #room :@bob,+carol",
        ":hub.test PING :hub.test",
    )
    alice.take()
    return alice, peer


# -- LINKS and MAP ---------------------------------------------------------------------------


def test_links_lists_the_network_in_tree_order(core: CoreHarness) -> None:
    alice, peer = linked(core)
    peer.send(":other.test SERVER leaf2.test 3 8 :behind other", ":hub.test SERVER a.test 2 9 :a")
    assert alice.send("LINKS") == [
        ":irc.test 364 alice irc.test irc.test :0 miniircd IRC server",
        ":irc.test 364 alice hub.test irc.test :1 test hub",
        ":irc.test 364 alice a.test hub.test :2 a",
        ":irc.test 364 alice other.test hub.test :2 other server",
        ":irc.test 364 alice leaf2.test other.test :3 behind other",
        ":irc.test 365 alice * :End of /LINKS list",
    ]
    peer.send(":ghost.test SERVER lost.test 4 10 :its uplink never introduced")
    assert alice.send("LINKS")[-2:] == [
        ":irc.test 364 alice lost.test ghost.test :4 its uplink never introduced",
        ":irc.test 365 alice * :End of /LINKS list",
    ]
    assert alice.send("LINKS OTHER.*") == [
        ":irc.test 364 alice other.test hub.test :2 other server",
        ":irc.test 365 alice OTHER.* :End of /LINKS list",
    ]
    assert alice.send("LINKS irc.test *.nowhere") == [
        ":irc.test 365 alice *.nowhere :End of /LINKS list"
    ]


def test_links_of_another_server_is_asked_of_it(core: CoreHarness) -> None:
    alice, peer = linked(core)
    assert alice.send("LINKS hub.test *") == []
    assert peer.take() == [":alice LINKS hub.test :*"]
    assert alice.send("LINKS carol o*") == []  # a user's nick names its server
    assert peer.take() == [":alice LINKS other.test :o*"]
    peer.send(
        ":hub.test 364 alice hub.test hub.test :0 test hub",
        ":hub.test 365 alice * :End of /LINKS list",
    )
    assert alice.take() == [
        ":hub.test 364 alice hub.test hub.test :0 test hub",
        ":hub.test 365 alice * :End of /LINKS list",
    ]
    assert alice.send("LINKS nowhere.test *") == [
        ":irc.test 402 alice nowhere.test :No such server"
    ]
    assert peer.take() == []


def test_links_asked_by_a_user_of_the_hub(core: CoreHarness) -> None:
    _, peer = linked(core)
    assert peer.send(":bob LINKS irc.test :hub*") == [
        ":irc.test 364 bob hub.test irc.test :1 test hub",
        ":irc.test 365 bob hub* :End of /LINKS list",
    ]
    assert peer.send(":bob LINKS other.test :*") == [
        ":irc.test 402 bob other.test :No such server"
    ]
    assert peer.send(":nobody LINKS irc.test :*") == []


def test_map_shows_the_tree_with_user_counts(core: CoreHarness) -> None:
    alice, peer = linked(core)
    core.register("dave")
    peer.send(":hub.test NICK erin 1 ~e 10.0.0.4 1 + :Erin")
    assert alice.send("MAP") == [
        ":irc.test 006 alice :irc.test        users: 2",
        ":irc.test 006 alice :`-hub.test      users: 2",
        ":irc.test 006 alice :  `-other.test  users: 1",
        ":irc.test 007 alice :End of /MAP",
    ]


def test_map_and_links_of_a_lone_server(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("MAP") == [
        ":irc.test 006 alice :irc.test  users: 1",
        ":irc.test 007 alice :End of /MAP",
    ]


def test_lusers_and_whois_count_and_name_the_network(core: CoreHarness) -> None:
    alice, _ = linked(core)
    lines = alice.send("LUSERS")
    assert lines[0] == ":irc.test 251 alice :There are 3 users and 0 invisible on 3 servers"
    assert lines[1] == ":irc.test 252 alice 1 :operator(s) online"  # carol, +o at other.test
    assert ":irc.test 312 alice carol other.test :other server" in alice.send("WHOIS carol")


# -- CONNECT ---------------------------------------------------------------------------------


def test_connect_is_for_operators(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("CONNECT spare.test") == [NOT_OPER]
    assert alice.send("SQUIT spare.test :bye") == [NOT_OPER]
    assert core.server.link_requests == []


def test_connect_asks_the_network_layer_to_dial(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("OPER admin pw", "MODE alice +w")
    assert alice.send("CONNECT Spare.Test") == [
        ":irc.test WALLOPS :Received CONNECT spare.test from alice",
        ":irc.test NOTICE alice :*** CONNECT: Connecting to spare.test (127.0.0.5:6670)",
    ]
    assert alice.send("CONNECT spare.test 7000 irc.test")[1:] == [
        ":irc.test NOTICE alice :*** CONNECT: Connecting to spare.test (127.0.0.5:7000)"
    ]
    requests = [(r.name, r.dial, r.port) for r in core.server.link_requests]
    assert requests == [("spare.test", True, None), ("spare.test", True, 7000)]


def test_connect_refusals_change_nothing(core: CoreHarness) -> None:
    alice, _ = linked(core, oper=True)
    assert alice.send("CONNECT nowhere.test") == [
        ":irc.test 402 alice nowhere.test :No such server"
    ]
    assert alice.send("CONNECT spare.test 6667 nowhere.test") == [
        ":irc.test 402 alice nowhere.test :No such server"
    ]
    assert alice.send("CONNECT hub.test") == [
        ":irc.test NOTICE alice :*** CONNECT: Server hub.test is already linked"
    ]
    assert alice.send("CONNECT waits.test") == [
        ":irc.test NOTICE alice :*** CONNECT: Server waits.test has no host to dial:"
        " its [[links]] block waits"
    ]
    assert alice.send("CONNECT spare.test 70000") == [
        ":irc.test NOTICE alice :*** CONNECT: 70000 is not a port"
    ]
    assert alice.send("CONNECT spare.test x1") == [
        ":irc.test NOTICE alice :*** CONNECT: x1 is not a port"
    ]
    assert alice.send("CONNECT")[0] == ":irc.test 461 alice CONNECT :Not enough parameters"
    assert core.server.link_requests == []


def test_connect_for_another_server_is_asked_of_it(core: CoreHarness) -> None:
    alice, peer = linked(core, oper=True)
    peer.take()
    assert alice.send("CONNECT far.test 6667 HUB.test") == []
    assert peer.take() == [":alice CONNECT far.test 6667 :hub.test"]
    assert alice.send("CONNECT far.test 6667 carol") == []  # a user's nick: its server
    assert peer.take() == [":alice CONNECT far.test 6667 :other.test"]
    peer.send(":hub.test 402 alice far.test :No such server")
    assert alice.take() == [":hub.test 402 alice far.test :No such server"]
    assert core.server.link_requests == []


# -- SQUIT -----------------------------------------------------------------------------------


def test_squit_of_our_link_splits_everything_behind_it(core: CoreHarness) -> None:
    alice, peer = linked(core, oper=True)
    dave = core.register("dave")
    dave.send("MODE dave +w")
    assert peer.take() == [
        ":irc.test NICK dave 1 ~dave 127.0.0.1 1 + :Dave",
        ":dave MODE dave +w",
    ]
    lines = alice.send("SQUIT hub.test :maintenance")
    assert dave.take() == [":irc.test WALLOPS :Received SQUIT hub.test from alice: maintenance"]
    assert sorted(lines) == [
        ":bob!~b@10.0.0.2 QUIT :irc.test hub.test",
        ":carol!~c@10.0.0.3 QUIT :irc.test hub.test",
    ]
    assert peer.take() == [":irc.test ERROR :maintenance (SQUIT from alice)"]
    assert peer.link.closing
    state = core.server.state
    assert state.servers == {} and state.links == {} and state.find_user("bob") is None
    assert [(r.name, r.dial) for r in core.server.link_requests] == [("hub.test", False)]
    assert alice.send("LINKS")[:-1] == [
        ":irc.test 364 alice irc.test irc.test :0 miniircd IRC server"
    ]


def test_squit_without_a_comment(core: CoreHarness) -> None:
    alice, peer = linked(core, oper=True)
    alice.send("SQUIT hub.test :")
    assert peer.take() == [":irc.test ERROR :SQUIT from alice"]


def test_squit_of_a_server_further_away_goes_toward_it(core: CoreHarness) -> None:
    alice, peer = linked(core, oper=True)
    assert alice.send("SQUIT OTHER.test :bye") == []
    assert peer.take() == [":alice SQUIT other.test :bye"]
    assert core.server.state.find_server("other.test") is not None  # until the hub says so
    peer.send(":hub.test SQUIT other.test :hub.test other.test")
    assert alice.take() == [":carol!~c@10.0.0.3 QUIT :hub.test other.test"]
    assert core.server.link_requests == []


def test_squit_refusals_change_nothing(core: CoreHarness) -> None:
    alice, peer = linked(core, oper=True)
    assert alice.send("SQUIT nowhere.test :x") == [
        ":irc.test 402 alice nowhere.test :No such server"
    ]
    assert alice.send("SQUIT IRC.test :x") == [NOT_OPER]
    assert alice.send("SQUIT *.test :x") == [":irc.test 402 alice *.test :No such server"]
    assert alice.send("SQUIT hub.test")[0] == ":irc.test 461 alice SQUIT :Not enough parameters"
    assert peer.take() == [] and not peer.link.closing
    assert len(core.server.state.servers) == 2


def test_operator_status_reaches_the_hub(core: CoreHarness) -> None:
    alice, peer = linked(core)
    alice.send("OPER admin pw")
    assert peer.take() == [":alice MODE alice +o"]
    alice.send("MODE alice -o+B")
    assert peer.take() == [":alice MODE alice -o"]


# -- WHOIS across the link -------------------------------------------------------------------


def test_whois_of_another_server_is_asked_of_it(core: CoreHarness) -> None:
    alice, peer = linked(core)
    assert alice.send("WHOIS hub.test bob") == []
    assert peer.take() == [":alice WHOIS hub.test :bob"]
    assert alice.send("WHOIS bob BOB") == []  # the nick twice: its own server
    assert peer.take() == [":alice WHOIS hub.test :BOB"]
    assert alice.send("WHOIS carol carol") == []
    assert peer.take() == [":alice WHOIS other.test :carol"]
    peer.send(
        ":hub.test 311 alice bob ~b 10.0.0.2 * :Bob",
        ":hub.test 317 alice bob 42 1700000000 :seconds idle, signon time",
        ":hub.test 318 alice bob :End of WHOIS list",
    )
    assert alice.take() == [
        ":hub.test 311 alice bob ~b 10.0.0.2 * :Bob",
        ":hub.test 317 alice bob 42 1700000000 :seconds idle, signon time",
        ":hub.test 318 alice bob :End of WHOIS list",
    ]
    assert alice.send("WHOIS nowhere.test bob") == [
        ":irc.test 402 alice nowhere.test :No such server"
    ]
    assert alice.send("WHOIS irc.test bob")[0] == ":irc.test 311 alice bob ~b 10.0.0.2 * :Bob"
    assert alice.send("WHOIS alice bob")[0] == ":irc.test 311 alice bob ~b 10.0.0.2 * :Bob"
    assert alice.send("WHOIS NickServ NickServ")[0].startswith(":irc.test 311 alice NickServ ")
    assert peer.take() == []


def test_whois_from_a_user_of_the_hub(core: CoreHarness) -> None:
    alice, peer = linked(core)
    core.tick(7)
    alice.send("AWAY :lunch")
    peer.take()
    assert peer.send(":bob WHOIS irc.test :alice") == [
        ":irc.test 311 bob alice ~alice 127.0.0.1 * :Alice",
        ":irc.test 319 bob alice :@#room",
        ":irc.test 312 bob alice irc.test :miniircd IRC server",
        ":irc.test 301 bob alice :lunch",
        ":irc.test 317 bob alice 7 1700000000 :seconds idle, signon time",
        ":irc.test 318 bob alice :End of /WHOIS list",
    ]
    assert peer.send(":bob WHOIS alice :ghost") == [
        ":irc.test 401 bob ghost :No such nick/channel",
        ":irc.test 318 bob ghost :End of /WHOIS list",
    ]
    assert peer.send(":bob WHOIS other.test :alice") == [
        ":irc.test 402 bob other.test :No such server"
    ]
    assert peer.send(":ghost WHOIS irc.test :alice", ":hub.test WHOIS irc.test :alice") == []
    assert alice.take() == []
