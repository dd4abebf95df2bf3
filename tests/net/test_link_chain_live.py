"""Real sockets: a chain of three miniircd servers, a.test - b.test - c.test, each on its
own 127.0.0.x and configured as docs/linking.md gives it (a and c dial b, through a relay
each, tests/relay.py), and clients on different servers doing what one server lets them
do with each other; netsplits made by cutting and pausing a relay."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from linknet import (
    A,
    B,
    C,
    LinkNet,
    expect,
    expect_all,
    start_chain,
    wait_linked,
    wait_log,
    wait_members,
    wait_sees,
)
from liveserver import LineClient
from ngircd import doc_block

# Quick keepalive for the ping-timeout split; the rest of the config is the docs'.
FAST_PINGS = "\n[timeouts]\nping_interval = 1\nping_timeout = 2\n"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinkNet]:
    """One chain for the tests that leave it whole (each with nicks and rooms of its own),
    started once: linking takes seconds (a dialer's first try comes with its first tick)."""
    network = LinkNet(tmp_path_factory.mktemp("chain"))
    try:
        start_chain(network).keep()
        yield network
    finally:
        network.close()


@pytest.fixture
def split_net(tmp_path: Path) -> Iterator[LinkNet]:
    """A chain of its own, for a test that splits it."""
    network = LinkNet(tmp_path)
    try:
        yield start_chain(network)
    finally:
        network.close()


def tags_of(line: str) -> dict[str, str]:
    assert line.startswith("@"), line
    return dict(item.partition("=")[::2] for item in line[1 : line.index(" ")].split(";"))


def test_rooms_across_the_chain(net: LinkNet) -> None:
    alice = net.client(A, "alice")
    carol = net.client(C, "carol")
    bob = net.client(B, "bob")
    alice.send("JOIN #a", "JOIN #b")
    alice.expect(r" 366 alice #b ")
    wait_sees(alice, "carol")
    alice.send("PRIVMSG carol :rooms made")  # behind alice's JOINs on the same links
    carol.expect(r"PRIVMSG carol :rooms made$")
    carol.send("LIST")
    listed = carol.lines_until(r" 323 ")
    assert any(re.search(r" 322 carol #a 1 :", line) for line in listed), listed
    carol.send("JOIN #a,#b")
    alice.expect(r"^:carol!~carol@127\.0\.0\.1 JOIN #a$")
    alice.expect(r"^:carol!~carol@127\.0\.0\.1 JOIN #b$")
    carol.expect(r"^:c\.test 353 carol = #b :(@alice carol|carol @alice)$")
    bob.send("JOIN #b")
    carol.expect(r"^:bob!~bob@127\.0\.0\.1 JOIN #b$")
    wait_members(alice, "#b", "@alice", "bob", "carol")
    # one message to two rooms at once: each room's members get it once
    alice.send("PRIVMSG #a,#b :to both rooms")
    carol.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #a :to both rooms$")
    carol.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #b :to both rooms$")
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 PRIVMSG #b :to both rooms$")
    carol.send("PRIVMSG #b :hello from c")
    alice.expect(r"^:carol!~carol@127\.0\.0\.1 PRIVMSG #b :hello from c$")
    got = bob.lines_until(r"^:carol!~carol@127\.0\.0\.1 PRIVMSG #b :hello from c$")
    assert not any("PRIVMSG #a " in line for line in got)  # bob is not in #a
    # members: NAMES and WHO show the users of every server
    bob.send("NAMES #b")
    names = bob.expect(r" 353 bob = #b :")
    assert sorted(names.split(":", 2)[2].split()) == ["@alice", "bob", "carol"]
    carol.send("WHO #b")
    who = carol.lines_until(r" 315 carol #b ")
    servers = {line.split()[7]: line.split()[6] for line in who if " 352 " in line}
    assert servers == {"alice": A, "bob": B, "carol": C}
    # leaving
    carol.send("PART #a :off to b only")
    alice.expect(r"^:carol!~carol@127\.0\.0\.1 PART #a :off to b only$")
    alice.send("NAMES #a")
    alice.expect(r"^:a\.test 353 alice = #a :@alice$")
    alice.send("PART #a", "PRIVMSG carol :left #a")  # behind the PART on the same links
    carol.expect(r"PRIVMSG carol :left #a$")
    carol.send("LIST")
    assert not any(" 322 carol #a " in line for line in carol.lines_until(r" 323 "))


def test_private_messages_nick_changes_and_quits(net: LinkNet) -> None:
    amy = net.client(A, "amy")
    cleo = net.client(C, "cleo")
    wait_sees(amy, "cleo")
    wait_sees(cleo, "amy")
    amy.send("PRIVMSG cleo :psst, cleo")
    cleo.expect(r"^:amy!~amy@127\.0\.0\.1 PRIVMSG cleo :psst, cleo$")
    cleo.send("NOTICE amy :noted", "JOIN #room")
    amy.expect(r"^:cleo!~cleo@127\.0\.0\.1 NOTICE amy :noted$")
    amy.send("JOIN #room")  # behind cleo's NOTICE, so after her JOIN: she is the op
    cleo.expect(r"^:amy!~amy@127\.0\.0\.1 JOIN #room$")
    amy.send("NICK amelia")
    cleo.expect(r"^:amy!~amy@127\.0\.0\.1 NICK :?amelia$")
    cleo.send("PRIVMSG amelia :found you", "PRIVMSG amy :still there?")
    amy.expect(r"^:cleo!~cleo@127\.0\.0\.1 PRIVMSG amelia :found you$")
    cleo.expect(r"^:c\.test 401 cleo amy :No such nick")
    cleo.send("NICK amelia")
    cleo.expect(r"^:c\.test 433 cleo amelia :Nickname is already in use")
    cleo.send("QUIT :good night")
    amy.expect(r"^:cleo!~cleo@127\.0\.0\.1 QUIT :.*good night$")
    amy.send("NAMES #room")
    amy.expect(r"^:a\.test 353 amelia = #room :amelia$")


def test_accounts_are_per_server(net: LinkNet) -> None:
    ava = net.client(A, "ava", "account-tag", "message-tags")
    cora = net.client(C, "cora", "account-tag", "message-tags", "account-notify")
    ava.send("JOIN #acct")
    ava.expect(r" 366 ava #acct ")
    wait_members(cora, "#acct", "@ava")
    cora.send("JOIN #acct")
    wait_members(ava, "#acct", "@ava", "cora")
    ava.send("REGISTER ava * sesame-seed")
    ava.expect(r" 900 ava .* ava :You are now logged in as ava")
    cora.expect(r"^:ava!~ava@127\.0\.0\.1 ACCOUNT ava$")  # account-notify across the chain
    ava.send("PRIVMSG cora :signed")  # behind ava's login on the same links
    assert tags_of(cora.expect(r"PRIVMSG cora :signed$"))["account"] == "ava"
    cora.send("WHOIS ava")
    cora.expect(r"^:c\.test 330 cora ava ava :is logged in as")
    # the account is a.test's: c.test has never heard of it
    other = LineClient(net[C].port, net[C].host)
    other.send("CAP REQ :sasl", "NICK other", "USER other 0 * :other", "AUTHENTICATE PLAIN")
    other.expect("^AUTHENTICATE")
    other.send("AUTHENTICATE AGF2YQBzZXNhbWUtc2VlZA==")  # \0ava\0sesame-seed
    other.expect(r" 904 ")
    on_a = LineClient(net[A].port, net[A].host)
    on_a.send("CAP REQ :sasl", "NICK other", "USER other 0 * :other", "AUTHENTICATE PLAIN")
    on_a.expect("^AUTHENTICATE")
    on_a.send("AUTHENTICATE AGF2YQBzZXNhbWUtc2VlZA==")
    on_a.expect(r" 903 ")


def test_the_inbox_of_an_offline_account_on_the_same_server(net: LinkNet) -> None:
    dora = net.client(A, "dora")
    dora.send("REGISTER dora * dora-pass-1")
    dora.expect(r" 900 dora ")
    dora.send("QUIT")
    dora.expect_closed()
    abe = net.client(A, "abe")
    abe.send("PRIVMSG dora :while you were out")
    abe.expect(r"NOTICE abe :dora is offline; your message will be delivered when they log in")
    cid = net.client(C, "cid")  # an inbox across the link: not yet (issue 21)
    wait_sees(cid, "abe")  # abe came after dora left, on the same links
    cid.send("PRIVMSG dora :from far away")
    cid.expect(r"^:c\.test 401 cid dora :No such nick")
    back = LineClient(net[A].port, net[A].host)
    back.send("CAP REQ :sasl", "NICK dora", "USER dora 0 * :dora", "AUTHENTICATE PLAIN")
    back.expect("^AUTHENTICATE")
    back.send("AUTHENTICATE AGRvcmEAZG9yYS1wYXNzLTE=", "CAP END")  # \0dora\0dora-pass-1
    back.expect(r" 903 ")
    back.expect(r"^:abe!\S+ PRIVMSG dora :.*while you were out$")


def test_history_of_messages_that_crossed_the_link(net: LinkNet) -> None:
    al = net.client(A, "al")
    cy = net.client(C, "cy", "server-time", "message-tags", "batch", "draft/chathistory")
    al.send("JOIN #log")
    al.expect(r" 366 al #log ")
    wait_sees(al, "cy")
    al.send("PRIVMSG cy :come in")  # behind al's JOIN on the same links
    cy.expect(r"PRIVMSG cy :come in$")
    cy.send("JOIN #log")
    al.expect(r"^:cy!\S+ JOIN #log$")
    al.send("PRIVMSG #log :first", "PRIVMSG #log :second")
    live = [tags_of(cy.expect(rf"PRIVMSG #log :{text}$"))["msgid"] for text in ("first", "second")]
    cy.send("CHATHISTORY LATEST #log * 10")
    replay = cy.lines_until(r"^:c\.test BATCH -")
    assert [tags_of(line)["msgid"] for line in replay if " PRIVMSG " in line] == live
    # a newcomer on c.test gets c.test's copy on JOIN, and HISTORY shows it
    dave = net.client(C, "dave")
    dave.send("JOIN #log")
    dave.expect(r"^:al!~al@127\.0\.0\.1 PRIVMSG #log :\[[-0-9 :]+\] first$")
    dave.expect(r"^:al!~al@127\.0\.0\.1 PRIVMSG #log :\[[-0-9 :]+\] second$")
    dave.send("HISTORY #log 1")
    dave.expect(r"^:al!~al@127\.0\.0\.1 PRIVMSG #log :\[[-0-9 :]+\] second$")


def test_one_message_has_one_msgid_on_all_three_servers(net: LinkNet) -> None:
    caps = ("message-tags", "server-time", "batch", "draft/chathistory")
    ann, ben, cat = (net.client(s, nick, *caps) for s, nick in ((A, "ann"), (B, "ben"), (C, "cat")))
    ann.send("JOIN #one")
    ann.expect(r" 366 ann #one ")
    wait_members(cat, "#one", "@ann")
    for client in (ben, cat):
        client.send("JOIN #one")
    wait_members(ann, "#one", "@ann", "ben", "cat")  # every JOIN has crossed to a.test
    ann.send("@+example.org/mood=happy PRIVMSG #one :one message")
    got = [tags_of(c.expect(r"PRIVMSG #one :one message$")) for c in (ben, cat)]
    assert got[0]["msgid"] == got[1]["msgid"] and got[0]["time"] == got[1]["time"]
    assert got[0]["+example.org/mood"] == got[1]["+example.org/mood"] == "happy"
    for client in (ann, ben, cat):  # and each server stored it with that id and time
        client.send("CHATHISTORY LATEST #one * 1")
        stored = tags_of(client.expect(r"PRIVMSG #one :one message$"))
        assert (stored["msgid"], stored["time"]) == (got[0]["msgid"], got[0]["time"])


def test_a_netsplit_and_the_relink(split_net: LinkNet) -> None:
    net = split_net
    alice = net.client(A, "alice")
    alice.send("JOIN #split")
    alice.expect(r" 366 alice #split ")
    bob = net.client(B, "bob")
    carol = net.client(C, "carol")
    wait_members(carol, "#split", "@alice")  # so the room is alice's on every server
    bob.send("JOIN #split")
    carol.send("JOIN #split")
    wait_members(alice, "#split", "@alice", "bob", "carol")
    wait_members(carol, "#split", "@alice", "bob", "carol")
    net.relay(A, B).cut()  # a.test loses b.test, and c.test behind it
    expect_all(
        alice,
        r"^:bob!~bob@127\.0\.0\.1 QUIT :a\.test b\.test$",
        r"^:carol!~carol@127\.0\.0\.1 QUIT :a\.test b\.test$",
    )
    bob.expect(r"^:alice!~alice@127\.0\.0\.1 QUIT :b\.test a\.test$")
    carol.expect(r"^:alice!~alice@127\.0\.0\.1 QUIT :b\.test a\.test$")
    carol.send("PRIVMSG #split :a is gone")
    bob.expect(r"PRIVMSG #split :a is gone$")
    alice.send("NAMES #split")
    alice.expect(r"^:a\.test 353 alice = #split :@alice$")
    first = net.client(A, "zed")  # one nick taken on each side of the split: a.test's first
    wait_log(net[A], r"link b\.test: cannot connect: ECONNREFUSED; retrying in 1s")
    later = net.client(C, "zed")  # a second later (in the same ms, both would be killed)
    wait_log(net[A], r"link b\.test: cannot connect: ECONNREFUSED; retrying in 2s")
    net.relay(A, B).restore()  # the next retry gets through: both bursts bring users back
    expect_all(
        alice, r"^:bob!~bob@127\.0\.0\.1 JOIN #split$", r"^:carol!~carol@127\.0\.0\.1 JOIN #split$"
    )
    carol.expect(r"^:alice!~alice@127\.0\.0\.1 JOIN #split$")
    carol.send("PRIVMSG #split :welcome back")
    alice.expect(r"^:carol!~carol@127\.0\.0\.1 PRIVMSG #split :welcome back$")
    # the two zeds met: the older nick stays, on every server, and the newer user goes
    assert "Killed (Nick collision)" in " ".join(later.expect_closed())
    carol.send("PRIVMSG zed :which zed?")
    first.expect(r"^:carol!~carol@127\.0\.0\.1 PRIVMSG zed :which zed\?$")


def test_two_servers_as_the_docs_say_and_a_silent_link(tmp_path: Path) -> None:
    net = LinkNet(tmp_path)
    try:
        b_toml = doc_block("pair-b-config").replace("\n[[links]]", FAST_PINGS + "\n[[links]]", 1)
        net.start(B, "127.0.0.3", b_toml)
        net.start(A, "127.0.0.2", doc_block("pair-a-config"), dials=(B,))
        wait_linked(net[A], 1)
        wait_linked(net[B], 1)
        alice = net.client(A, "alice")
        bob = net.client(B, "bob")  # b.test PINGs its clients each second too: bob answers
        wait_sees(bob, "alice")
        bob.send("WHOIS alice", "JOIN #pair")
        expect(bob, r"^:b\.test 312 bob alice a\.test :server a$")
        alice.send("JOIN #pair")
        expect(bob, r"^:alice!~alice@127\.0\.0\.1 JOIN #pair$")
        net.relay(A, B).pause()  # the link stays open, but nothing crosses it
        expect(bob, r"^:alice!~alice@127\.0\.0\.1 QUIT :b\.test a\.test$", 6)
        assert "link with a.test lost: Ping timeout: 2 seconds" in net[B].log()
        net.relay(A, B).resume()  # a.test sees b.test's ERROR and its end closed, and dials again
        alice.expect(r"^:bob!~bob@127\.0\.0\.1 QUIT :a\.test b\.test$")
        expect(bob, r"^:alice!~alice@127\.0\.0\.1 JOIN #pair$")
        wait_sees(alice, "bob")  # b.test's burst has reached a.test too
        alice.send("PRIVMSG bob :back again")
        expect(bob, r"^:alice!~alice@127\.0\.0\.1 PRIVMSG bob :back again$")
    finally:
        net.close()
