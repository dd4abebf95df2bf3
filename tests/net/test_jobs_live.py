"""Work off the loop that fails in the real server: through a worker thread and the
wake-up socket, the client gets the 400 of a failed command and the log the traceback.

No client input makes scrypt fail, so the server under test gets a fault injected at
start-up: a `sitecustomize` module on its PYTHONPATH breaks password hashing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from liveserver import LiveServer, inject_fault

BREAK_HASHING = """
import miniircd.core.server  # the import order the server itself uses
from miniircd.core.commands import accounts


def broken(password):
    raise RuntimeError("the worker broke")


accounts.hash_password = broken
"""


def test_a_job_whose_work_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in inject_fault(tmp_path, BREAK_HASHING).items():
        monkeypatch.setenv(key, value)
    server = LiveServer(tmp_path)
    server.start()
    alice = server.client("alice")
    alice.send("REGISTER * * password1", "PING :after")
    assert alice.lines_until("PONG") == [
        ":irc.test 400 alice REGISTER :Internal server error",
        ":irc.test PONG irc.test :after",
    ]
    alice.send("WHOIS alice")
    assert not any(" 330 " in line for line in alice.lines_until(" 318 "))  # not logged in
    log = server.log()
    assert "job for REGISTER failed" in log
    assert "Traceback" in log and "RuntimeError: the worker broke" in log
    assert server.stop() == 0
