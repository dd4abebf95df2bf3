"""REHASH and reloading: what applies at once, what needs a restart, and errors."""

from __future__ import annotations

from harness import CoreClient, CoreHarness
from miniircd.config import Operator
from miniircd.store.passwords import hash_password

ADMIN = (Operator("admin", hash_password("secret-pw")),)


def oper(core: CoreHarness) -> CoreClient:
    client = core.register("admin")
    lines = client.send("OPER admin secret-pw")
    assert lines[0] == ":irc.test 381 admin :You are now an IRC operator"
    return client


def test_rehash_needs_an_operator(core: CoreHarness) -> None:
    client = core.register("user")
    assert client.send("REHASH") == [
        ":irc.test 481 user :Permission Denied- You're not an IRC operator"
    ]
    assert core.server.rehash_requests == []


def test_reload_applies_settings_and_reports_restart_ones() -> None:
    core = CoreHarness(operators=ADMIN)
    admin = oper(core)
    assert admin.send("REHASH") == []  # answered once the loop has reread the file
    new = core.server.config.replace(motd=("Fresh MOTD",), nicklen=12, port=7000)
    core.server.rehash(new, "/etc/miniircd.toml", core.clock.now)
    core.deliver()
    assert admin.take() == [
        ":irc.test 382 admin /etc/miniircd.toml :Rehashing",
        ":irc.test NOTICE admin :Configuration reloaded; needs a restart: port",
    ]
    assert core.server.config.port == 6667  # kept until a restart
    lines = core.register("late").send("MOTD")
    assert lines[1] == ":irc.test 372 late :- Fresh MOTD"
    assert any("NICKLEN=12" in line for line in core.register("newbie").send("VERSION"))


def test_sighup_reload_without_requester_and_bad_file() -> None:
    core = CoreHarness(operators=ADMIN)
    admin = oper(core)
    core.server.rehash(core.server.config.replace(awaylen=10), "SIGHUP", core.clock.now)
    core.deliver()
    assert admin.take() == []  # nobody asked: only the log hears of it
    assert core.server.config.awaylen == 10
    admin.send("REHASH")
    core.server.rehash("config file x.toml: unknown key bogus", "x.toml", core.clock.now)
    core.deliver()
    assert admin.take() == [
        ":irc.test 382 admin x.toml :Rehashing",
        ":irc.test FAIL REHASH CONFIG_BAD :config file x.toml: unknown key bogus",
    ]
    assert core.server.config.awaylen == 10  # the old configuration stays


def test_flood_limits_reload_keeps_held_lines() -> None:
    core = CoreHarness(flood_enabled=True, flood_burst=2, flood_rate=1.0)
    client = core.register("slow")
    core.clock.now += 5
    client.send("PING :1", "PING :2", "PING :3")  # the third waits
    core.server.rehash(core.server.config.replace(flood_rate=10.0), "SIGHUP", core.clock.now)
    core.clock.now += 0.2  # one token at the new rate (two at most), none at the old
    core.server.release_held(core.clock.now)
    core.deliver()
    assert client.take() == [":irc.test PONG irc.test :3"]
