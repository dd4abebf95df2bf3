"""kill -9 at random moments loses nothing a client was told, and SIGTERM closes cleanly.

Each round runs a random mix of work on one data dir (account registrations, rooms created
by logged-in users, message storms from several senders) and kills the server with SIGKILL
after a random delay. After the restart, everything any client saw confirmed must be there:
the database passes `PRAGMA integrity_check`, every account whose `REGISTER SUCCESS` was
received can log in, every room whose TOPIC was echoed lists that topic, and every message
any client received is stored exactly once. The rounds are seeded: the mix of work and the
kill delays replay (the exact interleaving with the server of course cannot).
"""

from __future__ import annotations

import contextlib
import random
import re
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from liveserver import DEADLINE, LineClient, LiveServer, sasl_login_works, unlimited_config

SEED = 20240611
ROUNDS = 8
KILL_WINDOW = (0.1, 1.5)  # seconds after the work starts
BURST_PAUSE = 0.002  # seconds between a sender's bursts of 20 messages
LISTEN_DEADLINE = 30.0  # a listener waits this long for a line before giving up
# storms go past the default 10,000 messages kept per channel: keep them all to compare
KEEP_ALL = "[history]\nhistory_max = 10000000\n"
PRIVMSG = re.compile(r" PRIVMSG (\S+) :(.*)$")


@dataclass
class Confirmed:
    """What clients were told was done: all of it must survive a crash."""

    accounts: dict[str, str] = field(default_factory=dict)  # name -> password
    rooms: dict[str, str] = field(default_factory=dict)  # name -> topic
    messages: set[str] = field(default_factory=set)  # the text of every message received
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, line: str) -> None:
        match = PRIVMSG.search(line)
        if match:
            with self.lock:
                self.messages.add(match.group(2))


def guarded(work: Callable[[], None]) -> Callable[[], None]:
    """Run `work` until the server dies under it: a dead link just ends the thread."""

    def run() -> None:
        with contextlib.suppress(OSError, TimeoutError):  # ConnectionError is an OSError
            work()

    return run


def registrar(
    server: LiveServer, prefix: str, rng: random.Random, confirmed: Confirmed, stop: threading.Event
) -> Callable[[], None]:
    """Register accounts one after another; some create a room and set its topic."""

    def work() -> None:
        for n in range(1000):
            if stop.is_set():
                return
            name, password = f"{prefix}a{n}", f"pw-{prefix}-{n}-{rng.random():.6f}"
            client = server.client(name)
            try:
                client.send(f"REGISTER * * {password}")
                client.expect("REGISTER (SUCCESS|FAIL)")
                if " SUCCESS " not in client.seen[-1]:
                    continue
                with confirmed.lock:
                    confirmed.accounts[name] = password
                if rng.random() < 0.5:
                    room, topic = f"#{prefix}r{n}", f"topic {prefix} {n}"
                    client.send(f"JOIN {room}", f"TOPIC {room} :{topic}")
                    client.expect(f"TOPIC {room} :")
                    with confirmed.lock:
                        confirmed.rooms[room] = topic
                    client.send(f"PRIVMSG {room} :{prefix} room message {n}")
            finally:
                client.close()

    return guarded(work)


def listen(client: LineClient, confirmed: Confirmed) -> Callable[[], None]:
    """Record every message received until the link ends (what the kernel had buffered
    when the server died was sent all the same: it counts)."""

    def work() -> None:
        try:
            while (line := client.read_line(time.monotonic() + LISTEN_DEADLINE)) is not None:
                confirmed.saw(line)
        finally:
            client.close()

    return guarded(work)


def storm(
    server: LiveServer, prefix: str, senders: int, confirmed: Confirmed, stop: threading.Event
) -> list[threading.Thread]:
    """Several senders flood one channel; a listener and the senders record what they get.

    The listener's thread comes first in the list."""
    channel = f"#{prefix}storm"
    clients = [server.client(f"{prefix}s{i}") for i in range(senders + 1)]  # 0: the listener
    for client in clients:
        client.send(f"JOIN {channel}")
        client.expect(" 366 ")

    def flood(index: int, client: LineClient) -> Callable[[], None]:
        def work() -> None:
            n = 0
            while not stop.wait(BURST_PAUSE):  # bursts, so registrations get a turn too
                client.send(*(f"PRIVMSG {channel} :{prefix}-s{index}-{n + k}" for k in range(20)))
                n += 20

        return guarded(work)

    threads = [threading.Thread(target=listen(client, confirmed)) for client in clients]
    threads += [threading.Thread(target=flood(i, c)) for i, c in enumerate(clients) if i]
    for thread in threads:
        thread.start()
    return threads


SPOKEN = "verb IN ('PRIVMSG', 'NOTICE')"  # the rows of room events are not messages


def check(server: LiveServer, confirmed: Confirmed, rng: random.Random) -> None:
    """Everything confirmed so far is there, once, in an intact database."""
    db = sqlite3.connect(f"file:{server.data_dir / 'miniircd.sqlite3'}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        accounts = {row[0] for row in db.execute("SELECT name FROM accounts")}
        rooms = dict(db.execute("SELECT name, topic FROM rooms").fetchall())
        counts = dict(
            db.execute(f"SELECT text, count(*) FROM messages WHERE {SPOKEN} GROUP BY text")
        )
    finally:
        db.close()
    assert set(confirmed.accounts) <= accounts, set(confirmed.accounts) - accounts
    for room, topic in confirmed.rooms.items():
        assert rooms.get(room) == topic, room
    lost = confirmed.messages - set(counts)
    assert not lost, f"{len(lost)} received messages are not stored, e.g. {sorted(lost)[:5]}"
    twice = {text: n for text, n in counts.items() if n > 1}
    assert not twice, f"stored more than once: {list(twice.items())[:5]}"
    if confirmed.accounts:  # the server itself lets a confirmed account in
        account = rng.choice(sorted(confirmed.accounts))
        assert sasl_login_works(server.port, account, confirmed.accounts[account]), account
    if confirmed.rooms:
        watcher = server.client(f"w{rng.randrange(10**6)}")
        watcher.send("LIST")
        listed = watcher.lines_until(" 323 ")
        watcher.close()
        for room, topic in confirmed.rooms.items():
            wanted = re.compile(f" 322 \\S+ {re.escape(room)} \\d+ :{re.escape(topic)}$")
            assert any(wanted.search(line) for line in listed), room


def test_kill_9_at_random_moments_keeps_everything_confirmed(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    confirmed = Confirmed()
    server = LiveServer(tmp_path, "--config", str(unlimited_config(tmp_path, KEEP_ALL)))
    server.start()
    try:
        for round_no in range(ROUNDS):
            prefix = f"k{round_no}"
            stop = threading.Event()
            threads: list[threading.Thread] = []
            if rng.random() < 0.8:
                senders = rng.randint(2, 4)
                threads += storm(server, prefix, senders, confirmed, stop)
            for i in range(rng.randint(1, 2)):
                own = random.Random(rng.random())  # threads never share a generator
                work = registrar(server, f"{prefix}g{i}", own, confirmed, stop)
                threads.append(threading.Thread(target=work))
                threads[-1].start()
            stop.wait(rng.uniform(*KILL_WINDOW))  # the random moment
            server.kill9()
            stop.set()
            for thread in threads:
                thread.join(10)
                assert not thread.is_alive()
            server.start()  # recovery runs on open
            check(server, confirmed, rng)
    finally:
        server.stop()
    assert "Traceback" not in server.log()
    assert confirmed.accounts and confirmed.rooms and confirmed.messages  # the work got done


def test_sigterm_stores_everything_delivered_and_exits_zero(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, "--config", str(unlimited_config(tmp_path, KEEP_ALL)))
    server.start()
    confirmed = Confirmed()
    stop = threading.Event()
    threads = storm(server, "t", 3, confirmed, stop)
    try:
        deadline = time.monotonic() + DEADLINE
        while len(confirmed.messages) < 500:  # the storm is well under way
            threads[0].join(0.01)
            assert threads[0].is_alive() and time.monotonic() < deadline, "the storm stalled"
        assert server.proc is not None
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(10) == 0
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        code = server.stop()
    assert code == 0
    assert "Traceback" not in server.log()
    assert not (server.data_dir / "miniircd.sqlite3-wal").exists()  # checkpointed and closed
    db = sqlite3.connect(server.data_dir / "miniircd.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = [row[0] for row in db.execute(f"SELECT text FROM messages WHERE {SPOKEN}")]
    finally:
        db.close()
    assert len(stored) == len(set(stored))
    assert confirmed.messages <= set(stored)
    assert len(confirmed.messages) >= 500
