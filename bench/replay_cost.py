"""History cost stays flat: time the server spends on a JOIN after N stored room messages.

Runs the real core on a real SQLite file in a temp dir: N messages go to a room through
the normal PRIVMSG path (so they are stored exactly as in production), then a new client
joins and the server time for its JOIN (burst plus the replay of the last 50) is measured.
Usage: python bench/replay_cost.py [--messages 100000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from miniircd.config import Config
from miniircd.core.server import Server
from miniircd.core.session import Session
from miniircd.store.sqlite import SqliteStore


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore.in_dir(Path(tmp))
        # one sender, flat out: flood control would hold back all but its first lines
        config = Config(server_name="bench.test", flood_enabled=False)
        server = Server(config, store, time.time())

        def client(nick: str) -> Session:
            session = server.connect("127.0.0.1", time.time())
            for line in (f"NICK {nick}", f"USER {nick} 0 * :{nick}"):
                server.receive(session, line.encode(), time.time())
            return session

        sender = client("sender")
        server.receive(sender, b"JOIN #big", time.time())
        started = time.perf_counter()
        for n in range(count):
            server.receive(sender, f"PRIVMSG #big :message number {n}".encode(), time.time())
            if n % 1000 == 999:
                store.commit()
                server.outbox.drain()
                sender.outq.clear()
        store.commit()
        fill = time.perf_counter() - started
        stored = store.db.execute("SELECT count(*) FROM messages").fetchone()[0]
        assert stored == count, f"only {stored} of {count} messages were stored"
        timings = []
        for round_ in range(7):
            joiner = client(f"joiner{round_}")
            server.outbox.drain()
            began = time.perf_counter()
            server.receive(joiner, b"JOIN #big", time.time())
            store.commit()
            lines = sum(len(s.outq) for s in server.outbox.drain() if s is joiner)
            timings.append((time.perf_counter() - began) * 1000)
        size = (Path(tmp) / "miniircd.sqlite3").stat().st_size
        print(f"stored {count} messages in {fill:.1f} s ({count / fill:,.0f} msg/s); "
              f"database {size / 1e6:.1f} MB")
        print(f"JOIN with replay ({lines} lines): median {statistics.median(timings):.2f} ms, "
              f"max {max(timings):.2f} ms of server time over {len(timings)} joins")
        store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    main(parser.parse_args().messages)
