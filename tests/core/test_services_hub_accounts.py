"""NickServ PASSWD and DROP through the services hub, sans-IO (tests/network.py): a chain
a - b - c whose hub is a.test. On a leaf both are asked of the hub (SVCREQ PASSWD, DROP),
with the hub's checks and login throttle, in order, and answered as on the hub; a dropped
account is forgotten by every server (ACCOUNTDROP), its users logged out everywhere."""

from __future__ import annotations

import pytest

from harness import CoreClient
from network import PW, A, B, C, CoreNetwork, send, services_network

NEW_PW = "battery-staple"
NS = ":NickServ!NickServ@services NOTICE"
AWAY = "The services hub cannot be reached; try again later."


@pytest.fixture
def net() -> CoreNetwork:
    return services_network()




def register_on_c(net: CoreNetwork, nick: str = "alice") -> CoreClient:
    client = net.register(C, nick)
    assert send(net, client, f"REGISTER * * {PW}")[-1].endswith(":Account successfully registered")
    return client


def identify(net: CoreNetwork, client: CoreClient, password: str) -> list[str]:
    return send(net, client, f"PRIVMSG NickServ :IDENTIFY alice {password}")


def logged_in(server: str, nick: str) -> str:
    return f":{server} 900 {nick} {nick}!~{nick}@127.0.0.1 alice :You are now logged in as alice"


def logged_out(server: str, nick: str) -> str:
    return f":{server} 901 {nick} {nick}!~{nick}@127.0.0.1 :You are now logged out"


def whois_account(net: CoreNetwork, server: str, asker: str, nick: str) -> list[str]:
    client = net.register(server, asker)
    return [line for line in send(net, client, f"WHOIS {nick}") if " 330 " in line]


def test_passwd_on_a_leaf_changes_the_password_on_the_hub(net: CoreNetwork) -> None:
    alice = register_on_c(net)
    send(net, alice, "PRIVMSG NickServ :TOKEN")
    assert len(net[A].store.login_tokens("alice")) == 1
    net[A].hold_jobs = True  # the hub checks the current password, then hashes the new one
    assert send(net, alice, f"PRIVMSG NickServ :PASSWD {PW} {NEW_PW}", "PING :next") == []
    net[A].finish_jobs()
    net.settle()
    assert alice.take() == []  # the later line waits for the whole change
    net[A].hold_jobs = False
    net[A].finish_jobs()
    net.settle()
    assert alice.take() == [
        f"{NS} alice :Your password has been changed.",
        ":c.test PONG c.test :next",
    ]
    assert net[A].store.login_tokens("alice") == []  # a stolen token stops working
    for leaf in (B, C):  # the copies never hold a password
        copy = net[leaf].store.get_account("alice")
        assert copy is not None and copy.password_hash == "!"
    ally = net.register(B, "ally")
    assert identify(net, ally, PW) == [f"{NS} ally :Invalid account or password."]
    assert identify(net, ally, NEW_PW) == [
        logged_in(B, "ally"),
        f"{NS} ally :You are now logged in as alice.",
    ]
    hubby = net.register(A, "hubby")
    assert identify(net, hubby, NEW_PW)[-1] == f"{NS} hubby :You are now logged in as alice."


def test_passwd_on_a_leaf_with_a_wrong_password_is_throttled_on_the_hub(
    net: CoreNetwork,
) -> None:
    alice = register_on_c(net)
    carried = len(net.carried)
    assert send(net, alice, "PRIVMSG NickServ :PASSWD onlyone") == [
        f"{NS} alice :Syntax: PASSWD <old password> <new password>"
    ]
    assert send(net, alice, f"PRIVMSG NickServ :PASSWD {PW} short") == [
        f"{NS} alice :Passwords must be 8 to 128 characters long."
    ]
    assert not any(" SVCREQ " in line for line in net.carried[carried:])  # the leaf's rules
    for _ in range(5):  # login_attempts
        assert send(net, alice, f"PRIVMSG NickServ :PASSWD wrong-horse {NEW_PW}") == [
            f"{NS} alice :Invalid password."
        ]
    failures = net[A].server.login_throttle.failures
    assert len(failures["account:alice"]) == 5 and len(failures["ip:127.0.0.1"]) == 5
    # counted as failed logins: the right password, and a login from elsewhere, fail now
    assert send(net, alice, f"PRIVMSG NickServ :PASSWD {PW} {NEW_PW}") == [
        f"{NS} alice :Invalid password."
    ]
    ally = net.register(B, "ally")
    assert identify(net, ally, PW) == [f"{NS} ally :Invalid account or password."]
    net.tick(61)  # login_window
    assert send(net, alice, f"PRIVMSG NickServ :PASSWD {PW} {NEW_PW}") == [
        f"{NS} alice :Your password has been changed."
    ]


def test_drop_on_a_leaf_forgets_the_account_on_every_server(net: CoreNetwork) -> None:
    alice = register_on_c(net)
    ally, hubby = net.register(B, "ally"), net.register(A, "hubby")
    for client in (ally, hubby):
        identify(net, client, PW)
    ally.send("METADATA * SET colour :blue")  # kept under the account on b.test
    net.settle()
    assert net[B].store.metadata("account", "alice")
    watcher = net.register(B, "watcher")
    send(net, watcher, "CAP REQ :account-notify", "JOIN #room")
    send(net, ally, "JOIN #room")
    send(net, hubby, "JOIN #room")
    for client in (watcher, ally, hubby):
        client.take()
    assert send(net, alice, "PRIVMSG NickServ :DROP wrong-horse") == [
        f"{NS} alice :Invalid password."
    ]
    assert all(net[name].store.get_account("alice") is not None for name in (A, B, C))
    assert send(net, alice, f"PRIVMSG NickServ :DROP {PW}") == [
        logged_out(C, "alice"),
        f"{NS} alice :The account alice has been dropped.",
    ]
    for name in (A, B, C):
        assert net[name].store.get_account("alice") is None
        assert net[name].server.state.logged_in("alice") == []
    assert net[B].store.metadata("account", "alice") == {}
    assert ally.take() == [logged_out(B, "ally")]
    assert hubby.take() == [logged_out(A, "hubby")]
    assert sorted(watcher.take()) == [  # each logout reached b.test as any logout does
        ":ally!~ally@127.0.0.1 ACCOUNT *",
        ":hubby!~hubby@127.0.0.1 ACCOUNT *",
    ]
    assert whois_account(net, A, "viewer", "ally") == []
    assert identify(net, ally, PW) == [f"{NS} ally :Invalid account or password."]
    send(net, alice, "QUIT")
    for name, nick in ((A, "ann"), (B, "bea")):  # no account left to keep a message for
        sender = net.register(name, nick)
        assert send(net, sender, "PRIVMSG alice :still there?") == [
            f":{name} 401 {nick} alice :No such nick/channel"
        ]
    again = net.register(B, "alice")  # the name is free again, on the hub too
    assert send(net, again, f"REGISTER * * {NEW_PW}")[-1].endswith(
        ":Account successfully registered"
    )


def test_drop_on_the_hub_reaches_every_server(net: CoreNetwork) -> None:
    alice = net.register(A, "alice")
    send(net, alice, f"PRIVMSG NickServ :REGISTER {PW}")
    carol = net.register(C, "carol")
    identify(net, carol, PW)
    assert net[C].store.get_account("alice") is not None
    assert send(net, alice, f"PRIVMSG NickServ :DROP {PW}") == [
        logged_out(A, "alice"),
        f"{NS} alice :The account alice has been dropped.",
    ]
    assert ":a.test ACCOUNTDROP * alice" in net.carried
    assert carol.take() == [logged_out(C, "carol")]
    assert all(net[name].store.get_account("alice") is None for name in (A, B, C))


def test_passwd_and_drop_with_the_hub_away(net: CoreNetwork) -> None:
    alice = register_on_c(net)
    net[A].hold_jobs = True
    assert send(net, alice, f"PRIVMSG NickServ :DROP {PW}", "PING :x") == []
    net.cut(A, B)  # c hears of it as a SQUIT from b, and gives up within a second
    net[C].tick(1)
    assert alice.take() == [f"{NS} alice :{AWAY}", ":c.test PONG c.test :x"]
    assert send(net, alice, f"PRIVMSG NickServ :PASSWD {PW} {NEW_PW}") == [f"{NS} alice :{AWAY}"]
    assert send(net, alice, f"PRIVMSG NickServ :DROP {PW}") == [f"{NS} alice :{AWAY}"]
    assert alice.session.account == "alice"
    assert net[C].store.get_account("alice") is not None


def test_only_the_hub_answers_and_drops(net: CoreNetwork) -> None:
    register_on_c(net).send("QUIT")
    net.settle()
    _, toward_b = net.wires[frozenset((A, B))]  # a.test's end of the link to b.test
    toward_b.take()
    assert toward_b.send(f":c.test SVCREQ a.test 7 PASSWD 127.0.0.1 alice :{PW}") == [
        ":a.test SVCANS c.test 7 UNAVAILABLE"  # one password: not a PASSWD the hub can do
    ]
    # an ACCOUNTDROP from a server other than the hub is passed on and otherwise ignored
    _, toward_c = net.wires[frozenset((C, B))]  # b.test's end of the link to c.test
    toward_c.send(":c.test ACCOUNTDROP * alice")
    net.settle()
    assert net.carried[-1] == ":c.test ACCOUNTDROP * alice"  # b.test to a.test
    assert all(net[name].store.get_account("alice") is not None for name in (A, B, C))


def test_a_server_away_at_the_drop_forgets_the_account_when_it_is_back(
    net: CoreNetwork,
) -> None:
    alice = net.register(B, "alice")
    send(net, alice, f"PRIVMSG NickServ :REGISTER {PW}")
    bob = net.register(B, "bob")
    send(net, bob, f"PRIVMSG NickServ :REGISTER {PW}")
    carol = net.register(C, "carol")
    identify(net, carol, PW)
    carol.take()
    net.cut(B, C)
    assert send(net, alice, f"PRIVMSG NickServ :DROP {PW}")[-1].endswith(" has been dropped.")
    assert net[C].store.get_account("alice") is not None  # c.test did not hear of it
    net.link(C, B)
    net.tick(1)  # c.test asks the hub for what it lacks: every account's name, then SYNCED
    assert net[C].store.get_account("alice") is None
    assert net[C].store.get_account("bob") is not None  # still the hub's
    assert carol.take() == [logged_out(C, "carol")]
    assert whois_account(net, A, "viewer", "carol") == []
