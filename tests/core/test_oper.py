"""Transcript tests for OPER and KILL."""

from __future__ import annotations

import pytest

from harness import CoreHarness
from miniircd.config import Operator
from miniircd.store.passwords import hash_password

OPERATORS = (Operator("admin", hash_password("pw")),)


@pytest.fixture
def core() -> CoreHarness:
    return CoreHarness(operators=OPERATORS)


def oper_count(core: CoreHarness) -> str:
    client = core.register("counter")
    (line,) = [line for line in client.send("LUSERS") if " 252 " in line]
    client.send("QUIT")
    return line


def test_oper_success(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("OPER admin pw") == [
        ":irc.test 381 alice :You are now an IRC operator",
        ":alice MODE alice +o",
    ]
    assert "o" in alice.session.modes
    assert alice.send("MODE alice") == [":irc.test 221 alice :+o"]
    assert oper_count(core) == ":irc.test 252 counter 1 :operator(s) online"
    # again: the reply only, no second mode change and no double count
    assert alice.send("OPER admin pw") == [":irc.test 381 alice :You are now an IRC operator"]
    assert oper_count(core) == ":irc.test 252 counter 1 :operator(s) online"


def test_oper_count_follows_deoper_and_quit(core: CoreHarness) -> None:
    alice = core.register("alice")
    bob = core.register("bob")
    alice.send("OPER admin pw")
    bob.send("OPER admin pw")
    assert alice.send("MODE alice -o") == [":alice MODE alice -o"]
    assert oper_count(core) == ":irc.test 252 counter 1 :operator(s) online"
    bob.send("QUIT")
    assert oper_count(core) == ":irc.test 252 counter 0 :operator(s) online"


def test_oper_unknown_name_491(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("OPER root pw") == [":irc.test 491 alice :No O-lines for your host"]
    assert alice.send("OPER ADMIN pw") == [":irc.test 491 alice :No O-lines for your host"]
    assert "o" not in alice.session.modes


def test_oper_wrong_password_464(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("OPER admin nope") == [":irc.test 464 alice :Password incorrect"]
    assert "o" not in alice.session.modes
    assert oper_count(core) == ":irc.test 252 counter 0 :operator(s) online"


def test_oper_without_operators_configured() -> None:
    core = CoreHarness()
    alice = core.register("alice")
    assert alice.send("OPER admin pw") == [":irc.test 491 alice :No O-lines for your host"]


def test_oper_needs_two_params_461(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("OPER admin") == [":irc.test 461 alice OPER :Not enough parameters"]


def test_kill_needs_oper_481(core: CoreHarness) -> None:
    alice = core.register("alice")
    bob = core.register("bob")
    assert alice.send("KILL bob :bye") == [
        ":irc.test 481 alice :Permission Denied- You're not an IRC operator"
    ]
    assert not bob.closed


def test_kill_errors_401_483(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("OPER admin pw")
    assert alice.send("KILL ghost :bye") == [":irc.test 401 alice ghost :No such nick/channel"]
    assert alice.send("KILL irc.test :bye") == [":irc.test 483 alice :You cant kill a server!"]
    assert alice.send("KILL bob") == [":irc.test 461 alice KILL :Not enough parameters"]


def test_kill_disconnects_and_peers_see_quit(core: CoreHarness) -> None:
    alice = core.register("alice")
    bob = core.register("bob")
    carol = core.register("carol")
    bob.send("JOIN #c")
    carol.send("JOIN #c")
    bob.take()
    alice.send("OPER admin pw")
    assert alice.send("KILL BOB :spamming the channel") == []
    assert bob.take() == [
        ":alice!~alice@127.0.0.1 KILL bob :spamming the channel",
        "ERROR :Closing link: bob[127.0.0.1] (Killed (alice (spamming the channel)))",
    ]
    assert bob.closed
    assert carol.take() == [":bob!~bob@127.0.0.1 QUIT :Killed (alice (spamming the channel))"]
    assert core.server.state.find_nick("bob") is None
    assert core.register("bob")  # the nick is free again
