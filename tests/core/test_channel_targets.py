"""Transcript tests for the many-target forms: KICK of several nicks, NAMES of several
channels, INVITE's list of invitations, and LIST's search conditions (ELIST)."""

from __future__ import annotations

from harness import CoreClient, CoreHarness

A = "alice!~alice@127.0.0.1"
B = "bob!~bob@127.0.0.1"
END_LIST = ":irc.test 323 {} :End of /LIST"


def listed(client: CoreClient, line: str) -> list[str]:
    """The channels a LIST answers with, in order; checks the 321 ... 323 frame."""
    lines = client.send(line)
    nick = client.session.name
    assert lines[0] == f":irc.test 321 {nick} Channel :Users  Name"
    assert lines[-1] == END_LIST.format(nick)
    return [each.split(" ")[3] for each in lines[1:-1]]


# -- KICK ------------------------------------------------------------------------------------


def test_kick_several_nicks_each_its_own_kick(core: CoreHarness) -> None:
    alice, bob, carol, dave = (core.register(n) for n in ("alice", "bob", "carol", "dave"))
    erin = core.register("erin")
    for client in (alice, bob, carol, dave):
        client.send("JOIN #k")
    alice.take(), bob.take(), carol.take()
    assert alice.send("KICK #k bob,ghost,erin,carol :out") == [
        f":{A} KICK #k bob :out",
        ":irc.test 401 alice ghost :No such nick/channel",
        ":irc.test 441 alice erin #k :They aren't on that channel",
        f":{A} KICK #k carol :out",
    ]
    assert bob.take() == [f":{A} KICK #k bob :out"]
    assert carol.take() == [f":{A} KICK #k bob :out", f":{A} KICK #k carol :out"]
    assert dave.take() == [f":{A} KICK #k bob :out", f":{A} KICK #k carol :out"]
    assert erin.take() == []
    channel = core.server.state.find_channel("#k")
    assert channel is not None
    assert sorted(member.name for member in channel.members) == ["alice", "dave"]


def test_kick_refusals_come_once_per_nick(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    alice.send("JOIN #k")
    bob.send("JOIN #k")
    alice.take()
    assert bob.send("KICK #k alice,bob") == [
        ":irc.test 482 bob #k :You're not channel operator",
        ":irc.test 482 bob #k :You're not channel operator",
    ]
    assert carol.send("KICK #k alice,bob") == [
        ":irc.test 442 carol #k :You're not on that channel",
        ":irc.test 442 carol #k :You're not on that channel",
    ]
    assert carol.send("KICK #none alice,bob") == [
        ":irc.test 403 carol #none :No such channel",
        ":irc.test 403 carol #none :No such channel",
    ]
    channel = core.server.state.find_channel("#k")
    assert alice.take() == [] and channel is not None and len(channel.members) == 2


def test_kick_pairs_channels_and_nicks_as_rfc2812(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #a,#b")
    bob.send("JOIN #a,#b")
    alice.take()
    assert alice.send("KICK #a,#b bob,bob :bye") == [
        f":{A} KICK #a bob :bye",
        f":{A} KICK #b bob :bye",
    ]
    assert bob.session.channels == {}
    assert alice.send("KICK #a,#b alice,bob,carol") == [
        ":irc.test 461 alice KICK :Not enough parameters"
    ]
    assert alice.send("KICK #a ,") == [":irc.test 461 alice KICK :Not enough parameters"]


def test_kick_skips_empty_items_and_defaults_the_comment(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #k")
    bob.send("JOIN #k")
    alice.take()
    assert alice.send("KICK #k ,bob,") == [f":{A} KICK #k bob :alice"]


def test_kick_targets_past_targmax_are_dropped() -> None:
    core = CoreHarness(targmax=2)
    alice = core.register("alice")
    others = [core.register(nick) for nick in ("bob", "carol", "dave")]
    alice.send("JOIN #k")
    for client in others:
        client.send("JOIN #k")
    alice.take()
    assert "KICK:2" in core.server.isupport()["TARGMAX"].split(",")
    assert alice.send("KICK #k bob,carol,dave") == [
        f":{A} KICK #k bob :alice",
        f":{A} KICK #k carol :alice",
    ]
    assert others[2].session.channels  # dave, the third, stays


# -- NAMES -----------------------------------------------------------------------------------


def test_names_of_several_channels_ends_once(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #a,#secret,#b", "MODE #secret +s")
    bob.send("JOIN #b")
    alice.take()
    assert bob.send("NAMES #a,#secret,#none,bad,#B,") == [
        ":irc.test 353 bob = #a :@alice",
        ":irc.test 353 bob = #b :@alice bob",
        ":irc.test 366 bob #a,#secret,#none,bad,#B :End of /NAMES list",
    ]
    assert alice.send("NAMES #secret,#a") == [
        ":irc.test 353 alice @ #secret :@alice",
        ":irc.test 353 alice = #a :@alice",
        ":irc.test 366 alice #secret,#a :End of /NAMES list",
    ]
    assert bob.send("NAMES #secret") == [":irc.test 366 bob #secret :End of /NAMES list"]
    assert bob.send("NAMES #A") == [
        ":irc.test 353 bob = #a :@alice",
        ":irc.test 366 bob #a :End of /NAMES list",
    ]
    assert bob.send("NAMES ,") == [":irc.test 366 bob * :End of /NAMES list"]
    assert core.server.isupport()["TARGMAX"].split(",").count("NAMES:") == 1


# -- INVITE ----------------------------------------------------------------------------------


def test_invite_without_parameters_lists_the_invitations(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    assert bob.send("INVITE") == [":irc.test 337 bob :End of /INVITE list"]
    alice.send("JOIN #x,#y,#z", "MODE #x +i")
    alice.send("INVITE bob #x", "INVITE Bob #y")
    bob.take()
    assert bob.send("INVITE") == [
        ":irc.test 336 bob :#x",
        ":irc.test 336 bob :#y",
        ":irc.test 337 bob :End of /INVITE list",
    ]
    assert alice.send("INVITE") == [":irc.test 337 alice :End of /INVITE list"]
    bob.send("JOIN #x")  # the JOIN uses the invitation up
    assert bob.send("INVITE") == [
        ":irc.test 336 bob :#y",
        ":irc.test 337 bob :End of /INVITE list",
    ]
    alice.send("PART #y")  # the channel goes, and its invitations with it
    assert bob.send("INVITE") == [":irc.test 337 bob :End of /INVITE list"]
    assert bob.send("INVITE alice") == [":irc.test 461 bob INVITE :Not enough parameters"]


def test_an_invitation_passes_the_limit_once(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #full", "MODE #full +il 1")
    assert bob.send("JOIN #full") == [":irc.test 473 bob #full :Cannot join channel (+i)"]
    alice.send("MODE #full -i")
    assert bob.send("JOIN #full") == [":irc.test 471 bob #full :Cannot join channel (+l)"]
    alice.send("MODE #full +i", "INVITE bob #full")
    bob.take()
    assert bob.send("JOIN #full")[0] == f":{B} JOIN #full"  # past +i and +l together
    bob.send("PART #full")
    assert bob.send("JOIN #full") == [":irc.test 473 bob #full :Cannot join channel (+i)"]
    alice.send("MODE #full -i")
    alice.take()
    assert bob.send("JOIN #full") == [":irc.test 471 bob #full :Cannot join channel (+l)"]


# -- LIST ------------------------------------------------------------------------------------


def _two_channels(core: CoreHarness) -> tuple[CoreClient, CoreClient]:
    """#chan1 made now by alice, #chan2 two minutes later by alice and bob; then one more
    minute passes."""
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #chan1")
    core.clock.now += 120
    alice.send("JOIN #chan2")
    bob.send("JOIN #chan2")
    core.clock.now += 60
    alice.take()
    return alice, bob


def test_list_by_member_count(core: CoreHarness) -> None:
    _, bob = _two_channels(core)
    assert listed(bob, "LIST >0") == ["#chan1", "#chan2"]
    assert listed(bob, "LIST >1") == ["#chan2"]
    assert listed(bob, "LIST <2") == ["#chan1"]
    assert listed(bob, "LIST <1") == []
    assert listed(bob, "LIST <100") == ["#chan1", "#chan2"]
    assert listed(bob, "LIST >0,<2") == ["#chan1"]


def test_list_by_creation_time(core: CoreHarness) -> None:
    _, bob = _two_channels(core)
    assert listed(bob, "LIST C>2") == ["#chan1"]
    assert listed(bob, "LIST C<2") == ["#chan2"]
    assert listed(bob, "LIST c<2") == ["#chan2"]
    assert listed(bob, "LIST C<0") == []
    assert listed(bob, "LIST C>0") == ["#chan1", "#chan2"]
    assert listed(bob, "LIST C<10") == ["#chan1", "#chan2"]


def test_list_by_topic_time(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #chan1,#chan2,#bare", "TOPIC #chan1 :First")
    core.clock.now += 120
    alice.send("TOPIC #chan2 :Second")
    core.clock.now += 60
    assert listed(bob, "LIST T>2") == ["#chan1"]
    assert listed(bob, "LIST T<2") == ["#chan2"]
    assert listed(bob, "LIST T<0") == []
    assert listed(bob, "LIST T>0") == ["#chan1", "#chan2"]  # #bare has no topic
    assert listed(bob, "LIST T<10") == ["#chan1", "#chan2"]
    assert bob.send("LIST T<10")[1] == ":irc.test 322 bob #chan1 1 :First"


def test_list_by_mask_and_negated_mask(core: CoreHarness) -> None:
    _, bob = _two_channels(core)
    assert listed(bob, "LIST *an1") == ["#chan1"]
    assert listed(bob, "LIST #c*n2") == ["#chan2"]
    assert listed(bob, "LIST *an3") == []
    assert listed(bob, "LIST #CH*") == ["#chan1", "#chan2"]
    assert listed(bob, "LIST #ch?n?") == ["#chan1", "#chan2"]
    assert listed(bob, "LIST !*an1") == ["#chan2"]
    assert listed(bob, "LIST !#c*n2") == ["#chan1"]
    assert listed(bob, "LIST !*an3") == ["#chan1", "#chan2"]
    assert listed(bob, "LIST !#ch*") == []


def test_list_conditions_combine(core: CoreHarness) -> None:
    alice, bob = _two_channels(core)
    alice.send("JOIN #other")
    assert listed(bob, "LIST #chan1,#chan2,#nope") == ["#chan1", "#chan2"]
    assert listed(bob, "LIST #chan2,#CHAN2") == ["#chan2"]  # once
    assert listed(bob, "LIST #chan1,*her") == ["#chan1", "#other"]  # names and masks: any
    assert listed(bob, "LIST #ch*,!*2") == ["#chan1"]  # and no excluded mask
    assert listed(bob, "LIST #c*,>1") == ["#chan2"]  # and every number condition
    assert listed(bob, "LIST *,C>2,<2") == ["#chan1"]
    assert listed(bob, "LIST #chan1,#chan2 >1") == ["#chan2"]  # conditions as a 2nd param
    assert listed(bob, "LIST !#chan1,!#other") == ["#chan2"]
    assert listed(bob, "LIST >x") == []  # not a number: a name, which names no channel
    assert listed(bob, "LIST ,") == ["#chan1", "#chan2", "#other"]


def test_list_keeps_secret_channels_hidden(core: CoreHarness) -> None:
    alice, bob = _two_channels(core)
    alice.send("MODE #chan1 +s")
    assert listed(bob, "LIST #ch*") == ["#chan2"]
    assert listed(bob, "LIST #chan1") == []
    assert listed(bob, "LIST >0") == ["#chan2"]
    assert listed(alice, "LIST *1") == ["#chan1"]  # its member sees it


def test_elist_and_targmax_advertised(core: CoreHarness) -> None:
    tokens = core.server.isupport()
    assert tokens["ELIST"] == "CMNTU"
    assert tokens["TARGMAX"] == "JOIN:,KICK:4,LIST:,NAMES:,NOTICE:4,PART:,PRIVMSG:4,WHOIS:1"
    welcome = core.connect().send("NICK zed", "USER zed 0 * :Zed")
    assert any(" ELIST=CMNTU " in line for line in welcome)
