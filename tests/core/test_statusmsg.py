"""Transcript tests for STATUSMSG (`PRIVMSG @#chan`, `+#chan`) and channel mode +C."""

from __future__ import annotations

import re

from harness import CoreClient, CoreHarness


def room(core: CoreHarness) -> tuple[CoreClient, CoreClient, CoreClient, CoreClient]:
    """#c with op alice, voiced vic, plain joe, and op-to-be sam (a plain member too)."""
    clients = [core.register(nick) for nick in ("alice", "vic", "joe", "sam")]
    for client in clients:
        client.send("JOIN #c")
    clients[0].send("MODE #c +v vic")
    for client in clients:
        client.take()
    alice, vic, joe, sam = clients
    return alice, vic, joe, sam


def stored_count(core: CoreHarness) -> int:
    count: int = core.store.db.execute(
        "SELECT count(*) FROM messages WHERE verb IN ('PRIVMSG', 'NOTICE')"
    ).fetchone()[0]
    return count


def test_op_message_reaches_ops_only_and_is_not_stored(core: CoreHarness) -> None:
    alice, vic, joe, sam = room(core)
    alice.send("MODE #c +o sam")
    for client in (vic, joe, sam):
        client.take()
    assert sam.send("PRIVMSG @#C :for operators") == []
    assert alice.take() == [":sam!~sam@127.0.0.1 PRIVMSG @#c :for operators"]
    assert vic.take() == [] and joe.take() == []
    assert joe.send("NOTICE @#c :plain members may write to ops") == []
    assert alice.take() == [":joe!~joe@127.0.0.1 NOTICE @#c :plain members may write to ops"]
    assert sam.take() == [":joe!~joe@127.0.0.1 NOTICE @#c :plain members may write to ops"]
    assert vic.take() == []
    assert stored_count(core) == 0
    # nor is it replayed to whoever joins next
    late = core.register("late")
    assert not any("operators" in line for line in late.send("JOIN #c"))


def test_voice_message_reaches_voiced_members_and_ops(core: CoreHarness) -> None:
    alice, vic, joe, sam = room(core)
    assert joe.send("PRIVMSG +#c :voices") == []
    assert alice.take() == [":joe!~joe@127.0.0.1 PRIVMSG +#c :voices"]
    assert vic.take() == [":joe!~joe@127.0.0.1 PRIVMSG +#c :voices"]
    assert sam.take() == []
    # several symbols: the lowest rank named decides
    assert sam.send("PRIVMSG @+#c :both") == []
    assert alice.take() == [":sam!~sam@127.0.0.1 PRIVMSG @+#c :both"]
    assert vic.take() == [":sam!~sam@127.0.0.1 PRIVMSG @+#c :both"]
    assert joe.take() == []


def test_echo_and_tags_as_for_a_channel_message(core: CoreHarness) -> None:
    alice, _vic, _joe, _sam = room(core)
    modern = core.connect()
    modern.send("CAP REQ :echo-message message-tags", "NICK m", "USER m 0 * :m", "CAP END")
    modern.send("JOIN #c")
    alice.send("MODE #c +v m")
    modern.take()
    (echo,) = modern.send("@+draft/react=x PRIVMSG @#c :hi ops")
    assert re.fullmatch(
        r"@msgid=[\w-]+;\+draft/react=x :m!~m@127\.0\.0\.1 PRIVMSG @#c :hi ops", echo
    )
    assert alice.take() == [":m!~m@127.0.0.1 PRIVMSG @#c :hi ops"]
    # TAGMSG: only members with message-tags (the sender's echo here)
    (echo,) = modern.send("@+typing=active TAGMSG +#c")
    assert re.fullmatch(r"@msgid=[\w-]+;\+typing=active :m!\S+ TAGMSG \+#c", echo)
    assert alice.take() == []


def test_sender_must_be_allowed_to_speak(core: CoreHarness) -> None:
    alice, vic, joe, _sam = room(core)
    outsider = core.register("out")
    assert outsider.send("PRIVMSG @#c :let me in") == [
        ":irc.test 404 out #c :Cannot send to channel"
    ]
    alice.send("MODE #c +m")
    vic.take()
    joe.take()
    assert joe.send("PRIVMSG @#c :moderated") == [":irc.test 404 joe #c :Cannot send to channel"]
    assert vic.send("PRIVMSG @#c :voiced may") == []
    assert alice.take() == [":vic!~vic@127.0.0.1 PRIVMSG @#c :voiced may"]
    assert joe.send("PRIVMSG @#nope :x") == [":irc.test 401 joe @#nope :No such nick/channel"]
    assert joe.send("PRIVMSG @joe :x") == [":irc.test 401 joe @joe :No such nick/channel"]


# -- +C ------------------------------------------------------------------------------------


def test_no_ctcp_mode_lets_only_action_through(core: CoreHarness) -> None:
    alice, vic, joe, _sam = room(core)
    assert joe.send("PRIVMSG #c :\x01PING 1\x01") == []
    assert alice.take() == [":joe!~joe@127.0.0.1 PRIVMSG #c :\x01PING 1\x01"]
    assert alice.send("MODE #c +C") == [":alice!~alice@127.0.0.1 MODE #c +C"]
    assert alice.send("MODE #c")[0] == ":irc.test 324 alice #c :+Cnt"
    joe.take()
    vic.take()
    assert joe.send("PRIVMSG #c :\x01ACTION waves\x01") == []
    assert alice.take() == [":joe!~joe@127.0.0.1 PRIVMSG #c :\x01ACTION waves\x01"]
    vic.take()
    refused = ":irc.test 404 {} #c :Cannot send CTCP to channel (+C: only ACTION is allowed)"
    for text in ("\x01PING 12345\x01", "\x01VERSION\x01", "\x01", "\x01action-ish\x01"):
        assert joe.send(f"PRIVMSG #c :{text}") == [refused.format("joe")]
    assert alice.send("PRIVMSG @#c :\x01TIME\x01") == [refused.format("alice")]
    assert joe.send("NOTICE #c :\x01VERSION x\x01") == []  # NOTICE: refused silently
    assert alice.take() == [] and vic.take() == []
    assert stored_count(core) == 1  # the ACTION; a CTCP query is never kept
