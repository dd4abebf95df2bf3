"""MONITOR over real loopback sockets: a watcher hears a nick come online and leave."""

from __future__ import annotations

from liveserver import LiveServer


def test_monitor_sign_on_and_sign_off(live: LiveServer) -> None:
    watcher = live.client()
    burst = watcher.register("watcher")
    isupport = " ".join(line for line in burst if " 005 " in line).split()
    assert "MONITOR=100" in isupport
    assert "WHOX" in isupport
    watcher.send("MONITOR + Target")
    assert watcher.expect(" 73[01] ") == ":irc.test 731 watcher :Target"
    target = live.client("target")
    assert watcher.expect(" 73[01] ") == ":irc.test 730 watcher :target!~target@127.0.0.1"
    target.send("QUIT :bye")
    target.expect_closed()
    assert watcher.expect(" 73[01] ") == ":irc.test 731 watcher :target"
    target.close()
    watcher.close()


def test_monitor_nick_changes(live: LiveServer) -> None:
    watcher = live.client("watcher")
    watcher.send("MONITOR + alice,Alicia")
    assert watcher.expect(" 73[01] ") == ":irc.test 731 watcher :alice,Alicia"
    alice = live.client("alice")
    assert watcher.expect(" 73[01] ") == ":irc.test 730 watcher :alice!~alice@127.0.0.1"
    alice.send("NICK Alice")  # a change of case only: watchers hear nothing
    alice.expect("NICK")
    alice.send("NICK alicia")
    # the next thing the watcher hears is the sign-off of the old nick, as the user spelled it
    assert watcher.expect(" 73[01] ") == ":irc.test 731 watcher :Alice"
    assert watcher.expect(" 73[01] ") == ":irc.test 730 watcher :alicia!~alice@127.0.0.1"
    alice.close()
    watcher.close()
