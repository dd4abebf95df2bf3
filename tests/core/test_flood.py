"""Flood control ("fakelag"): a burst, then a steady rate; excess waits; abuse is cut off."""

from __future__ import annotations

from harness import CoreHarness

FLOODY = {"flood_enabled": True, "flood_burst": 3, "flood_rate": 2.0, "flood_backlog": 5}


def pongs(lines: list[str]) -> list[str]:
    return [line.rsplit(":", 1)[1] for line in lines if " PONG " in line]


def release(core: CoreHarness, seconds: float) -> None:
    core.clock.now += seconds
    core.server.release_held(core.clock.now)
    core.deliver()


def test_burst_then_delayed_not_dropped() -> None:
    core = CoreHarness(**FLOODY)
    client = core.register("alice")  # NICK + USER used two of the three tokens
    core.clock.now += 10  # back to a full bucket
    lines = client.send(*(f"PING :{n}" for n in range(6)))
    assert pongs(lines) == ["0", "1", "2"]
    assert core.server.release_held(core.clock.now) == 0.5  # seconds until the next token
    release(core, 0.5)
    assert pongs(client.take()) == ["3"]
    release(core, 1.0)
    assert pongs(client.take()) == ["4", "5"]  # in order, none lost
    assert core.server.release_held(core.clock.now) is None


def test_sustained_abuse_is_disconnected() -> None:
    core = CoreHarness(**FLOODY)
    client = core.register("flooder")
    lines = client.send(*(f"PRIVMSG flooder :{n}" for n in range(20)))
    assert lines[-1] == "ERROR :Closing link: flooder[127.0.0.1] (Excess Flood)"
    assert client.closed


def test_steady_client_is_never_delayed() -> None:
    core = CoreHarness(**FLOODY)
    client = core.register("calm")
    for n in range(20):
        core.clock.now += 0.5  # exactly the rate
        assert pongs(client.send(f"PING :{n}")) == [str(n)]


def test_pong_and_operators_are_exempt() -> None:
    core = CoreHarness(**FLOODY)
    client = core.register("pinger")
    assert client.send(*(["PONG :x"] * 30)) == []
    assert not client.closed
    core.server.state.set_user_mode(client.session, "o", True)
    assert len(pongs(client.send(*(f"PING :{n}" for n in range(30))))) == 30


def test_disabled() -> None:
    core = CoreHarness(**{**FLOODY, "flood_enabled": False})
    client = core.register("free")
    assert len(pongs(client.send(*(f"PING :{n}" for n in range(50))))) == 50
