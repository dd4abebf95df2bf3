"""The core's own cost per message, without sockets: where the Python time goes.

Drives the sans-IO `Server` in this process, as the event loop would (receive lines, commit,
drain the outbox), on a real SQLite file, and prints microseconds per message for:

  pm-guests    private messages between guests (not stored)
  pm-accounts  private messages between logged-in accounts (stored)
  channel      a message to a room of `--members` (stored), cost per message and per delivery

The network layer's recv/send calls are not in these figures; `compare.py` measures the
whole server. Use this to see what a change to the core's hot path buys, and `--profile`
to see where the time goes (cProfile, sorted by own time).

  python bench/core_cost.py
  python bench/core_cost.py --only pm-guests --profile
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from miniircd.config import Config
from miniircd.core.server import Server
from miniircd.core.session import Session
from miniircd.store.sqlite import SqliteStore

BATCH = 8  # lines handled per simulated loop turn per sender, as loadgen sends them
NOW = 1_800_000_000.0


class Core:
    """A server on a fresh database, with the loop's per-turn steps."""

    def __init__(self, folder: Path) -> None:
        config = Config(server_name="bench.test", flood_enabled=False)
        self.store = SqliteStore(folder / "miniircd.db")
        self.server = Server(config, self.store, NOW)

    def client(self, nick: str, account: bool = False) -> Session:
        server = self.server
        session = server.connect("127.0.0.1", NOW)
        server.receive(session, f"NICK {nick}".encode(), NOW)
        server.receive(session, f"USER {nick} 0 * :{nick}".encode(), NOW)
        if account:
            server.receive(session, f"REGISTER * * pw-{nick}-long".encode(), NOW)
            self.turn()
        self.turn()
        assert session.registered and (session.account is not None or not account)
        return session

    def turn(self) -> None:
        """Run jobs, commit, and take every queued line as the flush would."""
        server = self.server
        while jobs := server.take_jobs():
            for job in jobs:
                job.run()
                server.finish_job(job, NOW)
        self.store.commit()
        for session in server.outbox.drain():
            session.outq.clear()


def run(core: Core, senders: list[tuple[Session, bytes]], messages: int) -> float:
    """Seconds to handle `messages` lines spread over the senders, BATCH per turn each."""
    receive = core.server.receive
    turns = max(1, messages // (BATCH * len(senders)))
    start = time.perf_counter()
    for turn in range(turns):
        now = NOW + turn / 1000
        for session, line in senders:
            for _ in range(BATCH):
                receive(session, line, now)
        core.turn()
    return (time.perf_counter() - start) / (turns * BATCH * len(senders))


def pm(folder: Path, accounts: bool, pairs: int) -> Callable[[int], float]:
    core = Core(folder)
    people = [core.client(f"u{i}", account=accounts) for i in range(2 * pairs)]
    senders = [(s, f"PRIVMSG u{i ^ 1} :hello there, how is it going".encode()) for i, s in
               enumerate(people)]  # fmt: skip
    return lambda n: run(core, senders, n)


def channel(folder: Path, members: int) -> Callable[[int], float]:
    core = Core(folder)
    people = [core.client(f"u{i}") for i in range(members)]
    for session in people:
        core.server.receive(session, b"JOIN #bench", NOW)
        core.turn()
    senders = [(s, b"PRIVMSG #bench :hello everyone in the room") for s in people[:10]]
    return lambda n: run(core, senders, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated: pm-guests,pm-accounts,channel")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="cProfile, top 25 by own time")
    args = parser.parse_args()
    scenarios = {
        "pm-guests": lambda f: pm(f, False, args.pairs),
        "pm-accounts": lambda f: pm(f, True, args.pairs),
        "channel": lambda f: channel(f, args.members),
    }
    chosen = args.only.split(",") if args.only else list(scenarios)
    for name in chosen:
        with tempfile.TemporaryDirectory(prefix="miniircd-core-cost-") as folder:
            go = scenarios[name](Path(folder))
            go(args.messages // 10)  # warm up: caches, the database's first pages
            if args.profile:
                profile = cProfile.Profile()
                seconds = profile.runcall(go, args.messages)
            else:
                seconds = go(args.messages)
            line = f"{name:12} {seconds * 1e6:6.2f} µs/message"
            if name == "channel":
                line += f", {seconds * 1e9 / (args.members - 1):6.1f} ns/delivery"
            print(line, flush=True)
            if args.profile:
                pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
