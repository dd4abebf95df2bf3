"""The structured (logfmt) log format, and what the server logs about clients."""

from __future__ import annotations

import logging

import pytest

from harness import CoreHarness
from miniircd.logs import LogfmtFormatter, fields


def render(msg: str, **extra: object) -> str:
    record = logging.LogRecord("miniircd.core", logging.INFO, "x", 1, msg, (), None)
    record.__dict__.update(fields(**extra))
    record.created, record.msecs = 1_700_000_000.0, 123.0
    return LogfmtFormatter().format(record)


def test_logfmt_quotes_only_when_needed() -> None:
    line = render("client registered", nick="alice", realname='A "quoted" name')
    assert line == (
        'ts=2023-11-14T22:13:20.123Z level=info logger=miniircd.core msg="client registered"'
        ' nick=alice realname="A \\"quoted\\" name"'
    )
    assert "\n" not in render("two\nlines")


def test_logins_are_logged_without_passwords(caplog: pytest.LogCaptureFixture) -> None:
    core = CoreHarness()
    with caplog.at_level(logging.INFO):
        client = core.register("alice")
        client.send("REGISTER * * Canary-Password-1")  # hashed on a worker: answered later
        client.send("PRIVMSG NickServ :LOGOUT")
        client.send("PRIVMSG NickServ :IDENTIFY wrong-Canary-2")
    messages = [(r.getMessage(), getattr(r, "fields", {})) for r in caplog.records]
    assert ("client registered", {"nick": "alice", "host": "127.0.0.1"}) in messages
    assert ("login failed", {"account": "alice", "host": "127.0.0.1"}) in messages
    assert "Canary" not in caplog.text
