"""Reloading `[[links]]` on a running server (SIGHUP; REHASH takes the same path) with
real sockets: a changed block is dialed afresh, a removed block's link is closed as a
netsplit and not dialed again, a new block is dialed.

a.test on 127.0.0.2 dials b.test on 127.0.0.3, which waits for it.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from liveserver import DEADLINE, LiveServer
from ngircd import free_port, wait_linked

B_CONFIG = '[[links]]\nname = "a.test"\nsend_password = "b-to-a"\naccept_password = "a-to-b"\n'


def link_block(name: str, port: int, retry: int) -> str:
    return (
        f'[[links]]\nname = "{name}"\nhost = "127.0.0.3"\nport = {port}\nconnect = true\n'
        f'send_password = "a-to-b"\naccept_password = "b-to-a"\n'
        f"retry = {retry}\nretry_max = {max(retry, 1)}\n"
    )


def reload(server: LiveServer, path: Path, config: str) -> None:
    """Rewrite the config file, SIGHUP, and wait for the reload's log line."""
    before = server.log().count("configuration reloaded")
    path.write_text(config)
    assert server.proc is not None
    server.proc.send_signal(signal.SIGHUP)
    wait_count(server, "configuration reloaded", before + 1)


def wait_count(server: LiveServer, text: str, count: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while server.log().count(text) < count:
        assert time.monotonic() < deadline, f"{server.name}: {text!r} x{count}:\n{server.log()}"
        time.sleep(0.05)


def test_reload_adds_changes_and_drops_links(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "b.toml").write_text(B_CONFIG)
    b = LiveServer(tmp_path / "b", "--config", str(tmp_path / "b" / "b.toml"),
                   host="127.0.0.3", name="b.test")  # fmt: skip
    b.start()
    a_path = tmp_path / "a" / "a.toml"
    dead = free_port("127.0.0.3")
    a_path.write_text(link_block("b.test", dead, 300))  # next try in 5 minutes
    a = LiveServer(tmp_path / "a", "--config", str(a_path), host="127.0.0.2", name="a.test")
    a.start()
    wait_count(a, "link b.test: cannot connect: ECONNREFUSED; retrying in 300s", 1)

    # Changed: the right port, dialed at once rather than after the old back-off.
    reload(a, a_path, link_block("b.test", b.port, 1))
    wait_linked(a)
    wait_linked(b)
    bob = b.client("bob")
    alice = a.client("alice")
    bob.send("JOIN #room")
    bob.expect(" 366 bob #room ")
    alice.send("JOIN #room")
    bob.expect(r"^:alice!~alice@\S+ JOIN #room$")

    # Removed (and a new block added): the link closes as a netsplit on both sides ...
    reload(a, a_path, link_block("c.test", dead, 1))
    bob.expect(r"^:alice!~alice@\S+ QUIT :b\.test a\.test$")
    alice.expect(r"^:bob!~bob@\S+ QUIT :a\.test b\.test$")
    wait_count(a, "link b.test: removed from the configuration; closing it", 1)
    # ... the new block is dialed, and the removed one is not, though its retry (1 s)
    # passed well before the new block's third try (at 0, 1 and 2 s).
    wait_count(a, "link c.test: cannot connect", 3)
    assert a.log().count("link b.test: connected to") == 1
    assert b.log().count("linked with a.test") == 1
