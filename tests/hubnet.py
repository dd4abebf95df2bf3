"""A services network of three miniircd servers on real sockets, for the live tests of
core.replica and core.replica_rooms: a.test (the hub) and c.test both dial b.test, so
that the hub, killed or stopped and started again, finds b.test where it was. Each server
has its own 127.0.0.x; the tests read the servers' SQLite files while they run (WAL
readers see what is committed)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from liveserver import DEADLINE, LiveServer
from ngircd import wait_linked


def _block(name: str, host: str, send: str, accept: str, port: int | None = None) -> str:
    dial = f'host = "{host}"\nport = {port}\nconnect = true\nretry = 1\n' if port else ""
    return (
        f'\n[[links]]\nname = "{name}"\nsend_password = "{send}"\n'
        f'accept_password = "{accept}"\n{dial}'
    )


def _server(tmp_path: Path, name: str, host: str, settings: str, links: str) -> LiveServer:
    directory = tmp_path / name
    directory.mkdir()
    config = directory / "server.toml"
    config.write_text(f'{settings}\n[accounts]\nservices_hub = "a.test"\n{links}')
    server = LiveServer(directory, "--config", str(config), host=host, name=name)
    server.start()
    return server


def hub_network(
    tmp_path: Path, hosts: tuple[str, str, str], settings: str = ""
) -> tuple[LiveServer, LiveServer, LiveServer]:
    """a.test, b.test and c.test on `hosts`, linked, with `settings` (TOML) on each."""
    a_host, b_host, c_host = hosts
    b_links = _block("a.test", a_host, "b>a", "a>b") + _block("c.test", c_host, "b>c", "c>b")
    b = _server(tmp_path, "b.test", b_host, settings, b_links)
    to_b = _block("b.test", b_host, "a>b", "b>a", b.port)
    a = _server(tmp_path, "a.test", a_host, settings, to_b)
    wait_linked(a)
    to_b = _block("b.test", b_host, "c>b", "b>c", b.port)
    c = _server(tmp_path, "c.test", c_host, settings, to_b)
    wait_linked(c)
    return a, b, c


def query(live: LiveServer, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows of a read-only query on a running server's SQLite file ([] before the table
    is made)."""
    db = sqlite3.connect(f"file:{live.data_dir / 'miniircd.sqlite3'}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # not made yet
        return []
    finally:
        db.close()


def wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 3 * DEADLINE
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")
