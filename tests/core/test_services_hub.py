"""Accounts through the services hub, sans-IO (tests/network.py): a chain a - b - c whose
hub is a.test. REGISTER, SASL PLAIN, PASS and NickServ on b and c are answered by a over
the tags links (core.services_link, core.s2s_services), in order and labelled as if
local; with the hub away they fail at once, never hang. SASL SCRAM-SHA-256 on a leaf:
test_services_hub_scram.py."""

from __future__ import annotations

import base64

import pytest

from harness import CoreClient, CoreHarness
from miniircd.config import Config, ConfigError, validate
from network import PW, A, B, C, CoreNetwork, send, services_network

AWAY = "the services hub cannot be reached; try again later"


@pytest.fixture
def net() -> CoreNetwork:
    return services_network()


def plain(authcid: str, password: str) -> str:
    return base64.b64encode(f"\0{authcid}\0{password}".encode()).decode()




def register_on_c(net: CoreNetwork, nick: str = "alice") -> CoreClient:
    client = net.register(C, nick)
    assert send(net, client, f"REGISTER * * {PW}") == [
        f":c.test 900 {nick} {nick}!~{nick}@127.0.0.1 {nick} :You are now logged in as {nick}",
        f":c.test REGISTER SUCCESS {nick} :Account successfully registered",
    ]
    return client


def whois_account(core: CoreHarness, asker: str, nick: str) -> list[str]:
    client = core.register(asker)
    return [line for line in client.send(f"WHOIS {nick}") if " 330 " in line]


def test_register_on_a_leaf_creates_the_account_on_the_hub(net: CoreNetwork) -> None:
    register_on_c(net)
    assert net[A].store.get_account("alice") is not None
    # the other servers learn the name (core.replica), never the password
    for leaf in (B, C):
        copy = net[leaf].store.get_account("alice")
        assert copy is not None and copy.password_hash == "!" and copy.scram is None
    # the login is known network-wide (METADATA accountname), so WHOIS shows it everywhere
    for name, asker in ((A, "watcher"), (B, "viewer")):
        assert whois_account(net[name], asker, "alice") == [
            f":{name} 330 {asker} alice alice :is logged in as"
        ]


def test_register_of_a_taken_name_on_a_leaf_is_refused_by_the_hub(net: CoreNetwork) -> None:
    register_on_c(net).send("QUIT")
    bob = net.register(B, "bob")
    assert send(net, bob, f"REGISTER alice * {PW}") == [
        ":b.test FAIL REGISTER ACCOUNT_EXISTS alice :That account name is already taken"
    ]
    assert bob.session.account is None


def test_sasl_plain_on_a_leaf_before_registration(net: CoreNetwork) -> None:
    register_on_c(net)
    client = net[B].connect()
    lines = client.send("CAP LS 302")
    assert any("sasl=PLAIN,SCRAM-SHA-256 " in line + " " for line in lines), lines
    client.send("CAP REQ :sasl", "NICK ally", "USER ally 0 * :Ally")
    assert client.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    assert send(net, client, f"AUTHENTICATE {plain('alice', PW)}") == [
        ":b.test 900 ally ally!~ally@127.0.0.1 alice :You are now logged in as alice",
        ":b.test 903 ally :SASL authentication successful",
    ]
    lines = send(net, client, "CAP END")
    assert " 001 ally " in lines[0]
    assert whois_account(net[C], "carol", "ally") == [
        ":c.test 330 carol ally alice :is logged in as"
    ]


def test_wrong_password_on_a_leaf(net: CoreNetwork) -> None:
    register_on_c(net)
    client = net[B].connect()
    client.send("CAP LS 302", "CAP REQ :sasl", "NICK ally")
    client.send("AUTHENTICATE PLAIN")
    assert send(net, client, f"AUTHENTICATE {plain('alice', 'wrong-horse')}") == [
        ":b.test 904 ally :SASL authentication failed"
    ]
    carol = net.register(C, "carol")
    assert send(net, carol, "PRIVMSG NickServ :IDENTIFY alice wrong-horse") == [
        ":NickServ!NickServ@services NOTICE carol :Invalid account or password."
    ]
    # a name that could never be an account is refused without asking the hub
    client.send("AUTHENTICATE PLAIN")
    assert client.send(f"AUTHENTICATE {plain('no body', PW)}") == [
        ":b.test 904 ally :SASL authentication failed"
    ]


def test_nickserv_identify_register_and_logout_on_a_leaf(net: CoreNetwork) -> None:
    register_on_c(net).send("QUIT")
    net.settle()
    dave = net.register(C, "dave")
    assert send(net, dave, f"PRIVMSG NickServ :IDENTIFY alice {PW}") == [
        ":c.test 900 dave dave!~dave@127.0.0.1 alice :You are now logged in as alice",
        ":NickServ!NickServ@services NOTICE dave :You are now logged in as alice.",
    ]
    assert whois_account(net[A], "watcher", "dave") == [
        ":a.test 330 watcher dave alice :is logged in as"
    ]
    assert send(net, dave, "PRIVMSG NickServ :LOGOUT") == [
        ":c.test 901 dave dave!~dave@127.0.0.1 :You are now logged out",
        ":NickServ!NickServ@services NOTICE dave :You are now logged out.",
    ]
    assert whois_account(net[A], "viewer", "dave") == []
    erin = net.register(B, "erin")
    assert send(net, erin, f"PRIVMSG NickServ :REGISTER {PW}") == [
        ":b.test 900 erin erin!~erin@127.0.0.1 erin :You are now logged in as erin",
        ":NickServ!NickServ@services NOTICE erin :Account erin registered; you are now logged in.",
    ]
    assert net[A].store.get_account("erin") is not None
    info = send(net, erin, "PRIVMSG NickServ :INFO")  # from b.test's copy of the accounts
    assert info[0].startswith(":NickServ!NickServ@services NOTICE erin :Account erin, registered")
    assert info[1:] == [":NickServ!NickServ@services NOTICE erin :Logged in now as: erin."]
    assert send(net, erin, "PRIVMSG NickServ :DROP") == [  # PASSWD, DROP: ..._accounts.py
        ":NickServ!NickServ@services NOTICE erin :Syntax: DROP <password>"
    ]


def test_login_tokens_from_a_leaf_are_the_hubs(net: CoreNetwork) -> None:
    alice = register_on_c(net)
    notices = send(net, alice, "PRIVMSG NickServ :TOKEN")
    assert notices[0].startswith(":NickServ!NickServ@services NOTICE alice :Your login token: ")
    token = notices[0].rsplit(" ", 1)[1]
    assert len(notices) == 3 and len(net[A].store.login_tokens("alice")) == 1
    assert net[C].store.login_tokens("alice") == []

    def sasl_on_b(secret: str) -> list[str]:
        client = net[B].connect()
        client.send("CAP LS 302", "CAP REQ :sasl", "NICK ally", "AUTHENTICATE PLAIN")
        lines = send(net, client, f"AUTHENTICATE {plain('alice', secret)}")
        client.send("QUIT")
        net.settle()
        return lines

    assert sasl_on_b(token)[-1] == ":b.test 903 ally :SASL authentication successful"
    assert send(net, alice, f"PRIVMSG NickServ :TOKEN REVOKE {token}") == [
        ":NickServ!NickServ@services NOTICE alice :That login token is revoked."
    ]
    assert sasl_on_b(token) == [":b.test 904 ally :SASL authentication failed"]
    assert send(net, alice, f"PRIVMSG NickServ :TOKEN REVOKE {token}") == [
        ":NickServ!NickServ@services NOTICE alice :That is not one of your login tokens."
    ]
    send(net, alice, "PRIVMSG NickServ :TOKEN", "PRIVMSG NickServ :TOKEN")
    assert send(net, alice, "PRIVMSG NickServ :TOKEN REVOKE ALL") == [
        ":NickServ!NickServ@services NOTICE alice :Revoked all your login tokens (2)."
    ]
    net.cut(B, C)
    assert send(net, alice, "PRIVMSG NickServ :TOKEN") == [
        ":NickServ!NickServ@services NOTICE alice :The services hub cannot be reached; try again"
        " later."
    ]


def test_pass_login_on_a_leaf(net: CoreNetwork) -> None:
    register_on_c(net).send("QUIT")
    client = net[B].connect()
    client.send(f"PASS alice:{PW}", "NICK ally", "USER ally 0 * :Ally")
    lines = send(net, client)
    assert lines[0] == ":b.test 900 ally ally!~ally@127.0.0.1 alice :You are now logged in as alice"
    assert " 001 ally " in lines[1]


def test_later_lines_wait_for_the_hub_and_keep_their_labels(net: CoreNetwork) -> None:
    client = net[C].connect()
    client.send("CAP LS 302", "CAP REQ :labeled-response batch", "NICK alice")
    client.send("USER alice 0 * :Alice", "CAP END")
    client.take()
    net[A].hold_jobs = True  # the hub is hashing the password meanwhile
    assert send(net, client, f"@label=r1 REGISTER * * {PW}", "@label=p2 PING :here") == []
    net[A].finish_jobs()
    net.settle()
    assert client.take() == [
        "@label=r1 :c.test BATCH +batch1 labeled-response",
        "@batch=batch1 :c.test 900 alice alice!~alice@127.0.0.1 alice :You are now logged in as"
        " alice",
        "@batch=batch1 :c.test REGISTER SUCCESS alice :Account successfully registered",
        ":c.test BATCH -batch1",
        "@label=p2 :c.test PONG c.test :here",
    ]


def test_with_the_hub_split_off_logins_fail_at_once(net: CoreNetwork) -> None:
    register_on_c(net).send("QUIT")
    net.cut(A, B)
    carol = net.register(C, "carol")
    assert send(net, carol, f"REGISTER * * {PW}", "PING :next") == [
        f":c.test FAIL REGISTER TEMPORARILY_UNAVAILABLE carol :{AWAY}",
        ":c.test PONG c.test :next",
    ]
    assert send(net, carol, f"PRIVMSG NickServ :IDENTIFY alice {PW}") == [
        ":NickServ!NickServ@services NOTICE carol :The services hub cannot be reached; try again"
        " later."
    ]
    client = net[B].connect()
    client.send("CAP LS 302", "CAP REQ :sasl", "NICK ally")
    client.send("AUTHENTICATE PLAIN")
    assert client.send(f"AUTHENTICATE {plain('alice', PW)}") == [
        f":b.test 904 ally :SASL authentication failed: {AWAY}"
    ]
    lines = client.send(f"PASS alice:{PW}", "USER ally 0 * :Ally", "CAP END")
    assert lines[0] == f":b.test NOTICE ally :Login failed: {AWAY}"
    assert " 001 ally " in lines[1]  # and registration goes on, without an account
    # the hub itself goes on as ever
    hub = net.register(A, "hubby")
    assert send(net, hub, f"PRIVMSG NickServ :IDENTIFY alice {PW}")[-1].endswith(
        ":You are now logged in as alice."
    )


def test_a_request_in_flight_when_the_hub_splits_off_fails(net: CoreNetwork) -> None:
    client = net[C].connect()
    client.send("CAP LS 302", "CAP REQ :labeled-response", "NICK alice")
    client.send("USER alice 0 * :Alice", "CAP END")
    client.take()
    net[A].hold_jobs = True
    assert send(net, client, f"@label=r1 REGISTER * * {PW}", "@label=p2 PING :x") == []
    net.cut(A, B)  # c hears of it as a SQUIT from b, and gives up within a second
    net[C].tick(1)
    assert client.take() == [
        f"@label=r1 :c.test FAIL REGISTER TEMPORARILY_UNAVAILABLE alice :{AWAY}",
        "@label=p2 :c.test PONG c.test :x",
    ]
    assert client.session.account is None and not client.session.busy


def test_a_request_on_a_lost_link_fails_at_once(net: CoreNetwork) -> None:
    client = net.register(C, "alice")
    net[A].hold_jobs = True
    assert send(net, client, f"PRIVMSG NickServ :REGISTER {PW}", "PING :x") == []
    net.cut(B, C)
    assert client.take() == [
        ":NickServ!NickServ@services NOTICE alice :The services hub cannot be reached; try again"
        " later.",
        ":c.test PONG c.test :x",
    ]


def test_a_request_the_hub_does_not_answer_in_time_fails(net: CoreNetwork) -> None:
    client = net.register(B, "alice")
    net[A].hold_jobs = True
    assert send(net, client, f"REGISTER * * {PW}") == []
    net[B].tick(9)
    assert client.take() == []
    net[B].tick(1)  # services_timeout: 10 seconds
    assert client.take() == [f":b.test FAIL REGISTER TEMPORARILY_UNAVAILABLE alice :{AWAY}"]
    net[A].finish_jobs()  # the hub's late answer is dropped
    net.settle()
    assert client.take() == []
    assert client.session.account is None


def test_the_hub_throttles_failed_logins_from_a_leaf(net: CoreNetwork) -> None:
    register_on_c(net).send("QUIT")
    carol = net.register(C, "carol")
    for _ in range(5):  # login_attempts
        send(net, carol, "PRIVMSG NickServ :IDENTIFY alice wrong-horse")
    assert send(net, carol, f"PRIVMSG NickServ :IDENTIFY alice {PW}") == [
        ":NickServ!NickServ@services NOTICE carol :Invalid account or password."
    ]


def test_the_hub_answers_only_what_it_knows_from_where_it_should(net: CoreNetwork) -> None:
    _, toward_b = net.wires[frozenset((A, B))]  # a.test's end of the link to b.test
    toward_b.take()
    hub = net[A].server
    for line in (
        ":nowhere.test SVCREQ a.test 1 LOGIN 127.0.0.1 alice :pw",  # no such server
        ":a.test SVCREQ a.test 2 LOGIN 127.0.0.1 alice :pw",  # not behind that link
        ":c.test SVCANS a.test 3 OK alice",  # an answer nobody asked for
    ):
        hub.link_receive(toward_b.link, line.encode(), net[A].clock.now)
    net[A].deliver()
    assert toward_b.take() == []
    hub.link_receive(toward_b.link, b":c.test SVCREQ a.test 7 FROB x :y", net[A].clock.now)
    net[A].deliver()
    assert toward_b.take() == [":a.test SVCANS c.test 7 UNAVAILABLE"]


def test_the_services_hub_setting() -> None:
    assert Config(server_name="a.test", services_hub="A.test").remote_services is None
    assert Config(server_name="b.test", services_hub="a.test").remote_services == "a.test"
    assert Config(server_name="b.test").remote_services is None
    for bad in ("", "a test", "a:test"):
        with pytest.raises(ConfigError, match="services_hub"):
            validate(Config(services_hub=bad))
    with pytest.raises(ConfigError, match="services_timeout"):
        validate(Config(services_timeout=0))


def test_a_hub_behind_an_ngircd_server_cannot_be_asked() -> None:
    """Requests cross only links between miniircd servers: with the services hub behind
    ngIRCd (here other.test, behind the ngIRCd hub.test), nothing is sent and the login
    fails at once; the password never reaches ngIRCd."""
    core = CoreHarness(services_hub="other.test")
    peer = core.link()
    peer.take()
    peer.send(
        ":hub.test PASS hub-to-leaf 0210-IRC+ ngIRCd|26.1:CHLMSXZ PZ",
        ":hub.test SERVER hub.test 1 :test hub",
        ":hub.test 376 irc.test :End of MOTD command",
        ":hub.test SERVER other.test 2 7 :other server",
        ":hub.test PING :hub.test",
    )
    assert core.server.state.find_server("other.test") is not None
    client = core.register("alice")
    assert client.send(f"REGISTER * * {PW}") == [
        f":irc.test FAIL REGISTER TEMPORARILY_UNAVAILABLE alice :{AWAY}"
    ]
    assert not any(PW in line for line in peer.take())
