"""Transcript tests for WALLOPS and user mode +w, which chooses who receives it."""

from __future__ import annotations

from harness import CoreClient, CoreHarness
from miniircd.config import Operator
from miniircd.store.passwords import hash_password

NOT_OPER = ":irc.test 481 {} :Permission Denied- You're not an IRC operator"


def opered(core: CoreHarness, nick: str) -> CoreClient:
    client = core.register(nick)
    assert ":irc.test 381 " + nick + " :You are now an IRC operator" in client.send("OPER op pw")
    return client


def with_oper() -> CoreHarness:
    return CoreHarness(operators=(Operator("op", hash_password("pw")),))


# -- user mode +w ----------------------------------------------------------------------------


def test_w_is_advertised_in_004(core: CoreHarness) -> None:
    client = core.connect()
    lines = client.send("NICK alice", "USER alice 0 * :Alice")
    (myinfo,) = [line for line in lines if line.split()[1] == "004"]
    assert myinfo.split()[5] == "Biow"


def test_w_is_set_shown_and_unset_by_its_user(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("MODE alice -w") == []  # not set: nothing changed, nothing echoed
    assert alice.send("MODE alice +w") == [":alice MODE alice +w"]
    assert alice.send("MODE alice +w") == []
    assert alice.send("MODE alice") == [":irc.test 221 alice :+w"]
    assert alice.send("MODE alice +iw") == [":alice MODE alice +i"]
    assert alice.send("MODE alice") == [":irc.test 221 alice :+iw"]
    assert alice.send("MODE alice -w+x") == [
        ":irc.test 501 alice :Unknown MODE flag",
        ":alice MODE alice -w",
    ]
    assert "w" not in alice.session.modes


# -- WALLOPS ---------------------------------------------------------------------------------


def test_wallops_reaches_every_w_user_and_no_one_else() -> None:
    core = with_oper()
    oper = opered(core, "nick1")
    quiet = core.register("nick2")
    reader = core.register("nick3")
    quiet.send("MODE nick2 -w")
    reader.send("MODE nick3 +w")
    assert oper.send("WALLOPS :hi everyone") == []  # the sender has no +w
    assert reader.take() == [":nick1!~nick1@127.0.0.1 WALLOPS :hi everyone"]
    assert quiet.take() == []


def test_wallops_reaches_the_sender_with_w_and_one_word_gets_a_colon() -> None:
    core = with_oper()
    oper = opered(core, "nick1")
    oper.send("MODE nick1 +w")
    assert oper.send("WALLOPS hello") == [":nick1!~nick1@127.0.0.1 WALLOPS :hello"]


def test_wallops_is_for_operators_only(core: CoreHarness) -> None:
    alice = core.register("alice")
    bob = core.register("bob")
    bob.send("MODE bob +w")
    assert alice.send("WALLOPS :hi everyone") == [NOT_OPER.format("alice")]
    assert alice.send("WALLOPS") == [NOT_OPER.format("alice")]  # 481 before 461
    assert bob.take() == []


def test_wallops_needs_text() -> None:
    core = with_oper()
    oper = opered(core, "nick1")
    need = ":irc.test 461 nick1 WALLOPS :Not enough parameters"
    assert oper.send("WALLOPS") == [need]
    assert oper.send("WALLOPS :") == [need]
