"""Server links in ngIRCd's dialect (RFC 2813 with IRC+), as transcripts: the peer's lines
in, ours out (core.s2s, core.s2s_ngircd, core.s2s_events)."""

from __future__ import annotations

import logging

import pytest

from harness import CoreClient, CoreHarness, CorePeer
from miniircd.config import LinkBlock
from miniircd.core.user import RemoteUser

HUB_PASS = ":hub.test PASS hub-to-leaf 0210-IRC+ ngIRCd|26.1:CHLMSXZ PZ"
HUB_SERVER = ":hub.test SERVER hub.test 1 :test hub"
HUB_005 = ":hub.test 005 irc.test NICKLEN=30 CASEMAPPING=ascii :are supported on this server"
HUB_376 = ":hub.test 376 irc.test :End of MOTD command"
BOB = "bob!~b@10.0.0.2"
CAROL = "carol!~c@10.0.0.3"


def handshake(peer: CorePeer) -> list[str]:
    """The hub's side of the handshake; what we sent back."""
    return peer.send(HUB_PASS, HUB_SERVER, HUB_005, HUB_376)


def hub_burst(peer: CorePeer) -> list[str]:
    return peer.send(
        ":hub.test SERVER other.test 2 7 :other server",
        ":hub.test NICK bob 1 ~b 10.0.0.2 1 + :Bob",
        ":hub.test NICK carol 2 ~c 10.0.0.3 7 +i :Carol",
        ":hub.test METADATA bob accountname :bobacct",
        ":hub.test CHANINFO #room +nt :their topic",
        ":hub.test NJOIN #room :@bob,+carol",
        ":hub.test PING :hub.test",
    )


def linked(core: CoreHarness) -> tuple[CoreClient, CorePeer]:
    """alice in #room here, linked to hub.test with bob (op) and carol (voice) there."""
    alice = core.register("alice")
    alice.send("JOIN #room")
    peer = core.link()
    peer.take()
    handshake(peer)
    hub_burst(peer)
    alice.take()
    return alice, peer


def test_handshake_and_our_burst(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("JOIN #room", "TOPIC #room :our topic", "MODE #room +k sekrit")
    peer = core.link()
    assert peer.take() == [
        ":irc.test PASS leaf-to-hub 0210-IRC+ miniircd|0.1.0:CHLMT",
        ":irc.test SERVER irc.test 1 :miniircd IRC server",
    ]
    assert peer.send(HUB_PASS, HUB_SERVER) == [
        ":irc.test 005 hub.test NICKLEN=30 CASEMAPPING=rfc1459 PREFIX=(ov)@+ CHANTYPES=#"
        " :are supported on this server",
        ":irc.test 376 hub.test :End of MOTD command",
    ]
    assert peer.send(HUB_005, HUB_376) == [
        ":irc.test NICK alice 1 ~alice 127.0.0.1 1 + :Alice",
        ":irc.test CHANINFO #room +knt sekrit 0 :our topic",
        ":irc.test NJOIN #room :@alice",
    ]
    assert peer.send(":hub.test PING :hub.test") == [":irc.test PONG irc.test :hub.test"]
    assert core.server.state.find_server("hub.test") is not None


def test_a_wrong_password_is_refused(core: CoreHarness) -> None:
    peer = core.link()
    peer.take()
    assert peer.send(":hub.test PASS nope 0210-IRC+ ngIRCd|26.1:CHM", HUB_SERVER) == [
        ":irc.test ERROR :Bad password"
    ]
    assert peer.link.closing
    assert core.server.state.servers == {} and core.server.state.links == {}


def test_an_unknown_server_name_and_a_line_before_the_handshake(core: CoreHarness) -> None:
    peer = core.link()
    peer.take()
    assert peer.send(HUB_PASS, ":x.test SERVER x.test 1 :who") == [
        ":irc.test ERROR :Server not configured here"
    ]
    other = core.link("two.test")
    other.take()
    assert other.send(":two.test NICK bob 1 ~b h 1 + :Bob") == [
        ":irc.test ERROR :Protocol error: not registered"
    ]
    assert core.server.state.find_user("bob") is None


def test_the_nick_length_must_agree(core: CoreHarness) -> None:
    peer = core.link()
    peer.take()
    peer.send(HUB_PASS, HUB_SERVER)
    bad = ":hub.test 005 irc.test NICKLEN=9 :are supported on this server"
    assert peer.send(bad, HUB_376) == [":irc.test ERROR :Incompatible nickname length (30/9)"]
    assert core.server.state.servers == {}


def test_an_incompatible_case_mapping_is_refused(core: CoreHarness) -> None:
    peer = core.link()
    peer.take()
    peer.send(HUB_PASS, HUB_SERVER)
    bad = ":hub.test 005 irc.test CASEMAPPING=rfc7613 :are supported on this server"
    assert peer.send(bad) == [":irc.test ERROR :Incompatible case mapping (rfc7613)"]


def test_their_burst_makes_remote_users(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("JOIN #room")
    peer = core.link()
    peer.take()
    handshake(peer)
    assert hub_burst(peer) == [":irc.test PONG irc.test :hub.test"]
    assert alice.take() == [
        f":{BOB} JOIN #room",
        ":hub.test MODE #room +o bob",
        f":{CAROL} JOIN #room",
        ":other.test MODE #room +v carol",
    ]
    assert alice.send("NAMES #room")[0] == ":irc.test 353 alice = #room :@alice @bob +carol"
    whois = alice.send("WHOIS carol")
    assert ":irc.test 312 alice carol other.test :other server" in whois
    assert ":irc.test 330 alice bob bobacct :is logged in as" in alice.send("WHOIS bob")
    carol = core.server.state.find_user("carol")
    assert isinstance(carol, RemoteUser) and "i" in carol.modes and carol.hops == 2


def test_chaninfo_for_a_new_channel(core: CoreHarness) -> None:
    alice, peer = linked(core)
    peer.send(":hub.test CHANINFO #new +ntlk key 5 :new topic", ":hub.test NJOIN #new :@bob")
    assert alice.send("JOIN #new") == [":irc.test 475 alice #new :Cannot join channel (+k)"]
    alice.send("JOIN #new key")
    channel = core.server.state.find_channel("#new")
    assert channel is not None
    assert channel.topic == "new topic" and channel.limit == 5 and channel.modes >= {"k", "l"}


def test_channel_and_private_messages_both_ways(core: CoreHarness) -> None:
    alice, peer = linked(core)
    assert alice.send("PRIVMSG #room :hi all", "PRIVMSG carol :psst", "NOTICE bob :hey") == []
    assert peer.take() == [  # once for bob and carol both
        ":alice PRIVMSG #room :hi all",
        ":alice PRIVMSG carol :psst",
        ":alice NOTICE bob :hey",
    ]
    peer.send(":bob PRIVMSG #room :hello", ":carol PRIVMSG alice :yo", ":bob NOTICE @#room :ops")
    assert alice.take() == [
        f":{BOB} PRIVMSG #room :hello",
        f":{CAROL} PRIVMSG alice :yo",
        f":{BOB} NOTICE @#room :ops",
    ]
    assert peer.send(":bob PRIVMSG nobody :hm") == [
        ":irc.test 401 bob nobody :No such nick/channel"
    ]


def test_a_channel_message_goes_only_where_members_are(core: CoreHarness) -> None:
    alice, peer = linked(core)
    alice.send("JOIN #alone")
    assert peer.take() == [":alice JOIN #alone\x07o", ":irc.test MODE #alone +nt"]
    assert alice.send("PRIVMSG #alone :just me") == []
    assert peer.take() == []


def test_their_users_join_part_nick_quit(core: CoreHarness) -> None:
    alice, peer = linked(core)
    peer.send(
        ":bob JOIN #room2\x07o",
        ":carol PART #room :bye",
        ":bob NICK bobby",
        ":bobby AWAY :gone",
        ":bobby QUIT :later",
    )
    assert alice.take() == [
        f":{CAROL} PART #room :bye",
        f":{BOB} NICK bobby",
        ":bobby!~b@10.0.0.2 QUIT :later",
    ]
    assert core.server.state.find_channel("#room2") is None
    assert alice.send("NAMES #room")[0] == ":irc.test 353 alice = #room :@alice"


def test_their_topic_mode_and_kick(core: CoreHarness) -> None:
    alice, peer = linked(core)
    peer.send(":bob TOPIC #room :new topic", ":bob MODE #room +v-v alice carol")
    peer.send(":bob KICK #room alice :out")
    assert alice.take() == [
        f":{BOB} TOPIC #room :new topic",
        f":{BOB} MODE #room +v-v alice carol",
        f":{BOB} KICK #room alice :out",
    ]
    assert "alice" not in [m.name for m in core.server.state.channels["#room"].members]


def test_our_users_events_reach_the_peer(core: CoreHarness) -> None:
    alice, peer = linked(core)
    dave = core.register("dave")
    assert peer.take() == [":irc.test NICK dave 1 ~dave 127.0.0.1 1 + :Dave"]
    dave.send("JOIN #room", "PART #room :bye", "NICK david", "AWAY :lunch", "AWAY")
    alice.send("TOPIC #room :ours", "MODE #room +v bob", "KICK #room carol :go")
    dave.send("QUIT :done")
    assert peer.take() == [
        ":dave JOIN #room",
        ":dave PART #room :bye",
        ":dave NICK david",
        ":david MODE david +a",  # ngIRCd's away, which carries no text
        ":david MODE david -a",
        ":alice TOPIC #room :ours",
        ":alice MODE #room +v bob",
        ":alice KICK #room carol :go",
        ":david QUIT :Quit: done",
    ]


def test_a_nick_collision_kills_both(core: CoreHarness) -> None:
    alice, peer = linked(core)
    assert peer.send(":hub.test NICK alice 1 ~x 10.0.0.9 1 + :Other") == [
        ":irc.test KILL alice :Nick collision",  # one KILL for both: no QUIT of ours too
    ]
    assert alice.closed and core.server.state.find_user("alice") is None


def test_a_kill_from_the_network(core: CoreHarness) -> None:
    alice, peer = linked(core)
    peer.send(":bob KILL alice :spam")
    assert alice.take()[-1] == "ERROR :Closing link: alice[127.0.0.1] (Killed (bob (spam)))"
    assert peer.take() == []  # the hub has the KILL already
    assert core.server.state.find_user("alice") is None


def test_a_netsplit_quits_everyone_behind_the_link(core: CoreHarness) -> None:
    alice, peer = linked(core)
    alice.send("MONITOR + carol")
    peer.lose()
    assert alice.take() == [
        f":{BOB} QUIT :irc.test hub.test",
        f":{CAROL} QUIT :irc.test hub.test",
        ":irc.test 731 alice :carol",
    ]
    state = core.server.state
    assert state.servers == {} and state.links == {}
    assert [u.name for u in state.channels["#room"].members] == ["alice"]


def test_a_squit_of_a_server_behind_the_hub(core: CoreHarness) -> None:
    alice, peer = linked(core)
    peer.send(":hub.test SQUIT other.test :gone")
    assert alice.take() == [f":{CAROL} QUIT :hub.test other.test"]
    assert core.server.state.find_server("other.test") is None
    assert core.server.state.find_user("bob") is not None


def test_a_loop_is_refused(core: CoreHarness) -> None:
    _, peer = linked(core)
    assert peer.send(":hub.test SERVER irc.test 2 9 :me again") == [
        ":irc.test ERROR :Server irc.test already exists (a loop)"
    ]
    assert core.server.state.find_user("bob") is None


TWO_PASS = ":two.test PASS hub-to-leaf 0210-IRC+ x|1:CM"
TWO_SERVER = ":two.test SERVER two.test 1 :second peer"


def test_a_second_peer_gets_the_whole_network_and_its_traffic(core: CoreHarness) -> None:
    """With two links this server is a hub: each peer learns what is behind the other,
    with our own server tokens, and what one peer's users do reaches the other."""
    alice, hub = linked(core)
    two = core.link("two.test")
    two.take()
    assert two.send(TWO_PASS, TWO_SERVER) == [
        ":irc.test SERVER hub.test 2 2 :test hub",
        ":hub.test SERVER other.test 3 3 :other server",
        ":irc.test NICK alice 1 ~alice 127.0.0.1 1 + :Alice",
        ":irc.test NICK bob 2 ~b 10.0.0.2 2 + :Bob",
        ":irc.test METADATA bob accountname :bobacct",
        ":irc.test NICK carol 3 ~c 10.0.0.3 3 +i :Carol",
        ":irc.test CHANINFO #room +nt * 0 :their topic",
        ":irc.test NJOIN #room :@alice,@bob,+carol",
    ]
    assert hub.take() == [":irc.test SERVER two.test 2 4 :second peer"]
    # two.test's burst and live lines reach the hub as they came; messages only where
    # their recipients are.
    two.send(":two.test NICK dan 1 ~d 10.0.0.4 1 + :Dan", ":two.test NJOIN #room :dan")
    assert hub.take() == [
        ":irc.test NICK dan 2 ~d 10.0.0.4 4 + :Dan",
        ":two.test NJOIN #room :dan",
    ]
    two.send(":dan PRIVMSG #room :hello all", ":dan PRIVMSG bob :hi bob")
    assert hub.take() == [":dan PRIVMSG #room :hello all", ":dan PRIVMSG bob :hi bob"]
    assert alice.take() == [
        ":dan!~d@10.0.0.4 JOIN #room",
        ":dan!~d@10.0.0.4 PRIVMSG #room :hello all",
    ]
    hub.send(":bob PRIVMSG dan :hi dan", ":bob TOPIC #room :new", ":carol PART #room :bye")
    assert two.take() == [
        ":bob PRIVMSG dan :hi dan",
        ":bob TOPIC #room :new",
        ":carol PART #room :bye",
    ]
    alice.send("PRIVMSG #room :from alice")
    assert hub.take() == [":alice PRIVMSG #room :from alice"]
    assert two.take() == [":alice PRIVMSG #room :from alice"]
    # The hub's side splits off: two.test loses it too, by one SQUIT.
    hub.lose()
    assert two.take() == [":irc.test SQUIT hub.test :Remote host closed the connection"]
    assert [u.name for u in core.server.state.channels["#room"].members] == ["alice", "dan"]


def test_a_channel_message_goes_only_to_links_with_members(core: CoreHarness) -> None:
    alice, hub = linked(core)
    two = core.link("two.test")
    two.take()
    two.send(TWO_PASS, TWO_SERVER, ":two.test NICK dan 1 ~d 10.0.0.4 1 + :Dan")
    hub.take()
    alice.send("PRIVMSG #room :hub only", "PRIVMSG dan :dan only")
    assert hub.take() == [":alice PRIVMSG #room :hub only"]
    assert two.take() == [":alice PRIVMSG dan :dan only"]


def test_a_server_known_by_one_link_is_refused_by_another(core: CoreHarness) -> None:
    linked(core)
    other = core.link("other.test")
    other.take()
    assert other.send(
        ":other.test PASS hub-to-leaf 0210-IRC+ x|1:CHM", ":other.test SERVER other.test 1 :o"
    ) == [":irc.test ERROR :Server other.test already exists (a loop)"]
    assert core.server.state.find_user("carol") is not None


def test_keepalive_and_ping_timeout(core: CoreHarness) -> None:
    alice, peer = linked(core)
    interval, timeout = core.server.config.ping_interval, core.server.config.ping_timeout
    core.tick(interval)
    assert peer.take() == [":irc.test PING :irc.test"]
    peer.send(":hub.test PONG hub.test :irc.test")
    alice.send("PONG :irc.test")
    core.tick(interval)
    assert peer.take() == [":irc.test PING :irc.test"]
    alice.send("PONG :irc.test")
    alice.take()
    core.tick(timeout - interval)
    assert peer.take() == [":irc.test ERROR :Ping timeout: 150 seconds"]
    assert alice.take() == [
        f":{BOB} QUIT :irc.test hub.test",
        f":{CAROL} QUIT :irc.test hub.test",
    ]


def test_passwords_stay_out_of_the_log(core: CoreHarness, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        linked(core)
        peer = core.link("two.test")
        peer.send(":two.test PASS wrong-secret 0210-IRC+ x|1:CHM", ":two.test SERVER two.test 1 :t")
    text = " ".join(record.getMessage() for record in caplog.records)
    assert "linked with hub.test" in text and "two.test refused: bad password" in text
    assert "hub-to-leaf" not in text and "leaf-to-hub" not in text and "wrong-secret" not in text


def test_an_account_reaches_the_peer(core: CoreHarness) -> None:
    alice, peer = linked(core)
    alice.send("REGISTER * * hunter2hunter2")
    assert peer.take() == [":irc.test METADATA alice accountname :alice"]
    peer.lose()
    again = core.link()
    again.take()
    burst = handshake(again)
    nick = burst.index(":irc.test NICK alice 1 ~alice 127.0.0.1 1 + :Alice")
    assert burst[nick + 1] == ":irc.test METADATA alice accountname :alice"


def test_a_server_that_dials_us_on_the_client_port() -> None:
    block = LinkBlock("hub.test", send_password="leaf-to-hub", accept_password="hub-to-leaf")
    core = CoreHarness(links=(block,))
    alice = core.register("alice")
    hub = core.connect()
    assert hub.send("PASS hub-to-leaf 0210-IRC+ ngIRCd|26.1:CHLMSXZ PZ") == []
    assert hub.send("SERVER hub.test 1 :test hub") == []
    peer = core.adopt(hub)
    assert peer.take() == [
        ":irc.test PASS leaf-to-hub 0210-IRC+ miniircd|0.1.0:CHLMT",
        ":irc.test SERVER irc.test 1 :miniircd IRC server",
        ":irc.test 005 hub.test NICKLEN=30 CASEMAPPING=rfc1459 PREFIX=(ov)@+ CHANTYPES=#"
        " :are supported on this server",
        ":irc.test 376 hub.test :End of MOTD command",
    ]
    assert peer.send(HUB_005, HUB_376) == [":irc.test NICK alice 1 ~alice 127.0.0.1 1 + :Alice"]
    peer.send(":hub.test NICK bob 1 ~b 10.0.0.2 1 + :Bob")
    assert alice.send("PRIVMSG bob :hi") == []
    assert peer.take() == [":alice PRIVMSG bob :hi"]
    assert (
        core.server.state.find_nick("*") is None and hub.session.id not in core.server.state.users
    )


def test_a_server_not_configured_is_refused_on_the_client_port(core: CoreHarness) -> None:
    stranger = core.connect()
    stranger.send("PASS x 0210-IRC+ x|1:CHM")
    assert stranger.send("SERVER evil.test 1 :hi") == [
        "ERROR :Closing link: *[127.0.0.1] (Server not configured here)"
    ]
    assert core.server.adopted == {} and core.server.state.links == {}
    client = core.register("carol")
    assert client.send("SERVER hub.test 1 :x") == [":irc.test 462 carol :You may not reregister"]


def test_lusers_counts_the_network(core: CoreHarness) -> None:
    alice, _ = linked(core)
    lusers = alice.send("LUSERS")
    assert ":irc.test 251 alice :There are 2 users and 1 invisible on 3 servers" in lusers
    assert ":irc.test 255 alice :I have 1 clients and 1 servers" in lusers
    assert ":irc.test 265 alice 1 3 :Current local users 1, max 3" in lusers
    assert ":irc.test 266 alice 3 3 :Current global users 3, max 3" in lusers


def test_their_channel_messages_are_kept_in_history(core: CoreHarness) -> None:
    _, peer = linked(core)
    peer.send(":bob PRIVMSG #room :for the record", ":bob PRIVMSG @#room :ops only")
    stored = core.server.store.messages("#room", limit=10, ascending=False)
    assert [(m.source, m.account, m.text) for m in stored if m.verb == "PRIVMSG"] == [
        (BOB, "bobacct", "for the record")
    ]
    dave = core.register("dave")
    replay = dave.send("JOIN #room")
    assert f":{BOB} PRIVMSG #room :[2023-11-14 22:13:20] for the record" in replay
