"""Real sockets: Debian's ngIRCd as a hub with miniircd leaves, each on its own
127.0.0.x, and clients on different servers talking (docs/linking.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from linknet import LinkNet, expect_all, wait_members, wait_sees
from liveserver import LineClient, LiveServer
from ngircd import NGIRCD, NgircdHub, doc_block, free_port, leaf_block, start_leaf, wait_linked

pytestmark = pytest.mark.skipif(NGIRCD is None, reason="needs ngircd (apt-get install ngircd)")


def hub_and_leaf(tmp_path: Path, *more_leaves: str) -> tuple[NgircdHub, LiveServer]:
    """The hub and the leaf exactly as docs/linking.md configures them (ports aside)."""
    config = doc_block("hub-config") + "".join(leaf_block(name) for name in more_leaves)
    hub = NgircdHub(tmp_path / "hub", config)
    hub.start()
    leaf = start_leaf(tmp_path, "leaf.test", "127.0.0.2", hub, doc_block("leaf-config"))
    return hub, leaf


def test_users_on_the_hub_and_the_leaf_talk(tmp_path: Path) -> None:
    hub, leaf = hub_and_leaf(tmp_path)
    there = hub_client(hub)
    here = leaf.client("leafy")
    there.register("hubby")
    here.send("JOIN #room")
    here.expect(r" 366 leafy #room ")
    there.send("JOIN #room")
    here.expect(r"^:hubby!~hubby@127\.0\.0\.1 JOIN #room$")
    there.expect(r" 353 hubby = #room :.*@leafy")
    here.send("PRIVMSG #room :hello from the leaf")
    there.expect(r"^:leafy!~leafy@127\.0\.0\.1 PRIVMSG #room :hello from the leaf$")
    here.send("MODE #room +o hubby")  # the hub knows #room is +t (the leaf told it)
    there.expect(r"^:leafy!\S+ MODE #room \+o hubby$")
    there.send("PRIVMSG leafy :hello from the hub", "TOPIC #room :a topic")
    here.expect(r"^:hubby!~hubby@127\.0\.0\.1 PRIVMSG leafy :hello from the hub$")
    here.expect(r"^:hubby!~hubby@127\.0\.0\.1 TOPIC #room :a topic$")
    here.send("WHOIS hubby")
    here.expect(r"^:leaf\.test 312 leafy hubby hub\.test :the hub$")
    there.send("WHOIS leafy")
    there.expect(r" 312 hubby leafy leaf\.test :a miniircd leaf$")
    there.send("JOIN #two", "PART #room :bye")
    here.expect(r"^:hubby!~hubby@127\.0\.0\.1 PART #room :bye$")
    here.send("JOIN #two")
    there.expect(r"^:leafy!~leafy@127\.0\.0\.1 JOIN :?#two$")
    here.send("QUIT :done")
    there.expect(r"^:leafy!~leafy@127\.0\.0\.1 QUIT :.*done")


def test_two_leaves_talk_through_the_hub(tmp_path: Path) -> None:
    hub, leaf = hub_and_leaf(tmp_path, "two.test")
    toml = (
        doc_block("leaf-config").replace("leaf.test", "two.test").replace("127.0.0.2", "127.0.0.3")
    )
    two = start_leaf(tmp_path, "two.test", "127.0.0.3", hub, toml)
    alice = leaf.client("alice")
    bob = two.client("bob")
    wait_sees(alice, "bob")  # bob reaches leaf.test through the hub a moment later
    alice.send("JOIN #both", "PRIVMSG bob :coming")
    alice.expect(r" 366 alice #both ")
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG bob :coming$")  # her JOIN came first
    bob.send("JOIN #both")
    alice.expect(r"^:bob!~bob@127\.0\.0\.1 JOIN #both$")
    bob.expect(r"^:two\.test 353 bob = #both :@alice bob$|^:two\.test 353 bob = #both :bob @alice$")
    bob.send("PRIVMSG #both :hi alice")
    alice.expect(r"^:bob!~bob@127\.0\.0\.1 PRIVMSG #both :hi alice$")
    alice.send("PRIVMSG bob :hi bob", "NICK alicia")
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG bob :hi bob$")
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 NICK alicia$")
    bob.send("QUIT :bye")
    alice.expect(r"^:bob!~bob@127\.0\.0\.1 QUIT :.*bye")
    carol = two.client("carol")
    carol.send("JOIN #both")
    alice.expect(r"^:carol!~carol@127\.0\.0\.1 JOIN #both$")
    two.stop()  # the hub loses two.test and tells leaf.test with an SQUIT
    alice.expect(r"^:carol!~carol@127\.0\.0\.1 QUIT :hub\.test two\.test$")  # as ngIRCd says


def test_a_netsplit_and_the_link_coming_back(tmp_path: Path) -> None:
    hub, leaf = hub_and_leaf(tmp_path)
    hubby = hub_client(hub)
    hubby.register("hubby")
    leafy = leaf.client("leafy")
    leafy.send("JOIN #room")
    leafy.expect(r" 366 leafy #room ")
    hubby.send("JOIN #room")
    leafy.expect(r"^:hubby!\S+ JOIN #room$")
    hub.stop()  # the hub goes away: its users split off
    leafy.expect(r"^:hubby!~hubby@127\.0\.0\.1 QUIT :leaf\.test hub\.test$")
    leafy.send("NAMES #room")
    leafy.expect(r"^:leaf\.test 353 leafy = #room :@leafy$")
    hub.start()  # the leaf dials again and bursts leafy and #room back
    wait_linked(leaf, 2)
    again = hub_client(hub)
    again.register("again")
    again.send("JOIN #room")
    again.expect(r" 353 again = #room :.*@leafy")
    leafy.expect(r"^:again!~again@127\.0\.0\.1 JOIN #room$")


def hub_client(hub: NgircdHub) -> LineClient:
    return LineClient(hub.port, hub.host)


def test_the_leaf_retries_with_back_off_until_the_hub_is_up(tmp_path: Path) -> None:
    hub = NgircdHub(tmp_path / "hub", doc_block("hub-config"))  # not started yet
    directory = tmp_path / "leaf.test"
    directory.mkdir()
    config = directory / "leaf.toml"
    toml = doc_block("leaf-config").replace("port = 6667", f"port = {hub.port}")
    config.write_text(toml.replace("retry = 1", "retry = 1\nretry_max = 2"))
    leaf = LiveServer(directory, "--config", str(config), host="127.0.0.2", name="leaf.test")
    leaf.start()
    deadline = time.monotonic() + 10
    while leaf.log().count("cannot connect") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    waits = re.findall(r"cannot connect: ECONNREFUSED; retrying in (\d+)s", leaf.log())
    assert len(waits) >= 3 and waits[:3] == ["1", "2", "2"]  # doubled, up to retry_max
    hub.start()
    wait_linked(leaf)


def test_the_hub_dials_a_leaf_that_waits(tmp_path: Path) -> None:
    port = free_port("127.0.0.2")
    config = doc_block("hub-config").replace(
        "\tName = leaf.test\n", f"\tName = leaf.test\n\tHost = 127.0.0.2\n\tPort = {port}\n"
    )
    hub = NgircdHub(tmp_path / "hub", config)
    directory = tmp_path / "leaf.test"
    directory.mkdir()
    (directory / "leaf.toml").write_text(doc_block("leaf-waits-config"))
    args = ("--config", str(directory / "leaf.toml"), "--port", str(port))
    leaf = LiveServer(directory, *args, host="127.0.0.2", name="leaf.test")
    leaf.start()
    leafy = leaf.client("leafy")
    leafy.send("JOIN #room")
    leafy.expect(r" 366 leafy #room ")
    hub.start()
    wait_linked(leaf)
    hubby = hub_client(hub)
    hubby.register("hubby")
    hubby.send("JOIN #room")
    hubby.expect(r" 353 hubby = #room :.*@leafy")
    leafy.expect(r"^:hubby!~hubby@127\.0\.0\.1 JOIN #room$")
    hubby.send("PRIVMSG #room :dialed you")
    leafy.expect(r"^:hubby!~hubby@127\.0\.0\.1 PRIVMSG #room :dialed you$")


def two_leaves(tmp_path: Path, net: LinkNet) -> tuple[NgircdHub, LiveServer, LiveServer]:
    """The hub, leaf.test dialing it through a relay (LinkNet), and two.test dialing it
    straight, all as docs/linking.md configures them (ports and addresses aside)."""
    hub = NgircdHub(tmp_path / "hub", doc_block("hub-config") + leaf_block("two.test"))
    hub.start()
    net.add_peer("hub.test", hub.host, hub.port)
    leaf = net.start("leaf.test", "127.0.0.2", doc_block("leaf-config"), dials=("hub.test",))
    toml = (
        doc_block("leaf-config").replace("leaf.test", "two.test").replace("127.0.0.2", "127.0.0.3")
    )
    two = start_leaf(tmp_path, "two.test", "127.0.0.3", hub, toml)
    wait_linked(leaf)
    return hub, leaf, two


TAGS = r"^(@\S+ )?"  # the tags before a line, for a client with message-tags


@pytest.fixture
def net(tmp_path: Path) -> Iterator[LinkNet]:
    network = LinkNet(tmp_path / "net")
    try:
        yield network
    finally:
        network.close()


def test_two_leaves_do_the_main_operations_through_the_hub(tmp_path: Path, net: LinkNet) -> None:
    hub, _leaf, two = two_leaves(tmp_path, net)
    alice = net.client("leaf.test", "alice", "account-tag", "message-tags", "setname")
    alice.send("REGISTER alice * sesame-seed")
    alice.expect(r" 900 alice ")
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    wait_sees(hubby, "alice")
    hubby.send("WHOIS alice")  # ngIRCd itself shows the account it was told of
    hubby.expect(r"^:hub\.test 330 hubby alice alice :")
    bob = LineClient(two.port, two.host)
    bob.register("bob")
    wait_sees(alice, "bob")
    alice.send("JOIN #a", "JOIN #b", "PRIVMSG bob :rooms made")  # the JOINs go first
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG bob :rooms made$")
    bob.send("WHOIS alice", "LIST")
    bob.expect(r"^:two\.test 312 bob alice leaf\.test :a miniircd leaf$")
    bob.expect(r"^:two\.test 330 bob alice alice :is logged in as")  # METADATA via ngIRCd
    listed = bob.lines_until(r" 323 ")
    assert {line.split()[3] for line in listed if " 322 " in line} >= {"#a", "#b"}, listed
    bob.send("JOIN #b")
    alice.expect(TAGS + r":bob!~bob@127\.0\.0\.1 JOIN #b$")
    alice.send("SETNAME :Alice Liddell", "PRIVMSG bob :renamed")  # METADATA info via ngIRCd
    bob.expect(r"PRIVMSG bob :renamed$")
    bob.send("WHOIS alice")
    bob.expect(r"^:two\.test 311 bob alice ~alice 127\.0\.0\.1 \* :Alice Liddell$")
    alice.send("PRIVMSG #a,#b :to both rooms")  # bob is in #b only
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #b :to both rooms$")
    alice.send("PRIVMSG #b :second")
    got = bob.lines_until(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #b :second$")
    assert not any(" PRIVMSG #a " in line for line in got)
    bob.send("WHO #b")
    who = bob.lines_until(r" 315 bob #b ")
    assert {line.split()[7]: line.split()[6] for line in who if " 352 " in line} == {
        "alice": "leaf.test",
        "bob": "two.test",
    }
    dave = LineClient(two.port, two.host)  # two.test kept what crossed the link to it
    dave.register("dave")
    dave.send("JOIN #b")
    dave.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #b :\[[-0-9 :]+\] to both rooms$")
    dave.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #b :\[[-0-9 :]+\] second$")
    dave.send("HISTORY #b 1")
    dave.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #b :\[[-0-9 :]+\] second$")
    bob.send("PRIVMSG alice :hi alice", "NICK robert")
    reply = alice.expect(r"PRIVMSG alice :hi alice$")
    assert "msgid=" in reply  # leaf.test gave it an id of its own: ngIRCd carries no tags
    alice.expect(TAGS + r":bob!~bob@127\.0\.0\.1 NICK :?robert$")
    bob.send("PART #b :bye b")
    alice.expect(TAGS + r":robert!~bob@127\.0\.0\.1 PART #b :bye b$")
    alice.send("NAMES #b")
    alice.expect(TAGS + r":leaf\.test 353 alice = #b :(@alice dave|dave @alice)$")
    alice.send("QUIT :done")
    dave.expect(r"^:alice!~alice@127\.0\.0\.1 QUIT :.*done$")


def test_a_relay_cut_between_a_leaf_and_the_hub(tmp_path: Path, net: LinkNet) -> None:
    hub, _leaf, two = two_leaves(tmp_path, net)
    hubby = hub_client(hub)
    hubby.register("hubby")
    hubby.send("JOIN #room")
    alice = net.client("leaf.test", "alice")
    bob = LineClient(two.port, two.host)
    bob.register("bob")
    wait_members(alice, "#room", "@hubby")  # the room is hubby's on every server
    wait_members(bob, "#room", "@hubby")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    wait_members(alice, "#room", "@hubby", "alice", "bob")
    wait_members(bob, "#room", "@hubby", "alice", "bob")
    net.relay("leaf.test", "hub.test").cut()
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 QUIT :hub\.test leaf\.test$")
    hubby.expect(r"^:alice!~alice@127\.0\.0\.1 QUIT :hub\.test leaf\.test$")
    expect_all(
        alice, r"^:hubby!\S+ QUIT :leaf\.test hub\.test$", r"^:bob!\S+ QUIT :leaf\.test hub\.test$"
    )
    net.relay("leaf.test", "hub.test").restore()  # leaf.test dials again and bursts
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 JOIN #room$")
    wait_members(alice, "#room", "@hubby", "alice", "bob")
    bob.send("PRIVMSG #room :hello again")
    alice.expect(r"^:bob!~bob@127\.0\.0\.1 PRIVMSG #room :hello again$")
