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
