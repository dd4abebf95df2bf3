"""Transcript tests for MemoServ: a message left for an account, as PRIVMSG <account>
would leave it (core.commands.memoserv, core.commands.private)."""

from __future__ import annotations

from harness import CoreClient, CoreHarness
from miniircd.core.commands import memoserv

MS = ":MemoServ!MemoServ@services NOTICE"
B = "bob!~bob@127.0.0.1"


def account(core: CoreHarness, nick: str) -> CoreClient:
    client = core.register(nick)
    lines = client.send("REGISTER * * password1")
    assert lines[-1] == f":irc.test REGISTER SUCCESS {nick} :Account successfully registered"
    return client


def said(nick: str, *texts: str) -> list[str]:
    return [f"{MS} {nick} :{text}" for text in texts]


def test_help_unknown_commands_and_syntax(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert bob.send("PRIVMSG MemoServ :help") == said("bob", *memoserv.HELP)
    assert bob.send("PRIVMSG memoserv :READ 1") == said("bob", "Unknown command READ. Try HELP.")
    assert bob.send("PRIVMSG MemoServ :SEND alice") == said("bob", "Syntax: SEND <account> <text>")
    assert bob.send("PRIVMSG MemoServ :SEND nobody hi") == said(
        "bob", "nobody is not a registered account."
    )
    assert bob.send("NOTICE MemoServ :SEND nobody hi", "PRIVMSG MemoServ :  ") == []
    assert ":irc.test 433 bob MemoServ :Nickname is already in use" in bob.send("NICK MemoServ")
    whois = bob.send("WHOIS MemoServ")
    assert whois[0] == (
        ":irc.test 311 bob MemoServ MemoServ services * :Memo services: /msg MemoServ HELP"
    )


def test_a_memo_waits_in_the_inbox_and_comes_once_at_login(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    bob = core.register("bob")
    core.clock.now += 1
    assert bob.send("PRIVMSG MemoServ :SEND Alice see  you at 5") == said(
        "bob", "alice is offline; your message will be delivered when they log in."
    )
    assert core.store.unread_count("alice") == 1
    back = core.connect()
    lines = back.send("PASS alice:password1", "NICK alice", "USER a 0 * :a")
    start = lines.index(":irc.test NOTICE alice :You have 1 unread message(s)")
    assert lines[start : start + 4] == [
        ":irc.test NOTICE alice :You have 1 unread message(s)",
        ":irc.test NOTICE alice :*** unread messages: 1 message(s) follow",
        f":{B} PRIVMSG alice :[2023-11-14 22:13:21] see  you at 5",
        ":irc.test NOTICE alice :*** end of unread messages",
    ]
    again = core.connect()
    again.send("PASS alice:password1", "NICK alice2", "USER a 0 * :a")
    assert not any("unread" in line for line in again.take())
    # kept in their conversation, as a PRIVMSG alice would be
    assert any(line.endswith("] see  you at 5") for line in again.send("HISTORY bob"))


def test_an_account_online_gets_it_at_once(core: CoreHarness) -> None:
    alice = account(core, "alice")
    alice.send("NICK ally")
    alice.take()
    bob = core.register("bob")
    assert bob.send("PRIVMSG MemoServ :SEND alice hello") == said(
        "bob", "Your message to alice was delivered."
    )
    assert alice.take() == [f":{B} PRIVMSG alice :hello"]
    assert core.store.unread_count("alice") == 0


def test_a_full_inbox_takes_nothing() -> None:
    core = CoreHarness(inbox_max=1)
    account(core, "alice").send("QUIT")
    bob = core.register("bob")
    bob.send("PRIVMSG MemoServ :SEND alice one")
    assert bob.send("PRIVMSG MemoServ :SEND alice two") == said(
        "bob", "alice's inbox is full; try later."
    )
    assert core.store.unread_count("alice") == 1


def test_accounts_required() -> None:
    core = CoreHarness(require_account=True)
    account(core, "alice").send("QUIT")
    guest = core.register("guest")
    assert guest.send("PRIVMSG MemoServ :SEND alice hi") == said(
        "guest", "You must log in first (see /msg NickServ HELP)"
    )
    assert core.store.unread_count("alice") == 0
    # on a server whose accounts are on the hub: tests/core/test_replica.py
