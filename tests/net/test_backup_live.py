"""`miniircd backup DEST`: an online copy of the database, taken while the server is busy."""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from liveserver import DEADLINE, LiveServer, sasl_login_works, unlimited_config
from miniircd.store.sqlite import backup

PASSWORD = "vault-password"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miniircd", *args],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip


SPOKEN = "verb IN ('PRIVMSG', 'NOTICE')"  # the rows of room events are not messages


def contents(path: Path) -> tuple[set[str], dict[str, str], list[str]]:
    """Accounts, rooms with their topics and message texts in the database at `path`."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        accounts = {row[0] for row in db.execute("SELECT name FROM accounts")}
        rooms = dict(db.execute("SELECT name, topic FROM rooms").fetchall())
        texts = [row[0] for row in db.execute(f"SELECT text FROM messages WHERE {SPOKEN}")]
    finally:
        db.close()
    return accounts, rooms, texts


class Chatter:
    """A client that keeps talking in #vault and a member who records what it hears."""

    def __init__(self, server: LiveServer) -> None:
        self.talker = server.client("talker")
        self.ear = server.client("ear")
        for client in (self.talker, self.ear):
            client.send("JOIN #vault")
            client.expect(" 366 ")
        self.heard: list[str] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._guard(self._talk)),
            threading.Thread(target=self._guard(self._listen)),
        ]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _guard(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with contextlib.suppress(OSError):  # the link went away: the test is over
                work()

        return run

    def _talk(self) -> None:
        n = 0
        while not self.stop.wait(0.002):
            self.talker.send(*(f"PRIVMSG #vault :live-{n + k}" for k in range(20)))
            n += 20

    def _listen(self) -> None:
        while not self.stop.is_set():
            line = self.ear.read_line(time.monotonic() + DEADLINE)
            if line is None:
                return
            if " PRIVMSG #vault :" in line:
                self.heard.append(line.rsplit(" :", 1)[1])

    def wait_for(self, count: int) -> list[str]:
        """Wait until `count` messages were heard; a copy of those heard so far."""
        deadline = time.monotonic() + DEADLINE
        while len(self.heard) < count:
            assert time.monotonic() < deadline, f"only {len(self.heard)} messages heard"
            self.threads[1].join(0.01)
        return list(self.heard)

    def close(self) -> None:
        self.stop.set()
        self.threads[0].join(DEADLINE)
        with contextlib.suppress(OSError):
            self.ear.sock.shutdown(socket.SHUT_RDWR)  # wakes the listener up: end of stream
        self.threads[1].join(DEADLINE)
        self.talker.close()
        self.ear.close()


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[tuple[LiveServer, Chatter]]:
    """A live server with an account, a registered room, and messages streaming in."""
    server = LiveServer(tmp_path, "--config", str(unlimited_config(tmp_path)))
    server.start()
    alice = server.client("alice")
    alice.send(f"REGISTER * * {PASSWORD}")
    alice.expect("REGISTER SUCCESS")
    alice.send("JOIN #vault", "TOPIC #vault :kept safe")
    alice.expect("TOPIC #vault")
    alice.close()
    chatter = Chatter(server)
    try:
        yield server, chatter
    finally:
        chatter.close()
        server.stop()


def test_backup_while_busy_then_restore(tmp_path: Path, busy: tuple[LiveServer, Chatter]) -> None:
    server, chatter = busy
    before = chatter.wait_for(2000)  # stored before the backup starts: the backup has them
    dest = tmp_path / "backup.sqlite3"
    result = run_cli("backup", str(dest), "--data-dir", str(server.data_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"miniircd: backed up {server.data_dir} to {dest} (")
    assert result.stderr == ""
    assert server.alive()
    during = chatter.wait_for(len(chatter.heard) + 200)  # the server kept going throughout
    assert len(during) > len(before)

    accounts, rooms, texts = contents(dest)
    assert "alice" in accounts
    assert rooms["#vault"] == "kept safe"
    assert set(before) <= set(texts)
    assert len(texts) == len(set(texts))
    assert sorted(p.name for p in tmp_path.glob("*backup*")) == ["backup.sqlite3"]  # one file

    restored = tmp_path / "restored"
    (restored / "data").mkdir(parents=True)
    shutil.copy(dest, restored / "data" / "miniircd.sqlite3")
    second = LiveServer(restored)
    second.start()
    try:
        assert sasl_login_works(second.port, "alice", PASSWORD)
        assert not sasl_login_works(second.port, "alice", "not-the-password")
        client = second.client("visitor")
        client.send("LIST")
        listed = client.lines_until(" 323 ")
        assert any(re.search(r" 322 visitor #vault \d+ :kept safe$", line) for line in listed)
    finally:
        assert second.stop() == 0


def test_backup_never_overwrites_and_errors_are_one_line(
    tmp_path: Path, busy: tuple[LiveServer, Chatter]
) -> None:
    server, _ = busy
    dest = tmp_path / "exists.sqlite3"
    dest.write_bytes(b"an older backup")
    missing_dir = tmp_path / "no-such-data"
    cases = {
        ("backup", str(dest), "--data-dir", str(server.data_dir)): "already exists",
        ("backup", str(tmp_path / "x.sqlite3"), "--data-dir", str(missing_dir)): "no database",
        ("backup", str(tmp_path / "no" / "dir.sqlite3"), "--data-dir", str(server.data_dir)): (
            "no folder"
        ),
        ("backup",): "required: DEST",
        ("backup", "a", "b"): "unrecognized arguments",
    }
    for args, message in cases.items():
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert dest.read_bytes() == b"an older backup"
    assert not (tmp_path / "x.sqlite3").exists()


def test_backup_finds_the_data_dir_in_the_config_file(
    tmp_path: Path, busy: tuple[LiveServer, Chatter]
) -> None:
    config = tmp_path / "etc" / "server.toml"
    config.parent.mkdir()
    config.write_text('[server]\ndata_dir = "../data"\n')  # relative to the config's folder
    dest = tmp_path / "from-config.sqlite3"
    result = run_cli("backup", str(dest), "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "alice" in contents(dest)[0]


def test_small_steps_under_writes_are_consistent(
    tmp_path: Path, busy: tuple[LiveServer, Chatter]
) -> None:
    """One page per step while the server commits every turn: the copy is the snapshot taken
    at its start, never restarted by the writes made meanwhile, so it also finishes."""
    server, chatter = busy
    before = chatter.wait_for(3000)
    dest = tmp_path / "small-steps.sqlite3"
    started = time.monotonic()
    pages = backup(server.data_dir, dest, pages_per_step=1)
    assert time.monotonic() - started < DEADLINE
    assert pages > 10
    _, _, texts = contents(dest)
    assert set(before) <= set(texts)
    numbers = sorted(int(text.removeprefix("live-")) for text in texts)
    assert numbers == list(range(len(numbers)))  # a prefix of what was sent: no gaps, no tears


def test_backup_of_a_stopped_server(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    client = server.client("bob")
    client.send("REGISTER * * bob-password")
    client.expect("REGISTER SUCCESS")
    client.close()
    assert server.stop() == 0
    dest = tmp_path / "cold.sqlite3"
    result = run_cli("backup", str(dest), "--data-dir", str(server.data_dir))
    assert result.returncode == 0, result.stderr
    assert "bob" in contents(dest)[0]
