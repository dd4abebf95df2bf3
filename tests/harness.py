"""Drive the sans-IO core directly: feed lines in, read back what each client was sent."""

from __future__ import annotations

from typing import Any

from miniircd.config import Config
from miniircd.core.jobs import Job
from miniircd.core.server import Server
from miniircd.core.session import Session
from miniircd.store.sqlite import SqliteStore

SERVER_NAME = "irc.test"


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start


class CoreClient:
    def __init__(self, harness: CoreHarness, session: Session) -> None:
        self.harness = harness
        self.session = session
        self.received: list[str] = []

    def send(self, *lines: str) -> list[str]:
        """Send lines; return (and forget) everything this client has been sent since."""
        for line in lines:
            self.harness.server.receive(self.session, line.encode(), self.harness.clock.now)
        self.harness.deliver()
        return self.take()

    def take(self) -> list[str]:
        lines, self.received = self.received, []
        return lines

    @property
    def closed(self) -> bool:
        return self.session.closing


class CoreHarness:
    def __init__(self, store: SqliteStore | None = None, **config: Any) -> None:
        # Transcript tests send many lines at one fake instant; flood control has its own
        # tests (test_flood.py) and is off here unless a test turns it on.
        config.setdefault("flood_enabled", False)
        self.clock = FakeClock()
        self.store = store or SqliteStore(":memory:")  # the real SQLite engine, in memory
        self.server = Server(Config(server_name=SERVER_NAME, **config), self.store, self.clock.now)
        self.clients: dict[int, CoreClient] = {}
        # With hold_jobs, work off the loop (password checks) waits until the test calls
        # finish_jobs, as it waits for a worker thread in the real loop; otherwise it is
        # done at the end of each send, after every line was received.
        self.hold_jobs = False
        self.pending_jobs: list[Job[Any]] = []

    @classmethod
    def on_store(cls, store: SqliteStore, **config: Any) -> CoreHarness:
        """A fresh server on the same database, as after a restart."""
        store.commit()
        return cls(store, **config)

    def connect(self, host: str = "127.0.0.1") -> CoreClient:
        session = self.server.connect(host, self.clock.now)
        client = CoreClient(self, session)
        self.clients[session.id] = client
        return client

    def register(self, nick: str, user: str | None = None) -> CoreClient:
        client = self.connect()
        lines = client.send(f"NICK {nick}", f"USER {user or nick} 0 * :{nick.title()}")
        assert any(" 001 " in line for line in lines), lines
        return client

    def deliver(self) -> None:
        """Run queued jobs (as the loop's worker threads would), commit, hand out lines."""
        while jobs := self.server.take_jobs():
            if self.hold_jobs:
                self.pending_jobs.extend(jobs)
                break
            for job in jobs:
                job.run()
                self.server.finish_job(job, self.clock.now)
        self.store.commit()
        for session in self.server.outbox.drain():
            client = self.clients[session.id]
            client.received.extend(raw.decode().rstrip("\r\n") for raw in session.outq)
            session.outq.clear()

    def finish_jobs(self) -> None:
        """The held jobs' work is done: hand them back, as the loop does, and deliver."""
        jobs, self.pending_jobs = self.pending_jobs, []
        for job in jobs:
            job.run()
            self.server.finish_job(job, self.clock.now)
        self.deliver()

    def tick(self, seconds: float) -> None:
        self.clock.now += seconds
        self.server.tick(self.clock.now)
        self.deliver()
