"""Transcript tests for the list modes +e and +I, extended bans ($a, $m) and MAXLIST."""

from __future__ import annotations

import pytest

from harness import CoreClient, CoreHarness, in_channel
from miniircd.core import masks
from miniircd.core.channel import Channel

NOW = "1700000000"
ALICE = ":alice!~alice@127.0.0.1"
OP = "alice!~alice@127.0.0.1"


def account(core: CoreHarness, nick: str) -> CoreClient:
    """A client that registers the account `nick` and so is logged in to it."""
    client = core.register(nick)
    lines = client.send("REGISTER * * password1")
    assert lines[-1].endswith("REGISTER SUCCESS " + nick + " :Account successfully registered")
    return client


def channel(core: CoreHarness, name: str = "#c") -> Channel:
    found = core.server.state.find_channel(name)
    assert found is not None
    return found


def joins(client: CoreClient, name: str = "#c") -> bool:
    lines = client.send(f"JOIN {name}")
    return any(line.split(" ")[1] == "JOIN" for line in lines)


# -- the lists and their replies --------------------------------------------------------------


def test_exception_and_invex_lists_with_their_numerics(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    assert alice.send("MODE #c +eI Bob *@Host") == [f"{ALICE} MODE #c +eI Bob!*@* *!*@Host"]
    assert bob.take() == [f"{ALICE} MODE #c +eI Bob!*@* *!*@Host"]
    assert alice.send("MODE #c +e") == [
        f":irc.test 348 alice #c Bob!*@* {OP} :{NOW}",
        ":irc.test 349 alice #c :End of channel exception list",
    ]
    assert bob.send("MODE #c I") == [
        f":irc.test 346 bob #c *!*@Host {OP} :{NOW}",
        ":irc.test 347 bob #c :End of Channel Invite Exception List",
    ]
    # one query per list, each list once, in the order asked
    assert alice.send("MODE #c beIe") == [
        ":irc.test 368 alice #c :End of channel ban list",
        f":irc.test 348 alice #c Bob!*@* {OP} :{NOW}",
        ":irc.test 349 alice #c :End of channel exception list",
        f":irc.test 346 alice #c *!*@Host {OP} :{NOW}",
        ":irc.test 347 alice #c :End of Channel Invite Exception List",
    ]
    # removal matches up to case; setting what is there already changes nothing
    assert alice.send("MODE #c +e bob!*@*") == []
    assert alice.send("MODE #c -eI BOB *@host") == [f"{ALICE} MODE #c -eI Bob!*@* *!*@Host"]
    assert channel(core).excepts == {} and channel(core).invex == {}


def test_lists_need_an_operator_to_change(core: CoreHarness) -> None:
    _alice, bob = in_channel(core, "alice", "bob")
    assert bob.send("MODE #c +e bob") == [":irc.test 482 bob #c :You're not channel operator"]
    assert bob.send("MODE #c -I bob") == [":irc.test 482 bob #c :You're not channel operator"]
    assert channel(core).excepts == {} and channel(core).invex == {}


def test_maxlist_counts_the_three_lists_together() -> None:
    core = CoreHarness(maxlist=3)
    (alice,) = in_channel(core, "alice")
    assert core.server.isupport()["MAXLIST"] == "beI:3"
    assert alice.send("MODE #c +beI a b c") == [f"{ALICE} MODE #c +beI a!*@* b!*@* c!*@*"]
    assert alice.send("MODE #c +e d") == [
        ":irc.test 478 alice #c d!*@* :Channel ban exception list is full"
    ]
    assert alice.send("MODE #c +I d") == [
        ":irc.test 478 alice #c d!*@* :Channel invite exception list is full"
    ]
    assert alice.send("MODE #c -b+I a d") == [f"{ALICE} MODE #c -b+I a!*@* d!*@*"]
    assert channel(core).list_size() == 3


# -- ban exceptions ------------------------------------------------------------------------


def test_exception_lets_a_banned_user_join_and_speak(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    carol = core.register("carol")
    alice.send("MODE #c +b *!*@127.0.0.1")
    bob.take()
    assert bob.send("PRIVMSG #c :hi") == [":irc.test 404 bob #c :Cannot send to channel"]
    assert carol.send("JOIN #c") == [":irc.test 474 carol #c :Cannot join channel (+b)"]
    alice.send("MODE #c +e carol")
    bob.take()
    assert joins(carol)
    alice.take()
    bob.take()
    assert carol.send("PRIVMSG #c :made it") == []
    assert alice.take() == [":carol!~carol@127.0.0.1 PRIVMSG #c :made it"]
    bob.take()
    assert bob.send("PRIVMSG #c :still?") == [":irc.test 404 bob #c :Cannot send to channel"]
    alice.send("MODE #c -e carol")
    carol.take()
    assert carol.send("PRIVMSG #c :and now?") == [":irc.test 404 carol #c :Cannot send to channel"]


# -- invite exceptions ---------------------------------------------------------------------


def test_invite_exception_lets_a_user_past_invite_only(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    bar, baz = core.register("Bar"), core.register("baz")
    alice.send("MODE #c +i")
    assert bar.send("JOIN #c") == [":irc.test 473 Bar #c :Cannot join channel (+i)"]
    assert alice.send("MODE #c +I bar!*@*") == [f"{ALICE} MODE #c +I bar!*@*"]
    assert joins(bar)
    assert baz.send("JOIN #c") == [":irc.test 473 baz #c :Cannot join channel (+i)"]
    bar.send("PART #c")
    alice.send("MODE #c -I bar!*@*")
    assert bar.send("JOIN #c") == [":irc.test 473 Bar #c :Cannot join channel (+i)"]


def test_invite_exception_does_not_lift_a_ban_or_a_key(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    bob = core.register("bob")
    alice.send("MODE #c +iI bob")
    alice.send("MODE #c +b bob")
    assert bob.send("JOIN #c") == [":irc.test 474 bob #c :Cannot join channel (+b)"]
    alice.send("MODE #c -b+k bob sesame")
    assert bob.send("JOIN #c") == [":irc.test 475 bob #c :Cannot join channel (+k)"]
    assert joins(bob, "#c sesame")


# -- extended bans -------------------------------------------------------------------------


def test_account_extban_matches_the_account_not_the_nick(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    assert alice.send("MODE #c +b $a:BOB") == [f"{ALICE} MODE #c +b $a:BOB"]
    impostor = core.register("bob")
    assert joins(impostor)
    impostor.send("QUIT")
    alice.take()
    bob = account(core, "bob")
    assert bob.send("JOIN #c") == [":irc.test 474 bob #c :Cannot join channel (+b)"]
    assert alice.send("MODE #c -b $a:bob") == [f"{ALICE} MODE #c -b $a:BOB"]
    assert joins(bob)


def test_account_extban_without_a_name_matches_every_logged_in_user(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    alice.send("MODE #c +b $a")
    guest = core.register("guest")
    assert joins(guest)
    bob = account(core, "bob")
    assert bob.send("JOIN #c") == [":irc.test 474 bob #c :Cannot join channel (+b)"]


def test_account_exceptions_and_invex(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    alice.send("JOIN #i")
    alice.send("MODE #c +b *!*@*", "MODE #c +e $a:bob", "MODE #i +i", "MODE #i +I $a:b*")
    bob = account(core, "bob")
    assert joins(bob) and joins(bob, "#i")
    guest = core.register("guest")
    assert guest.send("JOIN #c") == [":irc.test 474 guest #c :Cannot join channel (+b)"]
    assert guest.send("JOIN #i") == [":irc.test 473 guest #i :Cannot join channel (+i)"]


def test_mute_extban_silences_without_keeping_out(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    assert alice.send("MODE #c +b $m:BAR") == [f"{ALICE} MODE #c +b $m:BAR!*@*"]
    bar = core.register("Bar")
    assert joins(bar)
    alice.take()
    assert bar.send("MODE #c +b") == [
        f":irc.test 367 Bar #c $m:BAR!*@* {OP} :{NOW}",
        ":irc.test 368 Bar #c :End of channel ban list",
    ]
    assert bar.send("PRIVMSG #c :hi") == [":irc.test 404 Bar #c :Cannot send to channel"]
    assert bar.send("NOTICE #c :hi") == []
    assert alice.take() == []
    assert alice.send("MODE #c -b $m:bar!*@*") == [f"{ALICE} MODE #c -b $m:BAR!*@*"]
    bar.take()
    assert bar.send("PRIVMSG #c :free") == []
    assert alice.take() == [":Bar!~Bar@127.0.0.1 PRIVMSG #c :free"]


def test_voice_and_exceptions_override_a_mute(core: CoreHarness) -> None:
    alice, qux, zed = in_channel(core, "alice", "qux", "zed")
    alice.send("MODE #c +b $m:*!*@*")
    for client in (qux, zed):
        client.take()
        assert client.send("PRIVMSG #c :hi") == [
            f":irc.test 404 {client.session.name} #c :Cannot send to channel"
        ]
    alice.send("MODE #c +v qux")
    qux.take()
    assert qux.send("PRIVMSG #c :voiced") == []
    # a mute exception lifts mutes only; a plain exception lifts bans and mutes
    alice.send("MODE #c -v+ee qux qux $m:zed")
    qux.take()
    zed.take()
    assert zed.send("PRIVMSG #c :excepted") == []
    qux.take()
    assert qux.send("PRIVMSG #c :excepted too") == []
    alice.send("MODE #c +b zed")
    zed.take()
    assert zed.send("PRIVMSG #c :banned now") == [":irc.test 404 zed #c :Cannot send to channel"]


@pytest.mark.parametrize(
    ("mode", "mask"),
    [("b", "$x:bob"), ("b", "$a:"), ("e", "$m"), ("b", "$m:"), ("I", "$m:bob"), ("e", "$am")],
)
def test_invalid_extbans_are_refused_with_696(core: CoreHarness, mode: str, mask: str) -> None:
    (alice,) = in_channel(core, "alice")
    assert alice.send(f"MODE #c +{mode}n {mask}") == [
        f":irc.test 696 alice #c {mode} {mask}"
        " :Invalid extban: use $a, $a:<account> or $m:<mask> (not in +I)"
    ]
    assert channel(core).list_size() == 0


def test_masks_that_cannot_be_sent_back_are_refused(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    assert alice.send("MODE #c +e ::x") == [
        ":irc.test 696 alice #c e * :Invalid ban exception mask"
    ]
    assert alice.send("MODE #c +I ::y") == [
        ":irc.test 696 alice #c I * :Invalid invite exception mask"
    ]


def test_masks_module() -> None:
    assert masks.normalize_entry("bob", "I") == "bob!*@*"
    assert masks.normalize_entry("$a", "I") == "$a"
    assert masks.normalize_entry("$m:u@h", "e") == "$m:*!u@h"
    assert masks.normalize_entry("$m:u@h", "I") is None
    assert masks.is_mute("$m:*!*@*") and not masks.is_mute("$a:m")


# -- persistence ---------------------------------------------------------------------------


def test_registered_room_keeps_its_exceptions_over_a_restart(core: CoreHarness) -> None:
    alice = account(core, "alice")
    alice.send("JOIN #club", "MODE #club +ibee x $a:friend $m:loud", "MODE #club +I $a:friend")
    restarted = CoreHarness.on_store(core.store)
    club = channel(restarted, "#club")
    assert list(club.bans) == ["x!*@*"]
    assert list(club.excepts) == ["$a:friend", "$m:loud!*@*"]
    assert list(club.invex) == ["$a:friend"]
    assert club.excepts["$a:friend"] == (OP, int(NOW))
    assert joins(account(restarted, "friend"), "#club")
    stranger = restarted.register("stranger")
    assert stranger.send("JOIN #club") == [":irc.test 473 stranger #club :Cannot join channel (+i)"]
