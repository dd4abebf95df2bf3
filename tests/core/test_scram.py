"""Transcript tests for SASL SCRAM-SHA-256: the RFC 7677 vector, the exchange through
AUTHENTICATE, every way it fails, and where the SCRAM records come from."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from harness import CoreClient, CoreHarness
from miniircd.protocol import scram
from miniircd.store.base import Account
from miniircd.store.passwords import SCRAM_ITERATIONS, hash_password, scram_credentials
from scramclient import ScramClient, b64, chunks, hi, server_message

PW = "correct-horse"
B = "bob!~bob@127.0.0.1"
SASL_OK = ":irc.test 903 {} :SASL authentication successful"
SASL_FAIL = ":irc.test 904 {} :SASL authentication failed"
LOGGED_IN = ":irc.test 900 {0} {0}!~{0}@127.0.0.1 {1} :You are now logged in as {1}"


def make_account(core: CoreHarness, name: str, password: str = PW) -> None:
    client = core.connect()
    assert client.send(f"REGISTER {name} * {password}")[-1].startswith(":irc.test REGISTER SUCCESS")
    client.send("QUIT")


def old_account(core: CoreHarness, name: str, password: str = PW) -> None:
    """An account as made before SCRAM: a scrypt hash and no SCRAM record."""
    assert core.store.create_account(Account(name, hash_password(password), None, 0.0))






def start(client: CoreClient) -> None:
    assert client.send("AUTHENTICATE SCRAM-SHA-256") == ["AUTHENTICATE +"]


def first_steps(client: CoreClient, scram_client: ScramClient) -> bytes:
    """Start, send client-first; the server-first message."""
    start(client)
    return server_message(client.send(*chunks(scram_client.first())))


def scram_login(client: CoreClient, name: str, password: str) -> list[str]:
    """A whole exchange; what the server answers the client's last `AUTHENTICATE +`."""
    scram_client = ScramClient(name, password)
    server_first = first_steps(client, scram_client)
    server_final = server_message(client.send(*chunks(scram_client.final(server_first))))
    assert scram_client.server_signature_ok(server_final)
    return client.send("AUTHENTICATE +")


# -- the maths ---------------------------------------------------------------------------------


def test_rfc7677_test_vector() -> None:
    """RFC 7677 section 3: user "user", password "pencil", 4096 iterations."""
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    assert hi(b"pencil", salt, 4096) == scram.salted_password("pencil", salt, 4096)
    client = ScramClient("user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    assert client.first() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    exchange = scram.ServerExchange()
    assert exchange.client_first(client.first()) == ("user", "")
    server_first = exchange.server_first(
        scram.derive("pencil", salt, 4096), b"unused", 1, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    )
    assert server_first == (
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    )
    client_final = client.final(server_first)
    assert client_final == (
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    server_final = exchange.client_final(client_final)
    assert server_final == b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    assert client.server_signature_ok(server_final)
    exchange.client_done(b"")
    assert exchange.state == scram.FINISHED


def test_exchange_steps_out_of_order_are_refused() -> None:
    exchange = scram.ServerExchange()
    with pytest.raises(scram.ScramError):
        exchange.client_final(b"c=biws,r=x,p=AAAA")
    with pytest.raises(scram.ScramError):
        exchange.client_done(b"")
    exchange.client_first(b"n,,n=a,r=abc")
    with pytest.raises(scram.ScramError):
        exchange.client_first(b"n,,n=a,r=abc")


def test_register_keeps_a_scram_record_and_never_the_password(core: CoreHarness) -> None:
    make_account(core, "alice")
    account = core.store.get_account("alice")
    assert account is not None and account.scram is not None
    assert account.scram.startswith(f"SCRAM-SHA-256${SCRAM_ITERATIONS}$")
    credentials = scram_credentials(account.scram)
    assert credentials is not None and len(credentials.salt) == 16
    assert credentials == scram.derive(PW, credentials.salt, SCRAM_ITERATIONS)
    salted = scram.salted_password(PW, credentials.salt, SCRAM_ITERATIONS)
    assert PW not in account.scram and b64(salted) not in account.scram
    other = core.connect()
    assert other.send(f"REGISTER bob * {PW}")[-1].endswith("Account successfully registered")
    bob = core.store.get_account("bob")
    assert bob is not None and bob.scram is not None
    assert scram_credentials(bob.scram) != credentials  # a salt of its own


# -- the exchange ------------------------------------------------------------------------------


def test_scram_login_during_cap_negotiation(core: CoreHarness) -> None:
    make_account(core, "alice")
    client = core.connect()
    client.send("CAP LS 302", "NICK alice", "USER alice 0 * :Alice", "CAP REQ :sasl")
    scram_client = ScramClient("alice", PW)
    start(client)
    first_lines = client.send(*chunks(scram_client.first()))
    assert len(first_lines) == 1
    server_first = server_message(first_lines)
    fields = dict(part.split("=", 1) for part in server_first.decode().split(","))
    assert list(fields) == ["r", "s", "i"] and fields["i"] == str(SCRAM_ITERATIONS)
    assert (
        fields["r"].startswith(scram_client.nonce)
        and len(fields["r"]) >= len(scram_client.nonce) + 24
    )
    final_lines = client.send(*chunks(scram_client.final(server_first)))
    assert len(final_lines) == 1
    assert scram_client.server_signature_ok(server_message(final_lines))
    assert client.session.account is None  # not before the client's last `+`
    assert client.send("AUTHENTICATE +") == [
        LOGGED_IN.format("alice", "alice"),
        SASL_OK.format("alice"),
    ]
    assert client.session.account == "alice" and client.session.sasl_scram is None
    lines = client.send("CAP END")
    assert lines[0].startswith(":irc.test 001 alice ")
    assert not any("NickServ" in line for line in lines)
    assert client.send("AUTHENTICATE SCRAM-SHA-256") == [
        ":irc.test 907 alice :You have already authenticated using SASL"
    ]


def test_scram_login_after_registration_is_a_login_like_plain(core: CoreHarness) -> None:
    """account-notify to peers, the unread private messages, the nick kept."""
    make_account(core, "alice")
    sender = core.register("sender")
    sender.send("PRIVMSG alice :while you were away")
    alice, carol = core.register("alice"), core.register("carol")
    carol.send("CAP REQ :account-notify")
    alice.send("JOIN #c")
    carol.send("JOIN #c")
    alice.take()
    carol.take()
    lines = scram_login(alice, "ALICE", PW)  # the name as typed: folded to find the account
    assert lines[:3] == [
        LOGGED_IN.format("alice", "alice"),
        ":irc.test NOTICE alice :You have 1 unread message(s)",
        ":irc.test NOTICE alice :*** unread messages: 1 message(s) follow",
    ]
    assert lines[-1] == SASL_OK.format("alice")
    assert carol.take() == [":alice!~alice@127.0.0.1 ACCOUNT alice"]


def test_channel_binding_flag_y_is_accepted_and_p_refused(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    # `y`: the client could bind but thinks the server cannot (true: no -PLUS offered)
    scram_client = ScramClient("alice", PW, gs2_header="y,,")
    server_first = first_steps(bob, scram_client)
    final = bob.send(*chunks(scram_client.final(server_first)))
    assert scram_client.server_signature_ok(server_message(final))
    assert bob.send("AUTHENTICATE +")[-1] == SASL_OK.format("bob")
    carol = core.register("carol")
    start(carol)
    tls = ScramClient("alice", PW, gs2_header="p=tls-unique,,")
    assert carol.send(*chunks(tls.first())) == [SASL_FAIL.format("carol")]
    assert carol.session.sasl_mechanism is None and carol.session.sasl_scram is None


def test_authzid_must_name_the_same_account(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    same = ScramClient("alice", PW, gs2_header="n,a=Alice,")
    final = bob.send(*chunks(same.final(first_steps(bob, same))))
    assert same.server_signature_ok(server_message(final))
    assert bob.send("AUTHENTICATE +")[-1] == SASL_OK.format("bob")
    carol = core.register("carol")
    start(carol)
    other = ScramClient("alice", PW, gs2_header="n,a=bob,")
    assert carol.send(*chunks(other.first())) == [SASL_FAIL.format("carol")]


@pytest.mark.parametrize(
    "message",
    [
        b"",  # `AUTHENTICATE +` alone
        b"n,,r=abc",  # no username
        b"n,,n=alice",  # no nonce
        b"n,,n=alice,r=",  # empty nonce
        b"n,,n=al=2Xice,r=abc",  # a bad escape
        b"n,,m=ext,n=alice,r=abc",  # a mandatory extension
        b"x,,n=alice,r=abc",  # no such channel-binding flag
        b"n,b=alice,n=alice,r=abc",  # not an authzid
        b"n,n=alice,r=abc",  # no GS2 header
        b"n,,n=alice,r=abc,5=x",  # an extension must start with a letter
        b"n,,n=alice\0,r=abc",
        b"n,,n=\xff,r=abc",  # not UTF-8
    ],
)
def test_malformed_client_first_fails(core: CoreHarness, message: bytes) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    start(bob)
    assert bob.send(*chunks(message)) == [SASL_FAIL.format("bob")]
    assert bob.session.sasl_mechanism is None and bob.session.sasl_scram is None
    start(bob)  # a fresh start works


def test_client_first_not_base64_fails(core: CoreHarness) -> None:
    bob = core.register("bob")
    start(bob)
    assert bob.send("AUTHENTICATE bj1h!") == [SASL_FAIL.format("bob")]


def tampered(final: bytes, old: bytes, new: bytes) -> bytes:
    assert old in final
    return final.replace(old, new, 1)


@pytest.mark.parametrize(
    "change",
    [
        lambda f: tampered(f, b"c=biws", b"c=eSws"),  # says `y,,` where the first said `n,,`
        lambda f: tampered(f, b"c=biws", b"c=bi!s"),  # not base64
        lambda f: f.rpartition(b",p=")[0],  # no proof
        lambda f: f + b"=",  # a proof that is not base64
        lambda f: f.rpartition(b",p=")[0] + b",p=" + b64(b"short").encode(),
        lambda f: tampered(f, b",r=", b",x=1,r="),  # the nonce is not second
        lambda f: b"p=" + f.rpartition(b",p=")[2],
        lambda f: f.rpartition(b",p=")[0] + b",p=\xff",
    ],
)
def test_malformed_client_final_fails(core: CoreHarness, change: Callable[[bytes], bytes]) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    client = ScramClient("alice", PW)
    final = client.final(first_steps(bob, client))
    assert bob.send(*chunks(change(final))) == [SASL_FAIL.format("bob")]
    assert bob.session.account is None and bob.session.sasl_scram is None


def test_nonce_mismatch_fails(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    client = ScramClient("alice", PW)
    server_first = first_steps(bob, client)
    final = client.final(server_first, nonce=client.nonce + "forged")  # proof made right
    assert bob.send(*chunks(final)) == [SASL_FAIL.format("bob")]
    assert bob.session.account is None


def test_wrong_password_fails_at_the_proof_and_is_throttled() -> None:
    core = CoreHarness(login_attempts=2)
    make_account(core, "alice")
    bob = core.register("bob")
    for _ in range(2):
        client = ScramClient("alice", "wrong password")
        assert bob.send(*chunks(client.final(first_steps(bob, client)))) == [
            SASL_FAIL.format("bob")
        ]
    assert bob.session.account is None
    # two failures for alice: even the right password now fails, for a while
    client = ScramClient("alice", PW)
    assert bob.send(*chunks(client.final(first_steps(bob, client)))) == [SASL_FAIL.format("bob")]
    core.tick(core.server.config.login_window + 1)
    assert scram_login(bob, "alice", PW)[-1] == SASL_OK.format("bob")


def test_last_message_must_be_empty(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    client = ScramClient("alice", PW)
    final = bob.send(*chunks(client.final(first_steps(bob, client))))
    assert client.server_signature_ok(server_message(final))
    assert bob.send("AUTHENTICATE AAAA") == [SASL_FAIL.format("bob")]
    assert bob.session.account is None


def server_first_fields(client: CoreClient, name: str) -> tuple[str, str]:
    """Salt and iteration count the server offers for `name`; the exchange is aborted."""
    server_first = first_steps(client, ScramClient(name, PW))
    assert client.send("AUTHENTICATE *") == [
        f":irc.test 906 {client.session.name} :SASL authentication aborted"
    ]
    fields = dict(part.split("=", 1) for part in server_first.decode().split(","))
    return fields["s"], fields["i"]


def test_unknown_account_gets_a_steady_fake_salt_and_fails_like_a_wrong_password(
    core: CoreHarness,
) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    salt, iterations = server_first_fields(bob, "nobody")
    assert iterations == str(SCRAM_ITERATIONS) and len(base64.b64decode(salt)) == 16
    assert server_first_fields(bob, "NOBODY") == (salt, iterations)  # the same name, folded
    assert server_first_fields(bob, "somebody")[0] != salt
    restarted = CoreHarness.on_store(core.store)  # kept in the database
    carol = restarted.register("carol")
    assert server_first_fields(carol, "nobody") == (salt, iterations)
    unknown = ScramClient("nobody", PW)
    unknown_lines = carol.send(*chunks(unknown.final(first_steps(carol, unknown))))
    wrong = ScramClient("alice", "not the password")
    wrong_lines = carol.send(*chunks(wrong.final(first_steps(carol, wrong))))
    assert unknown_lines == wrong_lines == [SASL_FAIL.format("carol")]


def test_account_without_scram_record_fails_until_a_plain_login(core: CoreHarness) -> None:
    old_account(core, "alice")
    bob = core.register("bob")
    fake_salt, _ = server_first_fields(bob, "alice")
    client = ScramClient("alice", PW)
    assert bob.send(*chunks(client.final(first_steps(bob, client)))) == [SASL_FAIL.format("bob")]
    # a wrong password makes no record
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    bad = base64.b64encode(b"\0alice\0wrong password").decode()
    assert bob.send(f"AUTHENTICATE {bad}") == [SASL_FAIL.format("bob")]
    account = core.store.get_account("alice")
    assert account is not None and account.scram is None
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    good = base64.b64encode(f"\0alice\0{PW}".encode()).decode()
    assert bob.send(f"AUTHENTICATE {good}")[-1] == SASL_OK.format("bob")
    account = core.store.get_account("alice")
    assert account is not None and scram_credentials(account.scram) is not None
    carol = core.register("carol")
    assert server_first_fields(carol, "alice")[0] != fake_salt  # now the real one
    assert scram_login(carol, "alice", PW)[-1] == SASL_OK.format("carol")


def test_nickserv_identify_and_pass_make_the_record_too(core: CoreHarness) -> None:
    old_account(core, "alice")
    old_account(core, "bob")
    client = core.register("carol")
    client.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}")
    alice = core.store.get_account("alice")
    assert alice is not None and alice.scram is not None
    other = core.connect()
    other.send(f"PASS bob:{PW}", "NICK bob", "USER bob 0 * :Bob")
    bob = core.store.get_account("bob")
    assert bob is not None and bob.scram is not None
    assert scram_login(core.register("dave"), "bob", PW)[-1] == SASL_OK.format("dave")


def test_login_token_makes_no_record(core: CoreHarness) -> None:
    old_account(core, "alice")
    alice = core.register("alice")
    alice.send(f"PRIVMSG NickServ :IDENTIFY {PW}")
    account = core.store.get_account("alice")
    assert account is not None and account.scram is not None
    core.store.set_password("alice", account.password_hash, None)  # forget the record
    token = alice.send("PRIVMSG NickServ :TOKEN")[0].rsplit(" ", 1)[1]
    bob = core.register("bob")
    bob.send(f"PRIVMSG NickServ :IDENTIFY alice {token}")
    assert bob.session.account == "alice"
    account = core.store.get_account("alice")
    assert account is not None and account.scram is None


def test_passwd_replaces_the_record(core: CoreHarness) -> None:
    make_account(core, "alice")
    alice = core.register("alice")
    alice.send(f"PRIVMSG NickServ :IDENTIFY {PW}")
    alice.send(f"PRIVMSG NickServ :PASSWD {PW} new-password")
    bob = core.register("bob")
    client = ScramClient("alice", PW)
    assert bob.send(*chunks(client.final(first_steps(bob, client)))) == [SASL_FAIL.format("bob")]
    assert scram_login(bob, "alice", "new-password")[-1] == SASL_OK.format("bob")


def test_password_change_between_proof_and_last_message_fails(core: CoreHarness) -> None:
    make_account(core, "alice")
    alice = core.register("alice")
    alice.send(f"PRIVMSG NickServ :IDENTIFY {PW}")
    bob = core.register("bob")
    client = ScramClient("alice", PW)
    final = bob.send(*chunks(client.final(first_steps(bob, client))))
    assert client.server_signature_ok(server_message(final))
    alice.send(f"PRIVMSG NickServ :PASSWD {PW} new-password")
    assert bob.send("AUTHENTICATE +") == [SASL_FAIL.format("bob")]
    assert bob.session.account is None


def test_abort_and_cap_end_clear_the_exchange(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    client = ScramClient("alice", PW)
    first_steps(bob, client)
    assert bob.send("AUTHENTICATE *") == [":irc.test 906 bob :SASL authentication aborted"]
    assert bob.session.sasl_scram is None and bob.session.sasl_mechanism is None
    newcomer = core.connect()
    newcomer.send("CAP LS 302", "NICK carol", "USER carol 0 * :Carol")
    first_steps(newcomer, ScramClient("alice", PW))
    lines = newcomer.send("CAP END")
    assert lines[0] == ":irc.test 906 carol :SASL authentication aborted"
    assert newcomer.session.sasl_scram is None and newcomer.session.registered


def test_plain_after_an_aborted_scram(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    first_steps(bob, ScramClient("alice", PW))
    bob.send("AUTHENTICATE *")
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    good = base64.b64encode(f"\0alice\0{PW}".encode()).decode()
    assert bob.send(f"AUTHENTICATE {good}")[-1] == SASL_OK.format("bob")


def test_chunk_too_long(core: CoreHarness) -> None:
    bob = core.register("bob")
    start(bob)
    assert bob.send("AUTHENTICATE " + "A" * 401) == [":irc.test 905 bob :SASL message too long"]
    assert bob.session.sasl_scram is None


def test_long_messages_go_in_chunks_both_ways(core: CoreHarness) -> None:
    """A 539-character client nonce: the client-first takes two chunks and the server-first
    is exactly 800 base64 characters, so the server ends it with `AUTHENTICATE +`."""
    make_account(core, "alice")
    bob = core.register("bob")
    client = ScramClient("alice", PW, nonce="n" * 539)
    start(bob)
    lines = chunks(client.first())
    assert len(lines) == 2
    assert bob.send(lines[0]) == []
    answer = bob.send(lines[1])
    assert [len(line) for line in answer] == [len("AUTHENTICATE ") + 400] * 2 + [
        len("AUTHENTICATE +")
    ]
    assert answer[-1] == "AUTHENTICATE +"
    final = bob.send(*chunks(client.final(server_message(answer))))
    assert client.server_signature_ok(server_message(final))
    assert bob.send("AUTHENTICATE +")[-1] == SASL_OK.format("bob")


def test_unknown_mechanism_lists_both(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert bob.send("AUTHENTICATE SCRAM-SHA-1") == [
        ":irc.test 908 bob PLAIN,SCRAM-SHA-256 :are available SASL mechanisms",
        SASL_FAIL.format("bob"),
    ]
    assert bob.send("AUTHENTICATE scram-sha-256") == ["AUTHENTICATE +"]


def test_unknown_account_failures_count_against_the_address() -> None:
    core = CoreHarness(login_attempts=1)
    make_account(core, "alice")
    bob = core.register("bob")
    unknown = ScramClient("nobody", PW)
    assert bob.send(*chunks(unknown.final(first_steps(bob, unknown)))) == [SASL_FAIL.format("bob")]
    right = ScramClient("alice", PW)  # from the same address: throttled for a while
    assert bob.send(*chunks(right.final(first_steps(bob, right)))) == [SASL_FAIL.format("bob")]
    core.tick(core.server.config.login_window + 1)
    assert scram_login(bob, "alice", PW)[-1] == SASL_OK.format("bob")
