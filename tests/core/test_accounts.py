"""Transcript tests for REGISTER, SASL PLAIN, PASS logins, the login throttle and account caps."""

from __future__ import annotations

import base64

from harness import CoreClient, CoreHarness
from miniircd.core.server import PRUNE_EVERY
from miniircd.store.base import Account
from miniircd.store.passwords import hash_password

PW = "correct-horse"
A = "alice!~alice@127.0.0.1"
B = "bob!~bob@127.0.0.1"
C = "carol!~carol@127.0.0.1"
LOGGED_IN_ALICE = f":irc.test 900 alice {A} alice :You are now logged in as alice"
SUCCESS_ALICE = ":irc.test REGISTER SUCCESS alice :Account successfully registered"
SASL_OK = ":irc.test 903 {} :SASL authentication successful"
SASL_FAIL = ":irc.test 904 {} :SASL authentication failed"


def plain(authcid: str, password: str, authzid: str = "") -> str:
    """A SASL PLAIN payload, base64-encoded."""
    return base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode()).decode()


def make_account(core: CoreHarness, name: str, password: str = PW) -> None:
    """Create an account from a throwaway connection that then leaves."""
    client = core.connect()
    assert client.send(f"REGISTER {name} * {password}") == [
        f":irc.test 900 * * {name} :You are now logged in as {name}",
        f":irc.test REGISTER SUCCESS {name} :Account successfully registered",
    ]
    client.send("QUIT")


def connect(core: CoreHarness, nick: str, realname: str, host: str = "127.0.0.1") -> CoreClient:
    """A registered client with a realname of its choosing."""
    client = core.connect(host)
    lines = client.send(f"NICK {nick}", f"USER {nick} 0 * :{realname}")
    assert any(" 001 " in line for line in lines), lines
    return client


def sasl(client: CoreClient, payload: str) -> list[str]:
    assert client.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    return client.send(f"AUTHENTICATE {payload}")


def codes(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines]


# -- REGISTER ----------------------------------------------------------------------------------


def test_register_creates_account_and_logs_in(core: CoreHarness) -> None:
    alice = core.register("alice")
    # 900 comes first (login happens as the account is stored), then REGISTER SUCCESS.
    assert alice.send(f"REGISTER * alice@example.org {PW}") == [LOGGED_IN_ALICE, SUCCESS_ALICE]
    assert alice.session.account == "alice"
    account = core.store.get_account("ALICE")
    assert account is not None
    assert (account.name, account.email, account.created) == (
        "alice", "alice@example.org", core.clock.now
    )  # fmt: skip
    assert account.password_hash.startswith("scrypt$")
    assert PW not in account.password_hash


def test_register_custom_account_name_without_email(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert bob.send(f"REGISTER robert * {PW}") == [
        f":irc.test 900 bob {B} robert :You are now logged in as robert",
        ":irc.test REGISTER SUCCESS robert :Account successfully registered",
    ]
    account = core.store.get_account("robert")
    assert account is not None and account.email is None
    assert core.store.get_account("bob") is None


def test_register_before_user_then_registration_completes(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("NICK alice") == []
    assert client.send(f"REGISTER * * {PW}") == [
        ":irc.test 900 alice * alice :You are now logged in as alice",
        SUCCESS_ALICE,
    ]
    lines = client.send("USER alice 0 * :Alice Liddell")
    assert lines[0] == f":irc.test 001 alice :Welcome to the miniircd Network, {A}"
    assert lines[-1] == ":irc.test 376 alice :End of /MOTD command."
    assert not any("NickServ" in line for line in lines)  # its own account: no grace period
    assert client.session.account == "alice"


def test_register_pipelined_between_nick_and_user(core: CoreHarness) -> None:
    client = core.connect()
    lines = client.send("NICK alice", f"REGISTER * * {PW}", "USER alice 0 * :Alice Liddell")
    # USER waits for REGISTER's hash, so the login is told before the user name is known
    assert lines[0] == ":irc.test 900 alice * alice :You are now logged in as alice"
    assert lines[1] == SUCCESS_ALICE
    assert lines[2] == f":irc.test 001 alice :Welcome to the miniircd Network, {A}"
    assert client.session.registered


def test_register_star_needs_a_nick(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send(f"REGISTER * * {PW}") == [
        ":irc.test FAIL REGISTER NEED_NICK * :You must choose a nickname first"
    ]
    assert client.session.account is None


def test_register_refusals(core: CoreHarness) -> None:
    alice = core.register("alice")
    refusals = {
        f"REGISTER 9bad * {PW}":
            ":irc.test FAIL REGISTER BAD_ACCOUNT_NAME 9bad :That account name is not valid",
        f"REGISTER NickServ * {PW}":
            ":irc.test FAIL REGISTER BAD_ACCOUNT_NAME NickServ :That account name is not valid",
        f"REGISTER chanSERV * {PW}":
            ":irc.test FAIL REGISTER BAD_ACCOUNT_NAME chanSERV :That account name is not valid",
        f"REGISTER {'a' * 31} * {PW}":
            f":irc.test FAIL REGISTER BAD_ACCOUNT_NAME {'a' * 31} :That account name is not valid",
        f"REGISTER alice nope {PW}":
            ":irc.test FAIL REGISTER INVALID_EMAIL alice :That email address is not valid",
        "REGISTER * * short":
            ":irc.test FAIL REGISTER WEAK_PASSWORD alice :Passwords must be 8 to 128 characters"
            " long",
        f"REGISTER * * {'x' * 129}":
            ":irc.test FAIL REGISTER WEAK_PASSWORD alice :Passwords must be 8 to 128 characters"
            " long",
        "REGISTER * * :has some spaces":
            ":irc.test FAIL REGISTER WEAK_PASSWORD alice :Passwords may not hold spaces",
        "REGISTER alice *": ":irc.test 461 alice REGISTER :Not enough parameters",
        "REGISTER": ":irc.test 461 alice REGISTER :Not enough parameters",
    }  # fmt: skip
    for line, reply in refusals.items():
        assert alice.send(line) == [reply], line
    assert alice.session.account is None
    assert core.store.get_account("alice") is None


def test_register_password_length_bounds_are_inclusive() -> None:
    core = CoreHarness(password_min_length=10, password_max_length=12)
    alice = core.register("alice")
    assert alice.send("REGISTER * * 123456789") == [
        ":irc.test FAIL REGISTER WEAK_PASSWORD alice :Passwords must be 10 to 12 characters long"
    ]
    assert alice.send("REGISTER * * 1234567890123") == [
        ":irc.test FAIL REGISTER WEAK_PASSWORD alice :Passwords must be 10 to 12 characters long"
    ]
    assert alice.send("REGISTER * * 123456789012") == [LOGGED_IN_ALICE, SUCCESS_ALICE]


def test_register_when_already_logged_in(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send(f"REGISTER * * {PW}")
    assert alice.send(f"REGISTER other * {PW}") == [
        ":irc.test FAIL REGISTER ALREADY_AUTHENTICATED other :You are already logged in"
    ]
    assert alice.send(f"REGISTER * * {PW}") == [
        ":irc.test FAIL REGISTER ALREADY_AUTHENTICATED alice :You are already logged in"
    ]
    assert core.store.get_account("other") is None


def test_register_twice_in_one_turn_creates_one_account(core: CoreHarness) -> None:
    """The second REGISTER passes the early check while the first is still hashing."""
    alice = core.register("alice")
    lines = alice.send(f"REGISTER * * {PW}", f"REGISTER other * {PW}")
    assert lines[:2] == [LOGGED_IN_ALICE, SUCCESS_ALICE]
    assert lines[2:] == [
        ":irc.test FAIL REGISTER ALREADY_AUTHENTICATED other :You are already logged in"
    ]
    assert alice.session.account == "alice"
    assert core.store.get_account("other") is None


def test_register_existing_account_any_case(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send(f"REGISTER * * {PW}")
    assert bob.send(f"REGISTER ALICE * {PW}") == [
        ":irc.test FAIL REGISTER ACCOUNT_EXISTS ALICE :That account name is already taken"
    ]
    assert bob.send(f"REGISTER alice * {PW}") == [
        ":irc.test FAIL REGISTER ACCOUNT_EXISTS alice :That account name is already taken"
    ]
    assert bob.session.account is None


def test_register_race_for_the_same_name(core: CoreHarness) -> None:
    """Both pass the early check; the store decides, and the loser is told after hashing."""
    bob, carol = core.register("bob"), core.register("carol")
    for client in (bob, carol):
        core.server.receive(client.session, f"REGISTER dana * {PW}".encode(), core.clock.now)
    core.deliver()
    assert bob.take() == [
        f":irc.test 900 bob {B} dana :You are now logged in as dana",
        ":irc.test REGISTER SUCCESS dana :Account successfully registered",
    ]
    assert carol.take() == [
        ":irc.test FAIL REGISTER ACCOUNT_EXISTS dana :That account name is already taken"
    ]
    assert carol.session.account is None


def test_register_is_refused_without_the_server_password() -> None:
    """A server password must not be bypassed by REGISTER before connection registration."""
    core = CoreHarness(password="letmein")
    client = core.connect()
    lines = client.send("NICK mallory", f"REGISTER * * {PW}")
    assert not any("REGISTER SUCCESS" in line or " 900 " in line for line in lines), lines
    assert core.store.get_account("mallory") is None


def cap_value(client: CoreClient, name: str) -> str | None:
    """The value `CAP LS 302` gives capability `name` (None: offered without a value)."""
    lines = client.send("CAP LS 302")
    line = " ".join(each.split(" :", 1)[1] for each in lines)
    for token in line.split():
        key, _, value = token.partition("=")
        if key == name:
            return value or None
    raise AssertionError(f"{name} not offered: {line}")


EARLY_REFUSED = (
    ":irc.test FAIL REGISTER COMPLETE_CONNECTION_REQUIRED {}"
    " :You must complete connection registration first"
)


def test_register_policy_by_default_allows_registering_before_connect(core: CoreHarness) -> None:
    client = core.connect()
    value = cap_value(client, "draft/account-registration")
    assert value == "before-connect,custom-account-name"  # never email-required: no mail
    assert client.send("NICK alice", f"REGISTER * * {PW}")[-1] == SUCCESS_ALICE


def test_register_before_connect_can_be_refused() -> None:
    """`register_before_connect = false`: not advertised, and refused with the spec's FAIL
    (with the account, as every REGISTER FAIL) until the welcome; afterwards it works."""
    core = CoreHarness(register_before_connect=False)
    client = core.connect()
    assert cap_value(client, "draft/account-registration") == "custom-account-name"
    assert client.send(f"REGISTER * * {PW}") == [EARLY_REFUSED.format("*")]  # before NICK
    assert client.send("NICK alice", f"REGISTER * * {PW}") == [EARLY_REFUSED.format("alice")]
    assert client.send(f"REGISTER robert * {PW}") == [EARLY_REFUSED.format("robert")]
    assert client.session.account is None and core.store.get_account("alice") is None
    lines = client.send("USER alice 0 * :Alice", "CAP END")
    assert any(" 001 alice " in line for line in lines), lines
    assert client.send(f"REGISTER * * {PW}") == [LOGGED_IN_ALICE, SUCCESS_ALICE]


def test_register_before_connect_is_not_offered_with_a_server_password() -> None:
    """REGISTER before PASS would get round the server password, so with one the server
    neither offers `before-connect` nor takes REGISTER early, even after the right PASS."""
    core = CoreHarness(password="letmein")
    client = core.connect()
    assert cap_value(client, "draft/account-registration") == "custom-account-name"
    lines = client.send("PASS letmein", "NICK alice", f"REGISTER * * {PW}")
    assert lines == [EARLY_REFUSED.format("alice")]
    lines = client.send("USER alice 0 * :Alice", "CAP END")
    assert any(" 001 alice " in line for line in lines), lines
    assert client.send(f"REGISTER * * {PW}") == [LOGGED_IN_ALICE, SUCCESS_ALICE]


def test_register_policy_follows_a_rehash(core: CoreHarness) -> None:
    first = core.connect()
    assert cap_value(first, "draft/account-registration") == "before-connect,custom-account-name"
    config = core.server.config.replace(register_before_connect=False)
    core.server.rehash(config, "test.toml", core.clock.now)
    client = core.connect()
    assert cap_value(client, "draft/account-registration") == "custom-account-name"
    assert client.send("NICK alice", f"REGISTER * * {PW}") == [EARLY_REFUSED.format("alice")]


def test_register_taken_name_before_and_after_nick(core: CoreHarness) -> None:
    """A taken name is ACCOUNT_EXISTS whenever it is asked for, before NICK too, and before
    USER, whatever the password."""
    make_account(core, "alice")
    client = core.connect()
    taken = ":irc.test FAIL REGISTER ACCOUNT_EXISTS {} :That account name is already taken"
    assert client.send(f"REGISTER alice * {PW}") == [taken.format("alice")]
    assert client.send(f"REGISTER ALICE * {PW}") == [taken.format("ALICE")]
    assert client.send("NICK bob", f"REGISTER alice * {PW}") == [taken.format("alice")]
    assert client.send("REGISTER ALICE nope short") == [taken.format("ALICE")]
    assert client.session.account is None and not client.session.registered


def test_register_no_land_grabs(core: CoreHarness) -> None:
    """No one may register an account named after someone else's nick (nick protection
    would then take it from them); `REGISTER *` after a NICK refused as in use means that
    nick."""
    root = core.register("root")
    client = core.connect()
    assert client.send("NICK root") == [
        ":irc.test 433 * root :Nickname is already in use"
    ]
    taken = ":irc.test FAIL REGISTER USERNAME_EXISTS root :That name is someone else's nick"
    assert client.send(f"REGISTER * * {PW}") == [taken]
    assert client.send(f"REGISTER ROOT * {PW}") == [taken.replace(" root ", " ROOT ")]
    assert core.store.get_account("root") is None
    assert root.send(f"REGISTER * * {PW}")[-1].startswith(":irc.test REGISTER SUCCESS root")


def test_register_new_custom_name_before_nick(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send(f"REGISTER robert * {PW}") == [
        ":irc.test 900 * * robert :You are now logged in as robert",
        ":irc.test REGISTER SUCCESS robert :Account successfully registered",
    ]


def test_register_email_is_optional_and_only_sanity_checked(core: CoreHarness) -> None:
    """`*` means no address; an address is kept but never mailed (no mail is ever sent);
    only what cannot be an address is INVALID_EMAIL."""
    bad = ":irc.test FAIL REGISTER INVALID_EMAIL {} :That email address is not valid"
    alice = core.register("alice")
    for email in ("nope", "alice@", "@example.org", "a@" + "b" * 253):
        assert alice.send(f"REGISTER * {email} {PW}") == [bad.format("alice")], email
    assert alice.session.account is None
    assert alice.send(f"REGISTER * alice@localhost {PW}") == [LOGGED_IN_ALICE, SUCCESS_ALICE]
    account = core.store.get_account("alice")
    assert account is not None and account.email == "alice@localhost"
    bob = core.register("bob")
    bob.send(f"REGISTER * * {PW}")
    account = core.store.get_account("bob")
    assert account is not None and account.email is None


# -- SASL PLAIN --------------------------------------------------------------------------------


def test_sasl_plain_during_cap_negotiation(core: CoreHarness) -> None:
    make_account(core, "alice")
    client = core.connect()
    lines = client.send("CAP LS 302", "NICK alice", "USER alice 0 * :Alice Liddell")
    assert lines and all(line.startswith(":irc.test CAP * LS ") for line in lines)
    assert client.send("CAP REQ :sasl") == [":irc.test CAP alice ACK :sasl"]
    assert client.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    assert client.send(f"AUTHENTICATE {plain('alice', PW)}") == [
        LOGGED_IN_ALICE,
        SASL_OK.format("alice"),
    ]
    assert not client.session.registered
    lines = client.send("CAP END")
    assert lines[0] == f":irc.test 001 alice :Welcome to the miniircd Network, {A}"
    assert lines[-1] == ":irc.test 376 alice :End of /MOTD command."
    assert not any("NickServ" in line for line in lines)
    assert client.session.account == "alice"
    assert client.send("AUTHENTICATE PLAIN") == [
        ":irc.test 907 alice :You have already authenticated using SASL"
    ]


def test_sasl_before_nick_uses_star_mask(core: CoreHarness) -> None:
    make_account(core, "alice")
    client = core.connect()
    client.send("CAP LS 302")
    assert sasl(client, plain("alice", PW)) == [
        ":irc.test 900 * * alice :You are now logged in as alice",
        SASL_OK.format("*"),
    ]


def test_sasl_pipelined_with_cap_end_still_registers(core: CoreHarness) -> None:
    """CAP END arriving while the password is still being checked must not strand the client."""
    make_account(core, "alice")
    client = core.connect()
    client.send("CAP LS 302", "NICK alice", "USER alice 0 * :Alice Liddell", "CAP REQ :sasl")
    client.send("AUTHENTICATE PLAIN")
    lines = client.send(f"AUTHENTICATE {plain('alice', PW)}", "CAP END")
    assert lines[:3] == [
        LOGGED_IN_ALICE,
        SASL_OK.format("alice"),
        f":irc.test 001 alice :Welcome to the miniircd Network, {A}",
    ]
    assert client.session.registered


def test_sasl_with_authzid(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    assert sasl(bob, plain("alice", PW, authzid="alice")) == [
        f":irc.test 900 bob {B} alice :You are now logged in as alice",
        SASL_OK.format("bob"),
    ]
    carol = core.register("carol")
    assert sasl(carol, plain("ALICE", PW, authzid="Alice")) == [  # folded alike: allowed
        f":irc.test 900 carol {C} alice :You are now logged in as alice",
        SASL_OK.format("carol"),
    ]
    dave = core.register("dave")
    assert sasl(dave, plain("alice", PW, authzid="bob")) == [SASL_FAIL.format("dave")]
    assert dave.session.account is None


def test_sasl_wrong_password_and_unknown_account_look_the_same(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    wrong = sasl(bob, plain("alice", "not-the-password"))
    unknown = sasl(bob, plain("nobody", PW))
    assert wrong == unknown == [SASL_FAIL.format("bob")]
    assert bob.session.account is None
    assert bob.session.sasl_mechanism is None


def test_sasl_other_mechanism(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert bob.send("AUTHENTICATE EXTERNAL") == [
        ":irc.test 908 bob PLAIN,SCRAM-SHA-256 :are available SASL mechanisms",
        SASL_FAIL.format("bob"),
    ]
    assert bob.send("AUTHENTICATE plain") == ["AUTHENTICATE +"]


def test_sasl_abort(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    assert bob.send("AUTHENTICATE *") == [":irc.test 906 bob :SASL authentication aborted"]
    assert bob.session.sasl_mechanism is None
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    bob.send("AUTHENTICATE AAAA")  # half a payload is dropped by the abort
    assert bob.send("AUTHENTICATE *") == [":irc.test 906 bob :SASL authentication aborted"]
    assert bob.session.sasl_buffer == ""


def test_sasl_payload_of_exactly_400_needs_a_plus() -> None:
    core = CoreHarness(password_max_length=400)
    password = "p" * 293  # "\0alice\0" + 293 = 300 bytes = 400 base64 characters
    make_account(core, "alice", password)
    bob = core.register("bob")
    payload = plain("alice", password)
    assert len(payload) == 400
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    assert bob.send(f"AUTHENTICATE {payload}") == []  # a full chunk: the server waits for more
    assert bob.send("AUTHENTICATE +") == [
        f":irc.test 900 bob {B} alice :You are now logged in as alice",
        SASL_OK.format("bob"),
    ]
    carol = core.register("carol")
    payload = plain("alice", password, authzid="alice")  # 306 bytes: 408 characters
    assert len(payload) == 408
    assert carol.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    assert carol.send(f"AUTHENTICATE {payload[:400]}") == []
    assert carol.send(f"AUTHENTICATE {payload[400:]}") == [
        f":irc.test 900 carol {C} alice :You are now logged in as alice",
        SASL_OK.format("carol"),
    ]


def test_sasl_too_long(core: CoreHarness) -> None:
    bob = core.register("bob")
    bob.send("AUTHENTICATE PLAIN")
    assert bob.send("AUTHENTICATE " + "A" * 401) == [":irc.test 905 bob :SASL message too long"]
    assert bob.session.sasl_mechanism is None
    bob.send("AUTHENTICATE PLAIN")
    for _ in range(4):  # 1600 characters in full chunks is the most a payload may be
        assert bob.send("AUTHENTICATE " + "A" * 400) == []
    assert bob.send("AUTHENTICATE AAAA") == [":irc.test 905 bob :SASL message too long"]
    assert bob.session.sasl_buffer == ""


def chunks(payload: str) -> list[str]:
    """A SASL message as a client sends it: 400-character chunks, then `+` if the last
    chunk was a full one."""
    parts = [payload[i : i + 400] for i in range(0, len(payload), 400)]
    if len(parts[-1]) == 400:
        parts.append("+")
    return [f"AUTHENTICATE {part}" for part in parts]


def stored_account(core: CoreHarness, name: str, password: str) -> None:
    """An account put in the store directly, for passwords no REGISTER line could carry."""
    assert core.store.create_account(Account(name, hash_password(password), None, 0.0))


def test_sasl_300_character_password_in_a_full_chunk_and_a_short_one() -> None:
    core = CoreHarness(password_max_length=300)
    password = "p" * 300
    alice = core.register("alice")
    assert alice.send(f"REGISTER * * {password}") == [LOGGED_IN_ALICE, SUCCESS_ALICE]
    payload = plain("alice", password)  # 307 bytes: 412 characters
    assert len(payload) == 412
    bob = core.register("bob")
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    lines = chunks(payload)
    assert [len(line) - len("AUTHENTICATE ") for line in lines] == [400, 12]
    assert bob.send(lines[0]) == []
    assert bob.send(lines[1]) == [
        f":irc.test 900 bob {B} alice :You are now logged in as alice",
        SASL_OK.format("bob"),
    ]


def test_sasl_payload_of_two_full_chunks_ends_with_a_plus(core: CoreHarness) -> None:
    password = "p" * 593  # "\0alice\0" + 593 = 600 bytes = 800 base64 characters
    stored_account(core, "alice", password)
    bob = core.register("bob")
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    lines = chunks(plain("alice", password))
    assert lines[2:] == ["AUTHENTICATE +"] and len(lines) == 3
    assert bob.send(*lines[:2]) == []
    assert bob.send(lines[2]) == [
        f":irc.test 900 bob {B} alice :You are now logged in as alice",
        SASL_OK.format("bob"),
    ]


def test_sasl_buffer_limit_counts_data_not_the_final_plus(core: CoreHarness) -> None:
    """1600 characters is the most one message may hold; the `+` after a message that
    fills its last chunk carries no data and must not push it over."""
    password = "p" * 1193  # "\0alice\0" + 1193 = 1200 bytes = 1600 characters
    stored_account(core, "alice", password)
    bob = core.register("bob")
    bob.send("AUTHENTICATE PLAIN")
    lines = chunks(plain("alice", password))
    assert len(lines) == 5 and lines[-1] == "AUTHENTICATE +"
    assert bob.send(*lines[:4]) == []
    assert bob.send(lines[4]) == [
        f":irc.test 900 bob {B} alice :You are now logged in as alice",
        SASL_OK.format("bob"),
    ]
    carol = core.register("carol")
    carol.send("AUTHENTICATE PLAIN")
    assert carol.send(*lines[:4]) == []
    assert carol.send("AUTHENTICATE " + "A" * 400) == [":irc.test 905 carol :SASL message too long"]
    assert carol.session.sasl_mechanism is None and carol.session.sasl_buffer == ""


def test_sasl_garbage_payloads(core: CoreHarness) -> None:
    bob = core.register("bob")
    no_nuls = base64.b64encode(b"alice password").decode()
    extra_nul = base64.b64encode(b"\0alice\0pass\0word").decode()
    not_utf8 = base64.b64encode(b"\0alice\0\xff\xfe").decode()
    for payload in ("!!!!", "QUJD=", no_nuls, extra_nul, not_utf8, "+"):
        assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
        assert bob.send(f"AUTHENTICATE {payload}") == [SASL_FAIL.format("bob")], payload
        assert bob.session.sasl_mechanism is None
    assert bob.session.account is None


def test_cap_end_with_a_mechanism_selected_aborts_sasl(core: CoreHarness) -> None:
    client = core.connect()
    client.send("CAP LS 302", "NICK bob", "USER bob 0 * :Bob")
    assert client.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    lines = client.send("CAP END")
    assert lines[0] == ":irc.test 906 bob :SASL authentication aborted"
    assert lines[1] == f":irc.test 001 bob :Welcome to the miniircd Network, {B}"
    assert client.session.registered and client.session.account is None


def test_sasl_after_registration_tells_channel_peers(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob, carol = core.register("bob"), core.register("carol")
    carol.send("CAP REQ :account-notify")
    bob.send("JOIN #c")
    carol.send("JOIN #c")
    bob.take()
    assert sasl(bob, plain("alice", PW)) == [
        f":irc.test 900 bob {B} alice :You are now logged in as alice",
        SASL_OK.format("bob"),
    ]
    assert carol.take() == [f":{B} ACCOUNT alice"]


# -- PASS --------------------------------------------------------------------------------------


def test_pass_account_and_password_logs_in_at_registration(core: CoreHarness) -> None:
    make_account(core, "alice")
    client = core.connect()
    lines = client.send(f"PASS alice:{PW}", "NICK bob", "USER bob 0 * :Bob")
    assert lines[0] == f":irc.test 900 bob {B} alice :You are now logged in as alice"
    assert lines[1] == f":irc.test 001 bob :Welcome to the miniircd Network, {B}"
    assert client.session.account == "alice"


def test_pass_password_uses_the_nick_as_account(core: CoreHarness) -> None:
    make_account(core, "alice")
    client = core.connect()
    lines = client.send(f"PASS {PW}", "NICK alice", "USER alice 0 * :Alice")
    assert codes(lines[:2]) == ["900", "001"]
    assert lines[0] == LOGGED_IN_ALICE
    assert not any("NickServ" in line for line in lines)
    assert client.session.account == "alice"


def test_pass_wrong_password_registers_as_guest(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.connect()
    lines = bob.send("PASS alice:wrong-password", "NICK bob", "USER bob 0 * :Bob")
    assert lines[0] == ":irc.test NOTICE bob :Login failed: invalid account or password"
    assert lines[1] == f":irc.test 001 bob :Welcome to the miniircd Network, {B}"
    assert bob.session.registered and bob.session.account is None
    guest = core.connect()
    lines = guest.send("PASS wrong-password", "NICK alice", "USER alice 0 * :Alice")
    assert lines[0] == ":irc.test NOTICE alice :Login failed: invalid account or password"
    assert codes(lines[1:2]) == ["001"]
    assert lines[-2:] == [  # a guest on a registered account's nick is asked to log in
        ":NickServ!NickServ@services NOTICE alice :alice is a registered account."
        " Log in within 30 seconds",
        ":NickServ!NickServ@services NOTICE alice :(/msg NickServ IDENTIFY <password>)"
        " or your nick will be changed.",
    ]


def test_pass_is_the_server_password_when_one_is_set() -> None:
    core = CoreHarness(password="letmein")
    owner = core.connect()
    owner.send("PASS letmein", "NICK owner", "USER owner 0 * :Owner")
    owner.send(f"REGISTER alice * {PW}")
    client = core.connect()
    lines = client.send("PASS letmein", "NICK bob", "USER bob 0 * :Bob")
    assert lines[0] == f":irc.test 001 bob :Welcome to the miniircd Network, {B}"
    assert client.session.account is None
    intruder = core.connect()
    lines = intruder.send(f"PASS alice:{PW}", "NICK carol", "USER carol 0 * :Carol")
    assert lines == [
        ":irc.test 464 carol :Password incorrect",
        "ERROR :Closing link: carol[127.0.0.1] (Bad password)",
    ]
    assert intruder.closed and intruder.session.account is None


# -- the login throttle ------------------------------------------------------------------------


def test_throttle_refuses_even_the_right_password_until_the_window_passes() -> None:
    core = CoreHarness(login_attempts=2, login_window=60)
    make_account(core, "alice")
    bob = core.register("bob")
    for _ in range(2):
        assert sasl(bob, plain("alice", "wrong-password")) == [SASL_FAIL.format("bob")]
    assert sasl(bob, plain("alice", PW)) == [SASL_FAIL.format("bob")]
    assert bob.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}") == [
        ":NickServ!NickServ@services NOTICE bob :Invalid account or password."
    ]
    core.tick(60)  # still inside the window
    assert sasl(bob, plain("alice", PW)) == [SASL_FAIL.format("bob")]
    core.tick(1)
    assert sasl(bob, plain("alice", PW)) == [
        f":irc.test 900 bob {B} alice :You are now logged in as alice",
        SASL_OK.format("bob"),
    ]


def test_throttle_counts_failures_per_account_across_hosts() -> None:
    core = CoreHarness(login_attempts=2, login_window=60)
    make_account(core, "alice")
    for index, host in enumerate(("10.0.0.1", "10.0.0.2")):
        guest = connect(core, f"guest{index}", "Guest", host)
        assert sasl(guest, plain("alice", "wrong-password")) == [SASL_FAIL.format(f"guest{index}")]
    bob = connect(core, "bob", "Bob", "10.0.0.3")
    assert sasl(bob, plain("alice", PW)) == [SASL_FAIL.format("bob")]


def test_throttle_counts_failures_per_host_across_accounts() -> None:
    core = CoreHarness(login_attempts=2, login_window=60)
    make_account(core, "alice")
    mallory = connect(core, "mallory", "Mallory", "10.6.6.6")
    for name in ("x1", "x2"):
        assert sasl(mallory, plain(name, "guess-guess")) == [SASL_FAIL.format("mallory")]
    assert sasl(mallory, plain("alice", PW)) == [SASL_FAIL.format("mallory")]
    bob = connect(core, "bob", "Bob", "10.0.0.3")  # the account itself is not throttled
    assert sasl(bob, plain("alice", PW)) == [
        ":irc.test 900 bob bob!~bob@10.0.0.3 alice :You are now logged in as alice",
        SASL_OK.format("bob"),
    ]


def test_throttle_forgets_names_and_addresses_once_their_window_is_over() -> None:
    core = CoreHarness(login_attempts=2, login_window=60)
    mallory = connect(core, "mallory", "Mallory", "10.6.6.6")
    for n in range(2):  # unknown names nobody will ever try again
        sasl(mallory, plain(f"random{n}", "guess-guess"))
    throttle = core.server.login_throttle
    assert len(throttle.failures) == 3  # two names and one address
    core.tick(PRUNE_EVERY)  # the hourly retention pass
    assert throttle.failures == {}


def test_throttle_applies_to_pass_logins() -> None:
    core = CoreHarness(login_attempts=1, login_window=60)
    make_account(core, "alice")
    core.connect().send("PASS alice:wrong-password", "NICK g1", "USER g 0 * :G")
    client = core.connect()
    lines = client.send(f"PASS alice:{PW}", "NICK g2", "USER g 0 * :G")
    # Throttled, the check fails at once without a job; registration must still complete.
    assert lines[0] == ":irc.test NOTICE g2 :Login failed: invalid account or password"
    assert lines[1:2] == [":irc.test 001 g2 :Welcome to the miniircd Network, g2!~g@127.0.0.1"]
    assert client.session.registered and client.session.account is None


# -- capabilities: account-notify, extended-join, account-tag, WHOIS ---------------------------


def test_cap_ls_advertises_sasl_plain(core: CoreHarness) -> None:
    client = core.connect()
    ls = client.send("CAP LS")[0].split(" :", 1)[1].split()
    assert "sasl" in ls and "draft/account-registration" in ls
    ls302 = [cap for line in client.send("CAP LS 302") for cap in line.split(" :", 1)[1].split()]
    assert "sasl=PLAIN,SCRAM-SHA-256" in ls302
    assert "draft/account-registration=before-connect,custom-account-name" in ls302
    for cap in ("account-notify", "account-tag", "extended-join"):
        assert cap in ls302
    assert client.send("CAP REQ :sasl account-notify account-tag extended-join") == [
        ":irc.test CAP * ACK :sasl account-notify account-tag extended-join"
    ]


def test_account_notify_on_login_and_logout(core: CoreHarness) -> None:
    alice, bob, carol, dave = (core.register(n) for n in ("alice", "bob", "carol", "dave"))
    for client in (alice, bob, dave):
        assert client.send("CAP REQ :account-notify") == [
            f":irc.test CAP {client.session.nick} ACK :account-notify"
        ]
    for client in (alice, bob, carol):
        client.send("JOIN #c")
    for client in (alice, bob, carol, dave):
        client.take()
    assert alice.send(f"REGISTER * * {PW}") == [
        LOGGED_IN_ALICE,
        f":{A} ACCOUNT alice",
        SUCCESS_ALICE,
    ]
    assert bob.take() == [f":{A} ACCOUNT alice"]
    assert carol.take() == []  # did not ask for account-notify
    assert dave.take() == []  # shares no channel
    lines = alice.send("PRIVMSG NickServ :LOGOUT")
    assert lines[:2] == [f":irc.test 901 alice {A} :You are now logged out", f":{A} ACCOUNT *"]
    assert lines[-1] == ":NickServ!NickServ@services NOTICE alice :You are now logged out."
    assert bob.take() == [f":{A} ACCOUNT *"]
    assert carol.take() == []
    assert dave.take() == []


def test_account_notify_carries_account_tag(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    bob.send("CAP REQ :account-notify account-tag")
    alice.send("JOIN #c")
    bob.send("JOIN #c")
    alice.send(f"REGISTER * * {PW}")
    assert bob.take() == [f"@account=alice :{A} ACCOUNT alice"]


def test_extended_join(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = connect(core, "bob", "Bob Builder")
    carol = connect(core, "carol", "Carol Singer")
    assert bob.send("CAP REQ :extended-join") == [":irc.test CAP bob ACK :extended-join"]
    bob.send("JOIN #c")
    carol.send("JOIN #c")
    bob.take()
    alice = core.connect()
    alice.send("CAP LS 302", "CAP REQ :extended-join", "NICK alice", "USER alice 0 * :Alice L")
    sasl(alice, plain("alice", PW))
    alice.send("CAP END")
    lines = alice.send("JOIN #c")
    assert lines[0] == f":{A} JOIN #c alice :Alice L"
    assert bob.take() == [f":{A} JOIN #c alice :Alice L"]
    assert carol.take() == [f":{A} JOIN #c"]
    dave = connect(core, "dave", "Dave Guest")
    assert dave.send("JOIN #c")[0] == ":dave!~dave@127.0.0.1 JOIN #c"
    assert bob.take() == [":dave!~dave@127.0.0.1 JOIN #c * :Dave Guest"]
    assert alice.take() == [":dave!~dave@127.0.0.1 JOIN #c * :Dave Guest"]
    assert carol.take() == [":dave!~dave@127.0.0.1 JOIN #c"]


def test_account_tag_on_messages(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    assert bob.send("CAP REQ :account-tag") == [":irc.test CAP bob ACK :account-tag"]
    for client in (alice, bob, carol):
        client.send("JOIN #c")
    alice.send(f"REGISTER * * {PW}")
    bob.take()
    carol.take()
    alice.send("PRIVMSG #c :hi")
    assert bob.take() == [f"@account=alice :{A} PRIVMSG #c :hi"]
    assert carol.take() == [f":{A} PRIVMSG #c :hi"]
    alice.send("PRIVMSG bob :psst")
    assert bob.take() == [f"@account=alice :{A} PRIVMSG bob :psst"]
    carol.send("PRIVMSG #c :yo")  # a guest's message has no account tag
    assert bob.take() == [f":{C} PRIVMSG #c :yo"]
    assert alice.take() == [f":{C} PRIVMSG #c :yo"]


def test_whois_shows_the_account(core: CoreHarness) -> None:
    make_account(core, "alice")
    ally, bob = core.register("ally"), core.register("bob")
    ally.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}")
    lines = bob.send("WHOIS ally")
    assert ":irc.test 330 bob ally alice :is logged in as" in lines
    assert codes(lines)[-1] == "318"
    assert not any(" 330 " in line for line in bob.send("WHOIS bob"))
