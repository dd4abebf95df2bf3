"""Reloading a running server: an operator's REHASH and SIGHUP reread the config file.

What can change applies at once (limits, MOTD, flood control...); what cannot (listeners,
data dir, server name) is named in the reply; a broken file changes nothing.
"""

from __future__ import annotations

import signal
from pathlib import Path

from liveserver import LineClient, LiveServer
from miniircd.store.passwords import hash_password

OPERATOR = f'[[operators]]\nname = "admin"\npassword_hash = "{hash_password("s3cret")}"\n'


def write_config(path: Path, general: str) -> None:
    path.write_text(f"[server]\n{general}\n{OPERATOR}", encoding="utf-8")


def start_with_operator(tmp_path: Path, general: str) -> tuple[LiveServer, LineClient, Path]:
    """A server on a config file, and a client that is an operator on it."""
    config = tmp_path / "miniircd.toml"
    write_config(config, general)
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    admin = server.client("admin")
    admin.send("OPER admin s3cret")
    admin.expect(" 381 ")
    return server, admin, config


def test_rehash_applies_the_new_file(tmp_path: Path) -> None:
    server, admin, config = start_with_operator(tmp_path, 'motd = ["first motd"]')
    write_config(config, 'motd = ["second motd"]\nnetwork = "NewNet"\nserver_name = "other.test"')
    admin.send("REHASH")
    assert admin.expect(" 382 ") == f":irc.test 382 admin {config} :Rehashing"
    notice = admin.expect(" NOTICE admin ")
    # The command line's --server-name outranks the file, so nothing here needs a restart
    # (tests/core/test_rehash.py covers one that does).
    assert notice.endswith(":Configuration reloaded; all settings applied")
    fresh = server.client()
    welcome = fresh.register("bob")
    assert any(" 005 bob " in line and "NETWORK=NewNet" in line for line in welcome)
    assert any(line.endswith(":- second motd") for line in welcome)
    assert any(line.startswith(":irc.test 001 ") for line in welcome)  # the old name stays
    admin.close()
    fresh.close()
    assert server.stop() == 0


def test_a_broken_file_changes_nothing_and_says_why(tmp_path: Path) -> None:
    server, admin, config = start_with_operator(tmp_path, 'motd = ["kept motd"]')
    write_config(config, "bogus_key = 1")
    admin.send("REHASH")
    admin.expect(" 382 ")
    fail = admin.expect(" FAIL ")
    assert fail.startswith(":irc.test FAIL REHASH CONFIG_BAD :") and "bogus_key" in fail
    fresh = server.client()
    assert any(line.endswith(":- kept motd") for line in fresh.register("bob"))
    assert "configuration not reloaded" in server.log()
    admin.close()
    fresh.close()
    assert server.stop() == 0


def test_sighup_reloads_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "miniircd.toml"
    write_config(config, 'motd = ["before the hangup"]')
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    write_config(config, 'motd = ["after the hangup"]')
    assert server.proc is not None
    server.proc.send_signal(signal.SIGHUP)
    watcher = server.client()
    deadline_lines = watcher.register("watcher")
    # The signal and the registration race: ask for the MOTD again until it is the new one.
    for _ in range(50):
        if any(line.endswith(":- after the hangup") for line in deadline_lines):
            break
        watcher.send("MOTD")
        deadline_lines = watcher.lines_until(" 376 ")
    assert any(line.endswith(":- after the hangup") for line in deadline_lines)
    assert "configuration reloaded" in server.log()
    watcher.close()
    assert server.stop() == 0
