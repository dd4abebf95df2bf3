"""Transcript tests for MONITOR (IRCv3 monitor): 730-734 and sign-on/sign-off notices."""

from __future__ import annotations

import base64

from harness import CoreClient, CoreHarness

FULL = "Monitor list is full."


def nicks_in(lines: list[str], numeric: str) -> list[str]:
    """The comma-separated targets of every `numeric` line, in order."""
    found: list[str] = []
    for line in lines:
        if line.split()[1] == numeric:
            found.extend(line.split(" :", 1)[1].split(","))
    return found


def watchers(core: CoreHarness) -> dict[str, set[str]]:
    """The server's reverse index, by nick, for readable asserts."""
    return {key: {s.name for s in sessions} for key, sessions in core.server.state.watchers.items()}


# -- the subcommands ---------------------------------------------------------------------


def test_isupport_advertises_the_limit() -> None:
    for core, token in ((CoreHarness(), "MONITOR=100"), (CoreHarness(monitor_max=7), "MONITOR=7")):
        client = core.connect()
        lines = client.send("NICK alice", "USER alice 0 * :Alice")
        assert token in " ".join(line for line in lines if " 005 " in line).split()


def test_add_reports_online_and_offline(core: CoreHarness) -> None:
    alice = core.register("alice")
    core.register("bob")
    assert alice.send("MONITOR + BOB,Carol,dave") == [
        ":irc.test 730 alice :bob!~bob@127.0.0.1",
        ":irc.test 731 alice :Carol,dave",
    ]
    assert alice.send("MONITOR + bob") == []  # already monitored: not added again, no reply


def test_add_ignores_invalid_nicks_and_duplicates(core: CoreHarness) -> None:
    alice = core.register("alice")
    long_nick = "n" * 31  # NICKLEN is 30
    assert alice.send(f"MONITOR + bob,,#chan,1bad,{long_nick},BOB,bob,a!b@c") == [
        ":irc.test 731 alice :bob",
    ]
    assert alice.send("MONITOR L") == [
        ":irc.test 732 alice :bob",
        ":irc.test 733 alice :End of MONITOR list",
    ]


def test_remove_and_clear_reply_nothing(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("MONITOR + bob,carol,dave")
    assert alice.send("MONITOR - CAROL,nobody,") == []
    assert alice.send("MONITOR L") == [
        ":irc.test 732 alice :bob,dave",
        ":irc.test 733 alice :End of MONITOR list",
    ]
    assert watchers(core) == {"bob": {"alice"}, "dave": {"alice"}}
    assert alice.send("MONITOR C") == []
    assert alice.send("MONITOR L") == [":irc.test 733 alice :End of MONITOR list"]
    assert watchers(core) == {}
    assert alice.session.monitoring == {}


def test_list_keeps_the_targets_as_given_in_order(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("MONITOR + Zed", "MONITOR + bob,Nick[1]")
    assert alice.send("MONITOR l") == [
        ":irc.test 732 alice :Zed,bob,Nick[1]",
        ":irc.test 733 alice :End of MONITOR list",
    ]


def test_status_lists_online_then_offline(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("MONITOR + carol,bob,dave")
    core.register("bob")
    core.register("Dave")
    alice.take()
    assert alice.send("MONITOR S") == [
        ":irc.test 730 alice :bob!~bob@127.0.0.1,Dave!~Dave@127.0.0.1",
        ":irc.test 731 alice :carol",
    ]
    assert alice.send("MONITOR s") == alice.send("MONITOR S")
    alice.send("MONITOR C")
    assert alice.send("MONITOR S") == []


def test_missing_targets_and_unknown_subcommand(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("MONITOR") == [":irc.test 461 alice MONITOR :Not enough parameters"]
    assert alice.send("MONITOR +") == [":irc.test 461 alice MONITOR :Not enough parameters"]
    assert alice.send("MONITOR - :") == [":irc.test 461 alice MONITOR :Not enough parameters"]
    assert alice.send("MONITOR X bob") == [
        ":irc.test 400 alice MONITOR X :Unknown MONITOR subcommand"
    ]
    assert alice.send("MONITOR ++ bob") == [
        ":irc.test 400 alice MONITOR ++ :Unknown MONITOR subcommand"
    ]
    assert alice.session.monitoring == {}


def test_needs_registration(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("NICK early", "MONITOR + bob") == [
        ":irc.test 451 early :You have not registered"
    ]
    assert watchers(core) == {}


# -- the limit ---------------------------------------------------------------------------


def test_limit_adds_what_fits_and_refuses_the_rest() -> None:
    core = CoreHarness(monitor_max=2)
    alice = core.register("alice")
    core.register("bob")
    assert alice.send("MONITOR + bob,carol,Dave,erin,DAVE") == [
        ":irc.test 730 alice :bob!~bob@127.0.0.1",
        ":irc.test 731 alice :carol",
        f":irc.test 734 alice 2 Dave,erin :{FULL}",
    ]
    # targets already on the list are no trouble; only the new ones are refused
    assert alice.send("MONITOR + BOB,frank") == [f":irc.test 734 alice 2 frank :{FULL}"]
    alice.send("MONITOR - carol")
    assert alice.send("MONITOR + frank,gil") == [
        ":irc.test 731 alice :frank",
        f":irc.test 734 alice 2 gil :{FULL}",
    ]
    assert len(alice.session.monitoring) == 2


def test_limit_zero_refuses_everything_over_lines_that_fit() -> None:
    core = CoreHarness(monitor_max=0)
    alice = core.register("alice")
    targets = [f"n{i:02d}" + "x" * 25 for i in range(17)]  # a 500-byte command line
    lines = alice.send("MONITOR + " + ",".join(targets))
    assert len(lines) == 2
    assert all(line.startswith(":irc.test 734 alice 0 ") for line in lines)
    assert all(line.endswith(f" :{FULL}") for line in lines)
    assert all(len(line.encode()) <= 510 for line in lines)
    assert [t for line in lines for t in line.split()[4].split(",")] == targets
    assert watchers(core) == {}


# -- long lists --------------------------------------------------------------------------


def test_long_lists_are_split_to_fit_512_bytes() -> None:
    core = CoreHarness(monitor_max=200)
    alice = core.register("alice")
    targets = [f"nick{i:03d}" + "x" * 22 for i in range(60)]  # 29 bytes each
    added: list[str] = []
    for start in range(0, 60, 15):
        added += alice.send("MONITOR + " + ",".join(targets[start : start + 15]))
    assert nicks_in(added, "731") == targets
    for command, numeric in (("MONITOR L", "732"), ("MONITOR S", "731")):
        lines = alice.send(command)
        assert len([line for line in lines if line.split()[1] == numeric]) > 1
        assert all(len(line.encode()) <= 510 for line in lines)
        assert nicks_in(lines, numeric) == targets
    online = [core.register(target) for target in targets[:20]]
    alice.take()
    lines = alice.send("MONITOR S")
    assert len([line for line in lines if line.split()[1] == "730"]) > 1
    assert all(len(line.encode()) <= 510 for line in lines)
    assert nicks_in(lines, "730") == [user.session.prefix for user in online]
    assert nicks_in(lines, "731") == targets[20:]


# -- notifications -----------------------------------------------------------------------


def test_registration_and_quit_notify_watchers(core: CoreHarness) -> None:
    alice, carol = core.register("alice"), core.register("carol")
    alice.send("MONITOR + bob")
    carol.send("MONITOR + BOB")
    bob = core.register("bob")
    assert alice.take() == [":irc.test 730 alice :bob!~bob@127.0.0.1"]
    assert carol.take() == [":irc.test 730 carol :bob!~bob@127.0.0.1"]
    bob.send("QUIT :bye")
    assert alice.take() == [":irc.test 731 alice :bob"]
    assert carol.take() == [":irc.test 731 carol :bob"]


def test_lost_connection_notifies_watchers(core: CoreHarness) -> None:
    alice = core.register("alice")
    bob = core.register("bob")
    alice.send("MONITOR + bob")
    core.server.connection_lost(bob.session, "Connection reset", core.clock.now)
    core.deliver()
    assert alice.take() == [":irc.test 731 alice :bob"]


def test_a_nick_still_registering_is_offline(core: CoreHarness) -> None:
    alice = core.register("alice")
    pending = core.connect()
    pending.send("NICK bob")
    assert alice.send("MONITOR + bob") == [":irc.test 731 alice :bob"]
    pending.send("USER bob 0 * :Bob")
    assert alice.take() == [":irc.test 730 alice :bob!~bob@127.0.0.1"]
    # an unregistered client that gives up never signed on: nothing to tell
    ghost = core.connect()
    alice.send("MONITOR + ghost")
    ghost.send("NICK ghost", "QUIT")
    assert alice.take() == []


def test_nick_change_signs_off_the_old_and_on_the_new(core: CoreHarness) -> None:
    alice, carol, bob = core.register("alice"), core.register("carol"), core.register("bob")
    alice.send("MONITOR + bob,robert")
    carol.send("MONITOR + robert")
    bob.send("NICK Robert")
    assert alice.take() == [
        ":irc.test 731 alice :bob",
        ":irc.test 730 alice :Robert!~bob@127.0.0.1",
    ]
    assert carol.take() == [":irc.test 730 carol :Robert!~bob@127.0.0.1"]
    bob.send("NICK ROBERT")  # only the case changed: the nick is the same, nothing to tell
    assert alice.take() == []
    assert carol.take() == []


def test_case_only_change_tells_nobody_and_731_spells_the_old_nick_as_used(
    core: CoreHarness,
) -> None:
    watcher = core.register("watcher")
    watcher.send("MONITOR + ALICE,Alicia")
    alice = core.register("alice")
    assert watcher.take() == [":irc.test 730 watcher :alice!~alice@127.0.0.1"]
    assert alice.send("NICK Alice") == [":alice!~alice@127.0.0.1 NICK Alice"]
    assert watcher.take() == []  # the same nick, still online: neither 731 nor 730
    alice.send("NICK alicia")
    # the old nick as the user had it (not as the watcher typed it), then the new one
    assert watcher.take() == [
        ":irc.test 731 watcher :Alice",
        ":irc.test 730 watcher :alicia!~alice@127.0.0.1",
    ]
    alice.send("NICK ALICIA", "QUIT")
    assert watcher.take() == [":irc.test 731 watcher :ALICIA"]


def test_matching_is_rfc1459_case_insensitive(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("MONITOR + Nick[1]")
    user = core.register("nick{1}", "n1")
    assert alice.take() == [":irc.test 730 alice :nick{1}!~n1@127.0.0.1"]
    assert alice.send("MONITOR + NICK{1}") == []  # the same target
    alice.send("MONITOR - nick{1}")
    assert watchers(core) == {}
    user.send("QUIT")
    assert alice.take() == []


def test_watchers_own_disconnect_cleans_the_index(core: CoreHarness) -> None:
    alice, dave = core.register("alice"), core.register("dave")
    alice.send("MONITOR + bob,carol")
    dave.send("MONITOR + carol")
    assert watchers(core) == {"bob": {"alice"}, "carol": {"alice", "dave"}}
    alice.send("QUIT")
    assert watchers(core) == {"carol": {"dave"}}
    core.register("carol")
    assert dave.take() == [":irc.test 730 dave :carol!~carol@127.0.0.1"]
    core.register("bob")  # alice is gone: no one is told, nothing fails
    dave.send("QUIT")
    assert watchers(core) == {}


def test_watcher_changing_nick_keeps_its_list(core: CoreHarness) -> None:
    alice: CoreClient = core.register("alice")
    alice.send("MONITOR + bob", "NICK alicia")
    core.register("bob")
    assert alice.take() == [":irc.test 730 alicia :bob!~bob@127.0.0.1"]


# -- extended-monitor ----------------------------------------------------------------------

BOB = "bob!~bob@127.0.0.1"


def with_caps(core: CoreHarness, nick: str, caps: str) -> CoreClient:
    """A registered client that negotiated `caps` (space-separated)."""
    client = core.connect()
    client.send("CAP LS 302", f"CAP REQ :{caps}")
    lines = client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick.title()}", "CAP END")
    assert any(" 001 " in line for line in lines), lines
    return client


def test_extended_monitor_is_offered(core: CoreHarness) -> None:
    client = core.connect()
    offered = " ".join(client.send("CAP LS 302")).split()
    assert "extended-monitor" in offered
    assert client.send("CAP REQ :extended-monitor") == [":irc.test CAP * ACK :extended-monitor"]


def test_away_reaches_watchers_outside_any_channel(core: CoreHarness) -> None:
    # the target signs on after the MONITOR, or before it: the same either way
    for before in (True, False):
        core = CoreHarness()
        foo = with_caps(core, "foo", "extended-monitor away-notify")
        if before:
            foo.send("MONITOR + bob")
            bob = core.register("bob")
            assert foo.take() == [f":irc.test 730 foo :{BOB}"]
        else:
            bob = core.register("bob")
            assert foo.send("MONITOR + bob") == [f":irc.test 730 foo :{BOB}"]
        bob.send("AWAY :afk")
        assert foo.take() == [f":{BOB} AWAY :afk"]
        bob.send("AWAY")
        assert foo.take() == [f":{BOB} AWAY"]


def test_away_needs_both_capabilities(core: CoreHarness) -> None:
    only_extended = with_caps(core, "ext", "extended-monitor")
    only_notify = with_caps(core, "notify", "away-notify")
    plain = core.register("plain")
    bob = core.register("bob")
    for watcher in (only_extended, only_notify, plain):
        watcher.send("MONITOR + bob")
    bob.send("AWAY :afk", "AWAY")
    assert [only_extended.take(), only_notify.take(), plain.take()] == [[], [], []]


def test_a_watcher_sharing_a_channel_hears_once(core: CoreHarness) -> None:
    foo = with_caps(core, "foo", "extended-monitor away-notify setname account-notify")
    bob = core.register("bob")
    foo.send("JOIN #c", "MONITOR + bob")
    bob.send("JOIN #c")
    foo.take()
    bob.send("AWAY :afk", "SETNAME :Bob Two")
    assert foo.take() == [f":{BOB} AWAY :afk", f":{BOB} SETNAME :Bob Two"]


def test_setname_reaches_watchers_with_the_capability(core: CoreHarness) -> None:
    foo = with_caps(core, "foo", "extended-monitor setname")
    plain = with_caps(core, "plain", "setname")  # monitors, but without extended-monitor
    foo.send("MONITOR + bob")
    plain.send("MONITOR + bob")
    bob = core.register("bob")
    foo.take()
    plain.take()
    bob.send("SETNAME :new name")
    assert foo.take() == [f":{BOB} SETNAME :new name"]
    assert plain.take() == []


def test_account_changes_reach_watchers(core: CoreHarness) -> None:
    maker = core.connect()
    maker.send("REGISTER jilles * sesame-password")
    maker.send("QUIT")
    foo = with_caps(core, "foo", "extended-monitor account-notify")
    other = with_caps(core, "other", "extended-monitor")
    bob = with_caps(core, "bob", "sasl")
    foo.send("MONITOR + bob")
    other.send("MONITOR + bob")
    assert bob.send("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    payload = base64.b64encode(b"jilles\0jilles\0sesame-password").decode()
    assert " 903 " in bob.send(f"AUTHENTICATE {payload}")[-1]
    assert foo.take() == [f":{BOB} ACCOUNT jilles"]
    bob.send("PRIVMSG NickServ :LOGOUT")
    assert foo.take() == [f":{BOB} ACCOUNT *"]
    assert other.take() == []


def test_a_user_is_not_its_own_extended_watcher(core: CoreHarness) -> None:
    bob = with_caps(core, "bob", "extended-monitor away-notify setname")
    bob.send("MONITOR + bob")
    assert bob.send("AWAY :afk") == [":irc.test 306 bob :You have been marked as being away"]
    assert bob.send("SETNAME :Once") == [f":{BOB} SETNAME :Once"]  # as setname says, once


def test_extended_notices_follow_the_nick(core: CoreHarness) -> None:
    foo = with_caps(core, "foo", "extended-monitor away-notify")
    bob = core.register("bob")
    foo.send("MONITOR + bob")
    bob.send("NICK robert")
    assert foo.take() == [":irc.test 731 foo :bob"]
    bob.send("AWAY :gone")
    assert foo.take() == []  # robert is not monitored
    bob.send("NICK bob")
    assert foo.take() == [f":irc.test 730 foo :{BOB}"]
    foo.send("MONITOR - bob")
    bob.send("AWAY")
    assert foo.take() == []
