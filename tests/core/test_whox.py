"""Transcript tests for WHOX (IRCv3): `WHO <mask> %<fields>[,<token>]` and its 354 replies."""

from __future__ import annotations

from harness import CoreClient, CoreHarness

PW = "password1"


def joined(core: CoreHarness, channel: str, *clients: CoreClient) -> None:
    for client in clients:
        client.send(f"JOIN {channel}")
    for client in core.clients.values():
        client.take()


def register_at(core: CoreHarness, nick: str, host: str) -> CoreClient:
    client = core.connect(host)
    lines = client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick.title()} Person")
    assert any(" 001 " in line for line in lines), lines
    return client


def test_isupport_advertises_whox(core: CoreHarness) -> None:
    client = core.connect()
    lines = client.send("NICK alice", "USER alice 0 * :Alice")
    assert "WHOX" in " ".join(line for line in lines if " 005 " in line).split()


def test_every_field_in_the_fixed_order(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    joined(core, "#c", alice, bob)
    core.server.state.set_user_mode(bob.session, "o", True)
    bob.send("AWAY :out")
    core.tick(7)
    alice.send("PRIVMSG #c :hi")  # alice is active again, bob stays idle
    bob.take()
    assert alice.send("WHO #c %tcuihsnfdlaor,42") == [
        ":irc.test 354 alice 42 #c ~alice 127.0.0.1 127.0.0.1 irc.test alice H@ 0 0 0 n/a :Alice",
        ":irc.test 354 alice 42 #c ~bob 127.0.0.1 127.0.0.1 irc.test bob G* 0 7 0 n/a :Bob",
        ":irc.test 315 alice #c :End of WHO list",
    ]


def test_fields_come_in_the_fixed_order_whatever_order_asked(core: CoreHarness) -> None:
    alice = core.register("alice")
    joined(core, "#c", alice)
    expected = [
        ":irc.test 354 alice 7 #c alice 0 :Alice",
        ":irc.test 315 alice #c :End of WHO list",
    ]
    assert alice.send("WHO #c %rnatc,7") == expected
    assert alice.send("WHO #c %tcnar,7") == expected
    assert alice.send("WHO #c %nnccrata,7") == expected  # a letter twice counts once


def test_only_the_fields_asked_for(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("WHO alice %n") == [
        ":irc.test 354 alice :alice",  # the last parameter, as always, after a ':'
        ":irc.test 315 alice alice :End of WHO list",
    ]
    assert alice.send("WHO alice %nXyz!") == alice.send("WHO alice %n")  # unknown: ignored
    assert alice.send("WHO alice %uh") == [
        ":irc.test 354 alice ~alice :127.0.0.1",
        ":irc.test 315 alice alice :End of WHO list",
    ]


def test_token(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("WHO alice %tn,123")[0] == ":irc.test 354 alice 123 :alice"
    assert alice.send("WHO alice %tn,007")[0] == ":irc.test 354 alice 007 :alice"
    assert alice.send("WHO alice %n,42")[0] == ":irc.test 354 alice :alice"  # not asked for
    # not one to three digits: no usable token, so the placeholder 0
    for bad in ("%tn", "%tn,", "%tn,1234", "%tn,abc", "%tn,:1", "%tn,4²"):
        assert alice.send(f"WHO alice {bad}")[0] == ":irc.test 354 alice 0 :alice", bad


def test_mask_query_has_no_channel(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    joined(core, "#c", alice, bob)
    assert alice.send("WHO bob %cnf") == [
        ":irc.test 354 alice * bob :H",
        ":irc.test 315 alice bob :End of WHO list",
    ]


def test_account_field(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    joined(core, "#c", alice, bob)
    bob.send(f"REGISTER * * {PW}")
    assert bob.session.account == "bob"
    assert alice.send("WHO #c %na") == [
        ":irc.test 354 alice alice :0",
        ":irc.test 354 alice bob :bob",
        ":irc.test 315 alice #c :End of WHO list",
    ]


def test_ip_field(core: CoreHarness) -> None:
    asker = core.register("asker")
    register_at(core, "vee4", "192.0.2.9")
    register_at(core, "vee6", "::1")
    register_at(core, "named", "host.example")
    assert asker.send("WHO vee4 %ih")[0] == ":irc.test 354 asker 192.0.2.9 :192.0.2.9"
    assert asker.send("WHO vee6 %ih")[0] == ":irc.test 354 asker 0::1 :0::1"
    # a host that is not an address: the spec's placeholder for an undisclosed IP
    assert asker.send("WHO named %ih")[0] == ":irc.test 354 asker 255.255.255.255 :host.example"


def test_realname_with_spaces_is_the_trailing_parameter(core: CoreHarness) -> None:
    asker = core.register("asker")
    register_at(core, "zed", "10.0.0.5")
    assert asker.send("WHO zed %nr") == [
        ":irc.test 354 asker zed :Zed Person",
        ":irc.test 315 asker zed :End of WHO list",
    ]


def test_opers_only_flag_with_fields(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    core.server.state.set_user_mode(bob.session, "o", True)
    assert alice.send("WHO * o%nf") == [
        ":irc.test 354 alice bob :H*",
        ":irc.test 315 alice * :End of WHO list",
    ]


def test_visibility_rules_are_those_of_who(core: CoreHarness) -> None:
    alice, ghost, eve = core.register("alice"), core.register("ghost"), core.register("eve")
    joined(core, "#s", alice, ghost)
    core.server.state.channels["#s"].modes.add("s")
    assert eve.send("WHO #s %n") == [":irc.test 315 eve #s :End of WHO list"]
    core.server.state.set_user_mode(ghost.session, "i", True)
    assert eve.send("WHO gh* %n") == [":irc.test 315 eve gh* :End of WHO list"]
    assert alice.send("WHO gh* %n")[0] == ":irc.test 354 alice :ghost"
    assert eve.send("WHO ghost %n") == [  # an exact nick is listed, invisible or not
        ":irc.test 354 eve :ghost",
        ":irc.test 315 eve ghost :End of WHO list",
    ]


def test_without_percent_who_is_unchanged(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    joined(core, "#c", alice, bob)
    expected = [
        ":irc.test 352 alice #c ~alice 127.0.0.1 irc.test alice H@ :0 Alice",
        ":irc.test 352 alice #c ~bob 127.0.0.1 irc.test bob H :0 Bob",
        ":irc.test 315 alice #c :End of WHO list",
    ]
    assert alice.send("WHO #c") == expected
    assert alice.send("WHO #c n,42") == expected  # a token without '%' is not WHOX
