"""Work off the loop that fails: the job carries its error, never a result of None.

The client gets the reply of a command that failed through a bug, `400 <nick> <verb>
:Internal server error` with the verb of the command that started the job; its
continuation is not called; the log keeps the traceback; the lines sent after it run.
"""

from __future__ import annotations

import logging

import pytest

from harness import CoreHarness, plain_python_only
from miniircd.core.commands import accounts

PW = "password1"


def boom(*args: object) -> str:
    raise RuntimeError("the worker broke")


@pytest.fixture
def broken_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "hash_password", boom)


@pytest.fixture
def broken_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "verify_password", boom)


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.usefixtures("broken_hash")
def test_failed_work_answers_400_with_the_verb(
    core: CoreHarness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = core.register("alice")
    assert alice.send(f"REGISTER * * {PW}", "PING :next") == [
        ":irc.test 400 alice REGISTER :Internal server error",
        ":irc.test PONG irc.test :next",
    ]
    assert core.store.get_account("alice") is None  # the continuation never ran
    (record,) = failures(caplog)
    assert "REGISTER" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "the worker broke" in caplog.text and "Traceback" in caplog.text


@pytest.mark.usefixtures("broken_hash")
def test_lines_behind_a_failed_job_wait_for_its_400(core: CoreHarness) -> None:
    alice = core.register("alice")
    core.hold_jobs = True
    assert alice.send(f"REGISTER * * {PW}", "PING :next") == []
    core.finish_jobs()
    assert alice.take() == [
        ":irc.test 400 alice REGISTER :Internal server error",
        ":irc.test PONG irc.test :next",
    ]


@pytest.mark.usefixtures("broken_hash")
def test_a_labelled_command_gets_its_400_labelled(core: CoreHarness) -> None:
    alice = core.connect()
    alice.send("CAP REQ :labeled-response", "NICK alice", "USER a 0 * :A", "CAP END")
    assert alice.send(f"@label=r1 REGISTER * * {PW}") == [
        "@label=r1 :irc.test 400 alice REGISTER :Internal server error"
    ]


@pytest.mark.usefixtures("broken_check")
def test_failed_password_check_through_nickserv(core: CoreHarness) -> None:
    core.register("alice").send(f"REGISTER * * {PW}", "QUIT")
    bob = core.register("bob")
    assert bob.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}") == [
        ":irc.test 400 bob PRIVMSG :Internal server error"
    ]
    assert bob.session.account is None


@pytest.mark.usefixtures("broken_check")
def test_failed_pass_login_still_lets_registration_finish(core: CoreHarness) -> None:
    core.register("alice").send(f"REGISTER * * {PW}", "QUIT")
    client = core.connect()
    lines = client.send(f"PASS alice:{PW}", "NICK alice", "USER a 0 * :A")
    # PASS is checked as registration completes: USER is the command that started the job
    assert lines[0] == ":irc.test 400 alice USER :Internal server error"
    assert lines[1].startswith(":irc.test 001 alice ")
    assert client.session.account is None


@plain_python_only
def test_a_bug_in_the_continuation_names_the_command_too(
    core: CoreHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_login(*args: object) -> None:
        raise RuntimeError("the continuation broke")

    monkeypatch.setattr(accounts, "login", broken_login)
    alice = core.register("alice")
    assert alice.send(f"REGISTER * * {PW}") == [
        ":irc.test 400 alice REGISTER :Internal server error"
    ]
    assert "the continuation broke" in caplog.text


@pytest.mark.usefixtures("broken_hash")
def test_a_failed_job_of_a_session_that_left_is_only_logged(
    core: CoreHarness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = core.register("alice")
    core.hold_jobs = True
    alice.send(f"REGISTER * * {PW}")
    core.server.connection_lost(alice.session, "Connection reset", core.clock.now)
    core.deliver()
    alice.take()
    core.finish_jobs()
    assert alice.take() == []
    (record,) = failures(caplog)
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
