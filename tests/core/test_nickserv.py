"""Transcript tests for NickServ's commands, nick protection and require_account."""

from __future__ import annotations

import base64
import re

from harness import CoreClient, CoreHarness
from miniircd.core.commands import nickserv

PW = "correct-horse"
NEW_PW = "battery-staple"
A = "alice!~alice@127.0.0.1"
B = "bob!~bob@127.0.0.1"
NS = ":NickServ!NickServ@services NOTICE"
GUEST = r"Guest\d{5}"


def make_account(core: CoreHarness, name: str, password: str = PW) -> None:
    """Create an account from a throwaway connection that then leaves."""
    client = core.connect()
    assert client.send(f"REGISTER {name} * {password}")[-1] == (
        f":irc.test REGISTER SUCCESS {name} :Account successfully registered"
    )
    client.send("QUIT")


def ns(client: CoreClient, text: str) -> list[str]:
    return client.send(f"PRIVMSG NickServ :{text}")


def said(nick: str, *texts: str) -> list[str]:
    """The NOTICEs NickServ sends `nick`."""
    return [f"{NS} {nick} :{text}" for text in texts]


def grace_notices(nick: str, seconds: int) -> list[str]:
    return said(
        nick,
        f"{nick} is a registered account. Log in within {seconds} seconds",
        "(/msg NickServ IDENTIFY <password>) or your nick will be changed.",
    )


def logged_in(nick: str, account: str, mask: str) -> str:
    return f":irc.test 900 {nick} {mask} {account} :You are now logged in as {account}"


# -- commands ----------------------------------------------------------------------------------


def test_help(core: CoreHarness) -> None:
    bob = core.register("bob")
    expected = said(
        "bob",
        "NickServ keeps accounts. Commands:",
        "REGISTER <password> [email] - create an account named after your nick",
        "IDENTIFY [account] <password> - log in",
        "LOGOUT - log out",
        "INFO [account] - about an account",
        "PASSWD <old password> <new password> - change your password",
        "DROP <password> - delete your account",
    )
    lines = ns(bob, "HELP")
    assert lines[: len(expected)] == expected
    assert all(line.startswith(f"{NS} bob :") for line in lines)
    assert bob.send("PRIVMSG nickserv :help") == lines  # any case, command and target


def test_register(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert ns(alice, f"REGISTER {PW} alice@example.org") == [
        logged_in("alice", "alice", A),
        *said("alice", "Account alice registered; you are now logged in."),
    ]
    account = core.store.get_account("alice")
    assert account is not None and account.email == "alice@example.org"
    assert alice.session.account == "alice"
    assert ns(alice, f"REGISTER {PW}") == said("alice", "You are already logged in as alice.")


def test_register_refusals(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    assert ns(bob, "REGISTER") == said("bob", "Syntax: REGISTER <password> [email]")
    assert ns(bob, f"REGISTER {PW} a@b.c extra") == said(
        "bob", "Syntax: REGISTER <password> [email]"
    )
    assert ns(bob, "REGISTER short") == said("bob", "Passwords must be 8 to 128 characters long.")
    assert ns(bob, f"REGISTER {'x' * 129}") == said(
        "bob", "Passwords must be 8 to 128 characters long."
    )
    assert ns(bob, f"REGISTER {PW} nope") == said("bob", "nope is not a valid email address.")
    assert core.store.get_account("bob") is None
    guest = core.register("ALICE")  # the account's name in another case
    assert ns(guest, f"REGISTER {PW}") == said("ALICE", "The account ALICE is already registered.")
    assert guest.session.account is None


def test_identify(core: CoreHarness) -> None:
    make_account(core, "alice")
    alice = core.register("alice")
    assert ns(alice, "IDENTIFY") == said("alice", "Syntax: IDENTIFY [account] <password>")
    assert ns(alice, "IDENTIFY a b c") == said("alice", "Syntax: IDENTIFY [account] <password>")
    assert ns(alice, "IDENTIFY wrong-password") == said("alice", "Invalid account or password.")
    assert ns(alice, f"IDENTIFY {PW}") == [
        logged_in("alice", "alice", A),
        *said("alice", "You are now logged in as alice."),
    ]
    assert alice.session.account == "alice"
    assert ns(alice, f"IDENTIFY {PW}") == said("alice", "You are already logged in as alice.")


def test_identify_to_a_named_account(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    assert ns(bob, f"IDENTIFY nobody {PW}") == said("bob", "Invalid account or password.")
    assert ns(bob, f"IDENTIFY alice {PW}x") == said("bob", "Invalid account or password.")
    assert ns(bob, f"LOGIN ALICE {PW}") == [  # LOGIN is IDENTIFY; the stored case is used
        logged_in("bob", "alice", B),
        *said("bob", "You are now logged in as alice."),
    ]
    assert bob.session.account == "alice"


def test_logout(core: CoreHarness) -> None:
    make_account(core, "alice")
    bob = core.register("bob")
    assert ns(bob, "LOGOUT") == said("bob", "You are not logged in.")
    ns(bob, f"IDENTIFY alice {PW}")
    assert ns(bob, "LOGOUT") == [
        f":irc.test 901 bob {B} :You are now logged out",
        *said("bob", "You are now logged out."),
    ]
    assert bob.session.account is None
    assert ns(bob, "LOGOUT") == said("bob", "You are not logged in.")


def test_logout_on_own_nick_starts_the_grace_period() -> None:
    core = CoreHarness(nick_grace=5.0)
    alice = core.register("alice")
    ns(alice, f"REGISTER {PW}")
    assert ns(alice, "LOGOUT") == [
        f":irc.test 901 alice {A} :You are now logged out",
        *grace_notices("alice", 5),
        *said("alice", "You are now logged out."),
    ]
    core.tick(5)
    assert alice.session.nick is not None and re.fullmatch(GUEST, alice.session.nick)


def test_info(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert ns(bob, "INFO") == said("bob", "bob is not a registered account.")
    assert ns(bob, "INFO nobody") == said("bob", "nobody is not a registered account.")
    make_account(core, "alice")
    info = "Account alice, registered 2023-11-14 22:13 UTC."
    assert ns(bob, "INFO ALICE") == said("bob", info, "Logged in now as: nobody.")
    ally, alice = core.register("ally"), core.register("alice")
    ns(ally, f"IDENTIFY alice {PW}")
    ns(alice, f"IDENTIFY {PW}")
    assert ns(bob, "INFO alice") == said("bob", info, "Logged in now as: ally, alice.")
    assert ns(alice, "INFO") == said("alice", info, "Logged in now as: ally, alice.")
    ally.send("NICK allison")
    assert ns(ally, "INFO") == said("allison", info, "Logged in now as: allison, alice.")


def test_passwd(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert ns(bob, f"PASSWD {PW} {NEW_PW}") == said("bob", "You are not logged in.")
    ns(bob, f"REGISTER {PW}")
    assert ns(bob, "PASSWD onlyone") == said("bob", "Syntax: PASSWD <old password> <new password>")
    assert ns(bob, f"PASSWD {PW} short") == said(
        "bob", "Passwords must be 8 to 128 characters long."
    )
    assert ns(bob, f"PASSWD wrong-password {NEW_PW}") == said("bob", "Invalid password.")
    assert ns(bob, f"PASSWD {PW} {NEW_PW}") == said("bob", "Your password has been changed.")
    ns(bob, "LOGOUT")
    assert ns(bob, f"IDENTIFY {PW}") == said("bob", "Invalid account or password.")
    assert ns(bob, f"IDENTIFY {NEW_PW}") == [
        logged_in("bob", "bob", B),
        *said("bob", "You are now logged in as bob."),
    ]


def test_drop(core: CoreHarness) -> None:
    alice, ally, carol = core.register("alice"), core.register("ally"), core.register("carol")
    carol.send("CAP REQ :account-notify")
    ns(alice, f"REGISTER {PW}")
    ns(ally, f"IDENTIFY alice {PW}")
    for client in (alice, ally, carol):
        client.send("JOIN #c")
    for client in (alice, ally, carol):
        client.take()
    assert ns(alice, "DROP") == said("alice", "Syntax: DROP <password>")
    assert ns(alice, "DROP wrong-password") == said("alice", "Invalid password.")
    assert core.store.get_account("alice") is not None
    assert ns(alice, f"DROP {PW}") == [
        f":irc.test 901 alice {A} :You are now logged out",
        *said("alice", "The account alice has been dropped."),
    ]
    assert ally.take() == [":irc.test 901 ally ally!~ally@127.0.0.1 :You are now logged out"]
    assert carol.take() == [f":{A} ACCOUNT *", ":ally!~ally@127.0.0.1 ACCOUNT *"]
    assert core.store.get_account("alice") is None
    assert alice.session.account is None and ally.session.account is None
    assert alice.session.nick_deadline is None  # the nick is no longer protected
    assert ns(alice, f"IDENTIFY {PW}") == said("alice", "Invalid account or password.")
    assert ns(carol, "DROP x") == said("carol", "You are not logged in.")


def test_unknown_command_and_blank_text(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert ns(bob, "FROB the thing") == said("bob", "Unknown command FROB. Try HELP.")
    assert ns(bob, "   ") == []
    assert bob.send("PRIVMSG NickServ :") == [":irc.test 412 bob :No text to send"]


def test_inbox_needs_a_login(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert ns(bob, "INBOX") == said("bob", "You are not logged in.")


def test_notice_to_nickserv_gets_no_answer(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert bob.send("NOTICE NickServ :HELP") == []
    assert bob.send(f"NOTICE NickServ :REGISTER {PW}") == []
    assert core.store.get_account("bob") is None


def test_messages_to_nickserv_are_not_stored(core: CoreHarness) -> None:
    alice = core.register("alice")
    ns(alice, f"REGISTER {PW}")
    ns(alice, f"PASSWD {PW} {NEW_PW}")
    rows = core.store.db.execute("SELECT text FROM messages").fetchall()
    assert not any(PW in text or NEW_PW in text for (text,) in rows)


def test_nick_nickserv_is_refused(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("NICK NickServ") == [":irc.test 433 * NickServ :Nickname is already in use"]
    client.send("NICK bob", "USER bob 0 * :Bob")
    for spelling in ("nickserv", "NICKSERV"):
        assert client.send(f"NICK {spelling}") == [
            f":irc.test 433 bob {spelling} :Nickname is already in use"
        ]
    assert client.session.nick == "bob"


def test_whois_nickserv(core: CoreHarness) -> None:
    bob = core.register("bob")
    assert bob.send("WHOIS nickserv") == [
        ":irc.test 311 bob NickServ NickServ services * :Account services: /msg NickServ HELP",
        ":irc.test 312 bob NickServ irc.test :Services",
        ":irc.test 318 bob nickserv :End of /WHOIS list",
    ]


# -- nick protection ---------------------------------------------------------------------------


def test_guest_on_a_registered_nick_is_renamed_after_the_grace_period() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    bob = core.register("bob")
    bob.send("JOIN #c")
    guest = core.connect()
    lines = guest.send("NICK alice", "USER alice 0 * :Alice")
    assert lines[-3] == ":irc.test 376 alice :End of /MOTD command."
    assert lines[-2:] == grace_notices("alice", 5)
    guest.send("JOIN #c")
    bob.take()
    core.tick(4)
    assert guest.take() == []
    core.tick(1)
    lines = guest.take()
    assert lines == [
        f":{A} NICK Guest10001",
        f"{NS} Guest10001 :You did not log in in time; your nick has been changed.",
    ]
    assert guest.session.nick == "Guest10001"
    assert bob.take() == [lines[0]]  # channel peers see the change
    assert core.server.state.find_nick("alice") is None
    core.tick(10)
    assert guest.take() == []


def test_identify_within_the_grace_period_keeps_the_nick() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    guest = core.register("alice")
    core.tick(4)
    assert ns(guest, f"IDENTIFY {PW}") == [
        logged_in("alice", "alice", A),
        *said("alice", "You are now logged in as alice."),
    ]
    core.tick(10)
    assert guest.take() == []
    assert guest.session.nick == "alice"


def test_identify_to_another_account_does_not_stop_the_rename() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    make_account(core, "bob")
    guest = core.register("alice")
    ns(guest, f"IDENTIFY bob {PW}")
    core.tick(5)
    assert guest.session.nick is not None and re.fullmatch(GUEST, guest.session.nick)
    assert guest.session.account == "bob"


def test_changing_to_a_registered_nick_starts_the_grace_period() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    bob = core.register("bob")
    core.tick(3)
    assert bob.send("NICK alice") == [f":{B} NICK alice", *grace_notices("alice", 5)]
    assert bob.send("NICK ALICE") == [":alice!~bob@127.0.0.1 NICK ALICE"]  # no second grace
    core.tick(4)
    assert bob.take() == []
    core.tick(1)
    assert bob.take()[0] == ":ALICE!~bob@127.0.0.1 NICK Guest10001"


def test_a_guest_nick_in_use_is_skipped() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    core.register("Guest10001")
    guest = core.register("alice")
    core.tick(5)
    assert guest.take()[0] == f":{A} NICK Guest10002"


def test_changing_away_from_a_registered_nick_ends_the_grace_period() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    guest = core.register("alice")
    assert guest.send("NICK other") == [f":{A} NICK other"]
    core.tick(10)
    assert guest.take() == []
    assert guest.session.nick == "other"


def test_logged_in_user_may_take_its_account_nick() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    ally = core.register("ally")
    ns(ally, f"IDENTIFY alice {PW}")
    assert ally.send("NICK Alice") == [":ally!~ally@127.0.0.1 NICK Alice"]
    core.tick(10)
    assert ally.take() == []
    assert ally.session.nick == "Alice"


def test_guest_is_not_renamed_once_the_account_is_dropped() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    guest = core.register("alice")
    owner = core.register("owner")
    ns(owner, f"IDENTIFY alice {PW}")
    ns(owner, f"DROP {PW}")
    assert core.store.get_account("alice") is None
    core.tick(5)
    assert guest.take() == []  # nobody owns the nick any more
    assert guest.session.nick == "alice"


def test_account_registered_for_a_nick_in_use_challenges_its_holder() -> None:
    """REGISTER with a custom account name taking a guest's current nick: either refuse it,
    or treat the guest like any other user of a registered nick."""
    core = CoreHarness(nick_grace=5.0)
    carol = core.register("carol")
    mallory = core.register("mallory")
    lines = mallory.send(f"REGISTER carol * {PW}")
    refused = not any("REGISTER SUCCESS" in line for line in lines)
    challenged = carol.take() == grace_notices("carol", 5)
    assert refused or challenged, lines


def test_pass_login_on_own_nick_gets_no_grace_period() -> None:
    core = CoreHarness(nick_grace=5.0)
    make_account(core, "alice")
    client = core.connect()
    lines = client.send(f"PASS {PW}", "NICK alice", "USER alice 0 * :Alice")
    assert not any("NickServ" in line for line in lines)
    core.tick(10)
    assert client.take() == []
    assert client.session.nick == "alice"


# -- require_account ---------------------------------------------------------------------------


def test_require_account() -> None:
    core = CoreHarness(require_account=True)
    make_account(core, "alice")
    bob = core.register("bob")
    alice = core.connect()  # a client that understands standard replies gets FAIL
    alice.send("CAP REQ :standard-replies", "NICK alice", "USER alice 0 * :alice", "CAP END")
    text = "You must log in first (see /msg NickServ HELP)"
    plain = core.register("plain")  # one that does not gets the words as a NOTICE
    assert plain.send("JOIN #c") == [f":irc.test NOTICE plain :JOIN failed: {text}"]
    assert alice.send("JOIN #c") == [f":irc.test FAIL JOIN ACCOUNT_REQUIRED #c :{text}"]
    assert alice.send("JOIN #a,#b") == [
        f":irc.test FAIL JOIN ACCOUNT_REQUIRED #a :{text}",
        f":irc.test FAIL JOIN ACCOUNT_REQUIRED #b :{text}",
    ]
    assert alice.send("PRIVMSG bob :hi") == [f":irc.test FAIL PRIVMSG ACCOUNT_REQUIRED bob :{text}"]
    assert alice.send("PRIVMSG #c :hi") == [f":irc.test FAIL PRIVMSG ACCOUNT_REQUIRED #c :{text}"]
    assert alice.send("NOTICE bob :hi") == []
    assert bob.take() == []
    assert ns(alice, "HELP")[0] == f"{NS} alice :NickServ keeps accounts. Commands:"
    assert ns(alice, f"IDENTIFY {PW}")[0] == logged_in("alice", "alice", A)
    assert alice.send("JOIN #c")[0] == f":{A} JOIN #c"
    assert alice.send("PRIVMSG bob :hi") == []
    assert bob.take() == [f":{A} PRIVMSG bob :hi"]


def test_require_account_still_allows_registering() -> None:
    core = CoreHarness(require_account=True)
    bob = core.register("bob")
    assert bob.send(f"REGISTER * * {PW}")[-1] == (
        ":irc.test REGISTER SUCCESS bob :Account successfully registered"
    )
    assert bob.send("JOIN #c")[0] == f":{B} JOIN #c"


# -- login tokens -------------------------------------------------------------------------------


def new_token(client: CoreClient) -> str:
    lines = ns(client, "TOKEN")
    match = re.search(r":Your login token: (miniircd-token-\S+)$", lines[0])
    assert match and lines[1:] == said(
        client.session.name,
        "Log in with it in place of your password (SASL PLAIN, PASS or",
        "IDENTIFY). It stops working on TOKEN REVOKE or a new password.",
    )
    return match.group(1)


def sasl_plain(client: CoreClient, account: str, secret: str) -> list[str]:
    client.send("AUTHENTICATE PLAIN")
    payload = base64.b64encode(f"\0{account}\0{secret}".encode()).decode()
    return client.send(f"AUTHENTICATE {payload}")


def test_token_logs_in_by_sasl_pass_and_identify_but_cannot_change_the_account(
    core: CoreHarness,
) -> None:
    assert ns(core.register("eve"), "TOKEN") == said("eve", "You are not logged in.")
    make_account(core, "alice")
    alice = core.register("alice")
    ns(alice, f"IDENTIFY {PW}")
    token = new_token(alice)
    assert core.store.login_tokens("alice") != [token]  # only its hash is kept
    device = core.connect()
    device.send("CAP REQ :sasl")
    assert sasl_plain(device, "alice", token)[-1].endswith(":SASL authentication successful")
    other = core.connect()
    lines = other.send(f"PASS alice:{token}", "NICK ally", "USER ally 0 * :Ally")
    assert any(line.endswith(":You are now logged in as alice") for line in lines)
    bob = core.register("bob")
    assert ns(bob, f"IDENTIFY alice {token}")[-1] == f"{NS} bob :You are now logged in as alice."
    assert ns(bob, f"PASSWD {token} {NEW_PW}") == said("bob", "Invalid password.")
    assert ns(bob, f"DROP {token}") == said("bob", "Invalid password.")
    assert core.store.get_account("alice") is not None


def test_a_token_of_another_account_or_a_made_up_one_fails() -> None:
    core = CoreHarness()
    make_account(core, "alice")
    make_account(core, "bob")
    bob = core.register("bob2")
    ns(bob, f"IDENTIFY bob {PW}")
    token = new_token(bob)
    carol = core.register("carol")
    for name, secret in (("alice", token), ("bob", token + "x"), ("bob", "miniircd-token-")):
        assert ns(carol, f"IDENTIFY {name} {secret}") == said(
            "carol", "Invalid account or password."
        )


def test_revoke_one_or_all_and_a_new_password_revokes_them() -> None:
    core = CoreHarness()
    make_account(core, "alice")
    alice = core.register("alice")
    ns(alice, f"IDENTIFY {PW}")
    first, second, third = new_token(alice), new_token(alice), new_token(alice)
    assert ns(alice, "TOKEN REVOKE") == said("alice", "Syntax: TOKEN [REVOKE <token>|ALL]")
    assert ns(alice, f"TOKEN REVOKE {first}") == said("alice", "That login token is revoked.")
    assert ns(alice, f"TOKEN REVOKE {first}") == said(
        "alice", "That is not one of your login tokens."
    )
    bob = core.register("bob")
    assert ns(bob, f"IDENTIFY alice {first}") == said("bob", "Invalid account or password.")
    assert ns(alice, "TOKEN REVOKE all") == said("alice", "Revoked all your login tokens (2).")
    assert ns(bob, f"IDENTIFY alice {second}") == said("bob", "Invalid account or password.")
    fourth = new_token(alice)
    assert ns(alice, f"PASSWD {PW} {NEW_PW}") == said("alice", "Your password has been changed.")
    for token in (third, fourth):
        assert ns(bob, f"IDENTIFY alice {token}") == said("bob", "Invalid account or password.")


def test_only_the_newest_tokens_are_kept() -> None:
    core = CoreHarness()
    make_account(core, "alice")
    alice = core.register("alice")
    ns(alice, f"IDENTIFY {PW}")
    tokens = [new_token(alice) for _ in range(nickserv.LOGIN_TOKENS_KEPT + 1)]
    assert len(core.store.login_tokens("alice")) == nickserv.LOGIN_TOKENS_KEPT
    bob = core.register("bob")
    assert ns(bob, f"IDENTIFY alice {tokens[-1]}")[-1].endswith("logged in as alice.")
