"""SASL SCRAM-SHA-256 on a leaf of the services hub, sans-IO (tests/network.py): a chain
a - b - c whose hub a.test keeps the accounts. The leaf fetches the account's SCRAM record
from the hub (`SVCREQ ... SCRAM`), runs the exchange itself, and has the hub judge the
proof (`SVCREQ ... PROOF`), which counts failures in the hub's login throttle: the client
gets what a user of the hub gets, in order and labelled."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from harness import CoreClient
from miniircd.store.base import Account
from miniircd.store.passwords import SCRAM_ITERATIONS, hash_password, scram_credentials
from network import CoreNetwork
from scramclient import ScramClient, b64, chunks, server_message

A, B, C = "a.test", "b.test", "c.test"
PW = "correct-horse"
AWAY = "the services hub cannot be reached; try again later"
FAILED = ":{} 904 {} :SASL authentication failed"


def network(**config: Any) -> CoreNetwork:
    """b.test dials a.test, c.test dials b.test; a.test keeps the accounts."""
    net = CoreNetwork(A, B, C, services_hub=A, **config)
    net.link(B, A)
    net.link(C, B)
    return net


@pytest.fixture
def net() -> CoreNetwork:
    return network()


def send(net: CoreNetwork, client: CoreClient, *lines: str) -> list[str]:
    """Send lines, carry every line in flight across the network, and return the answer."""
    answer = client.send(*lines)
    net.settle()
    return answer + client.take()


def make_account(net: CoreNetwork, name: str = "alice", password: str = PW) -> None:
    client = net[A].connect()
    assert client.send(f"REGISTER {name} * {password}")[-1].endswith(
        f"REGISTER SUCCESS {name} :Account successfully registered"
    )
    client.send("QUIT")






def offered(server_first: bytes) -> tuple[bytes, int]:
    """The salt and iteration count of a server-first message."""
    fields = dict(part.split("=", 1) for part in server_first.decode().split(","))
    return base64.b64decode(fields["s"]), int(fields["i"])


def first_steps(net: CoreNetwork, client: CoreClient, scram: ScramClient) -> bytes:
    """Start SCRAM, send the client-first message; the server-first message."""
    assert client.send("AUTHENTICATE SCRAM-SHA-256") == ["AUTHENTICATE +"]
    return server_message(send(net, client, *chunks(scram.first())))


def salt_for(net: CoreNetwork, client: CoreClient, name: str) -> tuple[bytes, int]:
    """What the server offers `client` for `name`; the exchange is then aborted."""
    server_first = first_steps(net, client, ScramClient(name, PW))
    assert client.send("AUTHENTICATE *")[0].endswith(" :SASL authentication aborted")
    return offered(server_first)


def scram_login(net: CoreNetwork, client: CoreClient, name: str, password: str) -> list[str]:
    """A whole exchange: the 904 that ends it, or what the client's last `+` gets."""
    scram = ScramClient(name, password)
    answer = send(net, client, *chunks(scram.final(first_steps(net, client, scram))))
    if not answer[0].startswith("AUTHENTICATE "):
        return answer
    assert scram.server_signature_ok(server_message(answer))  # the leaf had the keys
    return send(net, client, "AUTHENTICATE +")


def services_lines(net: CoreNetwork) -> list[str]:
    """The requests and answers that crossed the links, each once (b.test passes them on)."""
    lines = [line for line in net.carried if " SVCREQ " in line or " SVCANS " in line]
    return list(dict.fromkeys(lines))


def test_scram_on_a_leaf_logs_in_to_the_hubs_account(net: CoreNetwork) -> None:
    make_account(net)
    record = net[A].store.get_account("alice")
    assert record is not None and record.scram is not None
    credentials = scram_credentials(record.scram)
    assert credentials is not None
    client = net[C].connect()
    assert any("sasl=PLAIN,SCRAM-SHA-256 " in line + " " for line in client.send("CAP LS 302"))
    client.send("CAP REQ :sasl", "NICK ally", "USER ally 0 * :Ally")
    client.take()
    scram = ScramClient("ALICE", PW)  # the name as typed: the hub folds it
    assert client.send("AUTHENTICATE SCRAM-SHA-256") == ["AUTHENTICATE +"]
    assert client.send(*chunks(scram.first())) == []  # the leaf waits for the hub
    net.settle()
    server_first = server_message(client.take())
    assert offered(server_first) == (credentials.salt, credentials.iterations)
    final = send(net, client, *chunks(scram.final(server_first)))
    assert scram.server_signature_ok(server_message(final))
    assert client.session.account is None  # not before the client's last `+`
    assert client.send("AUTHENTICATE +") == [
        ":c.test 900 ally ally!~ally@127.0.0.1 alice :You are now logged in as alice",
        ":c.test 903 ally :SASL authentication successful",
    ]
    assert " 001 ally " in send(net, client, "CAP END")[0]
    watcher = net[A].register("watcher")
    assert [line for line in watcher.send("WHOIS ally") if " 330 " in line] == [
        ":a.test 330 watcher ally alice :is logged in as"
    ]
    assert services_lines(net) == [
        ":c.test SVCREQ a.test 1 SCRAM ALICE :",
        f":a.test SVCANS c.test 1 OK {record.scram}",
        f":c.test SVCREQ a.test 2 PROOF 127.0.0.1 ALICE :{b64(credentials.stored_key)}",
        ":a.test SVCANS c.test 2 OK alice",
    ]
    assert not any(PW in line for line in net.carried)
    copy = net[C].store.get_account("alice")  # the name only (core.replica): no record
    assert copy is not None and copy.scram is None and copy.password_hash == "!"


def test_later_lines_wait_for_the_hub_and_keep_their_labels(net: CoreNetwork) -> None:
    make_account(net)
    client = net.register(B, "ally")
    client.send("CAP REQ :labeled-response batch")
    client.take()
    scram = ScramClient("alice", PW)
    assert client.send("@label=s1 AUTHENTICATE SCRAM-SHA-256") == ["@label=s1 AUTHENTICATE +"]
    (first,) = chunks(scram.first())
    assert client.send(f"@label=s2 {first}", "@label=p1 PING :one") == []
    net.settle()
    challenge, pong = client.take()
    assert challenge.startswith("@label=s2 AUTHENTICATE ")
    assert pong == "@label=p1 :b.test PONG b.test :one"
    server_first = base64.b64decode(challenge.split(" ")[-1])
    (final,) = chunks(scram.final(server_first))
    assert client.send(f"@label=s3 {final}", "@label=p2 PING :two") == []
    net.settle()
    signature, pong = client.take()
    assert scram.server_signature_ok(base64.b64decode(signature.split(" ")[-1]))
    assert signature.startswith("@label=s3 AUTHENTICATE ")
    assert pong == "@label=p2 :b.test PONG b.test :two"
    assert client.send("@label=s4 AUTHENTICATE +") == [
        "@label=s4 :b.test BATCH +batch1 labeled-response",
        "@batch=batch1 :b.test 900 ally ally!~ally@127.0.0.1 alice :You are now logged in as alice",
        "@batch=batch1 :b.test 903 ally :SASL authentication successful",
        ":b.test BATCH -batch1",
    ]


def test_a_wrong_password_fails_and_counts_in_the_hubs_throttle() -> None:
    net = network(login_attempts=2)
    make_account(net)
    hub = net[A].server
    bob = net[B].connect("127.0.0.5")
    bob.send("CAP LS 302", "CAP REQ :sasl", "NICK bob")
    for _ in range(2):
        assert scram_login(net, bob, "alice", "wrong-horse") == [FAILED.format(B, "bob")]
    # the hub counted both, by the account and by the user's address; the leaf keeps none
    now = net[A].clock.now
    assert not hub.login_throttle.allows("alice", "127.0.0.9", now)
    assert not hub.login_throttle.allows("somebody", "127.0.0.5", now)
    assert net[B].server.login_throttle.failures == {}
    # the right password is refused now, at the proof, on a leaf and on the hub alike
    carol = net[C].connect("127.0.0.6")
    carol.send("CAP LS 302", "CAP REQ :sasl", "NICK carol")
    assert scram_login(net, carol, "alice", PW) == [FAILED.format(C, "carol")]
    dave = net.register(A, "dave")
    assert dave.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}") == [
        ":NickServ!NickServ@services NOTICE dave :Invalid account or password."
    ]
    net.tick(hub.config.login_window + 1)  # (carol's registration timed out meanwhile)
    erin = net[C].connect("127.0.0.6")
    erin.send("CAP LS 302", "CAP REQ :sasl", "NICK erin")
    success = ":c.test 903 erin :SASL authentication successful"
    assert scram_login(net, erin, "alice", PW)[-1] == success


def test_failures_from_one_address_throttle_it_on_the_hub() -> None:
    net = network(login_attempts=2)
    make_account(net)
    guesser = net[C].connect("127.0.0.7")
    guesser.send("CAP LS 302", "CAP REQ :sasl", "NICK guesser")
    for name in ("nobody", "someone"):
        assert scram_login(net, guesser, name, PW) == [FAILED.format(C, "guesser")]
    assert scram_login(net, guesser, "alice", PW) == [FAILED.format(C, "guesser")]
    other = net[C].connect("127.0.0.8")
    other.send("CAP LS 302", "CAP REQ :sasl", "NICK other")
    assert scram_login(net, other, "alice", PW)[-1].endswith(
        " 903 other :SASL authentication successful"
    )


def test_an_account_without_a_scram_record_gets_what_the_hub_gives(net: CoreNetwork) -> None:
    # made before SCRAM: a scrypt hash and no record
    assert net[A].store.create_account(Account("alice", hash_password(PW), None, 0.0))
    on_hub, on_b, on_c = net[A].connect(), net[B].connect(), net[C].connect()
    for client in (on_hub, on_b, on_c):
        client.send("CAP LS 302", "CAP REQ :sasl")
    # the hub's fake salt for the name, everywhere, as for a name with no account at all
    fake = salt_for(net, on_hub, "alice")
    assert fake[1] == SCRAM_ITERATIONS
    assert salt_for(net, on_b, "alice") == salt_for(net, on_c, "alice") == fake
    assert salt_for(net, on_c, "nobody") == salt_for(net, on_hub, "nobody") != fake
    assert f":a.test SVCANS c.test 1 DENIED {SCRAM_ITERATIONS}${b64(fake[0])}" in services_lines(
        net
    )
    assert scram_login(net, on_c, "alice", PW) == [FAILED.format(C, "*")]
    # a PLAIN login (checked by the hub) makes the record there; then SCRAM works
    assert on_b.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    plain = base64.b64encode(f"\0alice\0{PW}".encode()).decode()
    assert (
        send(net, on_b, f"AUTHENTICATE {plain}")[-1]
        == ":b.test 903 * :SASL authentication successful"
    )
    account = net[A].store.get_account("alice")
    assert account is not None and scram_credentials(account.scram) is not None
    assert salt_for(net, on_c, "alice") != fake
    assert (
        scram_login(net, on_c, "alice", PW)[-1] == ":c.test 903 * :SASL authentication successful"
    )


def test_a_name_no_account_can_have_is_not_asked_of_the_hub(net: CoreNetwork) -> None:
    client = net.register(C, "carol")
    salt, iterations = salt_for(net, client, "no body")
    assert iterations == SCRAM_ITERATIONS and len(salt) == 16
    assert scram_login(net, client, "no body", PW) == [FAILED.format(C, "carol")]
    assert services_lines(net) == []


def test_a_malformed_proof_fails_without_asking_the_hub(net: CoreNetwork) -> None:
    make_account(net)
    client = net.register(C, "carol")
    scram = ScramClient("alice", PW)
    final = scram.final(first_steps(net, client, scram))
    assert send(net, client, *chunks(final.replace(b"c=biws", b"c=eSws"))) == [
        FAILED.format(C, "carol")
    ]
    assert [line for line in services_lines(net) if " PROOF " in line] == []
    assert net[A].server.login_throttle.failures == {}


def test_a_password_changed_on_the_hub_meanwhile_fails_uncounted(net: CoreNetwork) -> None:
    make_account(net)
    owner = net.register(A, "alice")
    owner.send(f"PRIVMSG NickServ :IDENTIFY {PW}")
    client = net.register(C, "carol")
    scram = ScramClient("alice", PW)
    server_first = first_steps(net, client, scram)
    owner.send(f"PRIVMSG NickServ :PASSWD {PW} new-password")
    assert send(net, client, *chunks(scram.final(server_first))) == [FAILED.format(C, "carol")]
    assert net[A].server.login_throttle.failures == {}
    assert scram_login(net, client, "alice", "new-password")[-1].endswith(
        " 903 carol :SASL authentication successful"
    )


def test_with_the_hub_split_off_scram_fails_at_once(net: CoreNetwork) -> None:
    make_account(net)
    net.cut(A, B)
    client = net.register(C, "carol")
    assert client.send("AUTHENTICATE SCRAM-SHA-256") == ["AUTHENTICATE +"]
    (first,) = chunks(ScramClient("alice", PW).first())
    assert client.send(first, "PING :next") == [
        f":c.test 904 carol :SASL authentication failed: {AWAY}",
        ":c.test PONG c.test :next",
    ]
    assert client.session.sasl_scram is None and not client.session.busy


def test_a_proof_in_flight_when_the_link_is_lost_fails(net: CoreNetwork) -> None:
    make_account(net)
    client = net.register(C, "carol")
    scram = ScramClient("alice", PW)
    (final,) = chunks(scram.final(first_steps(net, client, scram)))
    assert client.send(final, "PING :next") == []  # the PROOF is on its way
    net.cut(B, C)
    assert client.take() == [
        f":c.test 904 carol :SASL authentication failed: {AWAY}",
        ":c.test PONG c.test :next",
    ]
    assert client.session.account is None and not client.session.busy
