"""Flood control over real sockets: a flooder is slowed, then cut off; others never notice."""

from __future__ import annotations

import time

from liveserver import LiveServer


def test_flooder_is_disconnected_and_honest_client_unaffected(live: LiveServer) -> None:
    honest = live.client("honest")
    flooder = live.client("flooder")
    flooder.send(*(f"PRIVMSG honest :spam {n}" for n in range(400)))
    lines = flooder.expect_closed()
    assert lines[-1] == "ERROR :Closing link: flooder[127.0.0.1] (Excess Flood)"
    received = 0
    try:  # the burst got through, the rest was never delivered
        while received <= 50 and "spam" in (honest.read_line(time.monotonic() + 1) or ""):
            received += 1
    except TimeoutError:
        pass  # a quiet second: nothing more is coming
    assert 0 < received <= 20
    started = time.monotonic()
    honest.send("PING :still-fine")
    honest.expect("PONG .*still-fine")
    assert time.monotonic() - started < 1.0
