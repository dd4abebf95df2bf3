"""Transcript tests for PRIVMSG and NOTICE."""

from __future__ import annotations

from harness import CoreHarness

A = "alice!~alice@127.0.0.1"
B = "bob!~bob@127.0.0.1"


def test_channel_message_reaches_members_but_not_sender(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    alice.send("JOIN #c")
    bob.send("JOIN #c")
    alice.take()
    assert alice.send("PRIVMSG #C :hello there") == []
    assert bob.take() == [f":{A} PRIVMSG #c :hello there"]
    assert carol.take() == []


def test_private_message_and_multiple_targets(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    alice.send("JOIN #c")
    assert bob.send("PRIVMSG alice,carol,#c,nobody :hi") == [
        ":irc.test 404 bob #c :Cannot send to channel",
        ":irc.test 401 bob nobody :No such nick/channel",
    ]
    assert alice.take() == [f":{B} PRIVMSG alice :hi"]
    assert carol.take() == [f":{B} PRIVMSG carol :hi"]


def test_privmsg_errors(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("PRIVMSG") == [":irc.test 411 alice :No recipient given (PRIVMSG)"]
    assert alice.send("PRIVMSG alice") == [":irc.test 412 alice :No text to send"]
    assert alice.send("PRIVMSG alice :") == [":irc.test 412 alice :No text to send"]
    assert alice.send("PRIVMSG a,b,c,d,e :x") == [
        ":irc.test 407 alice a,b,c,d,e :Too many targets (max 4)"
    ]
    assert alice.send("PRIVMSG #nowhere :x") == [
        ":irc.test 401 alice #nowhere :No such nick/channel"
    ]


def test_notice_never_answers_with_errors(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    assert alice.send("NOTICE", "NOTICE :bob", "NOTICE nobody :x", "NOTICE a,b,c,d,e :x") == []
    assert alice.send("NOTICE bob :psst") == []
    assert bob.take() == [f":{A} NOTICE bob :psst"]


def test_moderated_no_external_and_bans(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    alice.send("JOIN #m")
    bob.send("JOIN #m")
    alice.send("MODE #m +m")
    bob.take()
    assert bob.send("PRIVMSG #m :can I talk?") == [":irc.test 404 bob #m :Cannot send to channel"]
    alice.send("MODE #m +v bob")
    bob.take()
    assert bob.send("PRIVMSG #m :now I can") == []
    assert alice.take() == [f":{B} PRIVMSG #m :now I can"]
    assert carol.send("PRIVMSG #m :outside") == [":irc.test 404 carol #m :Cannot send to channel"]
    alice.send("MODE #m -mn", "MODE #m +b carol!*@*")
    assert carol.send("PRIVMSG #m :outside") == [":irc.test 404 carol #m :Cannot send to channel"]
    alice.send("MODE #m -b carol!*@*")
    alice.take()
    assert carol.send("PRIVMSG #m :outside") == []
    assert alice.take() == [":carol!~carol@127.0.0.1 PRIVMSG #m :outside"]


def test_away_reply_for_privmsg_only(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    bob.send("AWAY :lunch")
    assert alice.send("PRIVMSG bob :there?") == [":irc.test 301 alice bob :lunch"]
    assert alice.send("NOTICE bob :fyi") == []


def test_idle_time_resets_on_privmsg(core: CoreHarness) -> None:
    alice = core.register("alice")
    core.tick(30)
    alice.send("PRIVMSG alice :note to self")
    assert alice.session.last_active == core.clock.now
