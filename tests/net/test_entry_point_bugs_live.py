"""A bug in the core's entry points never takes the server down: the client whose line
hit it is dropped, a failed loop turn is logged, and everyone else carries on.

No client input reaches such a bug on purpose, so the server under test gets one injected
at start-up: a `sitecustomize` module on its PYTHONPATH wraps `Server.receive` and
`Server.tick` to raise when told to.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness import plain_python_only
from liveserver import DEADLINE, LiveServer, inject_fault

INJECT = """
import miniircd.core.server as server_module

receive, tick = server_module.Server.receive, server_module.Server.tick
ticks = []


def buggy_receive(self, session, raw, now):
    if b"TRIGGER-BUG" in raw:
        raise RuntimeError("injected bug in receive")
    receive(self, session, raw, now)


def buggy_tick(self, now):
    ticks.append(now)
    if len(ticks) == 2:
        raise RuntimeError("injected bug in tick")
    tick(self, now)


server_module.Server.receive = buggy_receive
server_module.Server.tick = buggy_tick
"""


@plain_python_only
def test_bugs_in_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in inject_fault(tmp_path, INJECT).items():
        monkeypatch.setenv(key, value)
    server = LiveServer(tmp_path)
    server.start()
    alice, bob = server.client("alice"), server.client("bob")
    alice.send("JOIN #room")
    alice.expect(" 366 ")
    bob.send("JOIN #room")
    bob.expect(" 366 ")
    bob.send("PRIVMSG #room :TRIGGER-BUG")
    assert bob.expect_closed()[-1] == "ERROR :Closing link: bob[127.0.0.1] (Internal error)"
    assert alice.expect("QUIT") == ":bob!~bob@127.0.0.1 QUIT :Internal error"
    alice.send("PING :still here")
    assert alice.expect("PONG") == ":irc.test PONG irc.test :still here"
    log = server.log()
    assert "bug while handling a line from <Session" in log
    assert "RuntimeError: injected bug in receive" in log
    deadline = time.monotonic() + DEADLINE  # the second tick comes a second after the first
    while "RuntimeError: injected bug in tick" not in server.log():
        assert time.monotonic() < deadline, "the injected tick bug never ran"
        time.sleep(0.05)
    assert "bug in a loop turn; carrying on" in server.log()
    carol = server.client("carol")  # the loop went on
    carol.send("PING :later")
    assert carol.expect("PONG") == ":irc.test PONG irc.test :later"
    assert server.stop() == 0
