"""Drive the sans-IO core directly: feed lines in, read back what each client was sent."""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import pytest

from miniircd import compiled
from miniircd.config import Config, LinkBlock
from miniircd.core.ids import Ids
from miniircd.core.jobs import Job
from miniircd.core.link import Link
from miniircd.core.server import Server
from miniircd.core.session import Session
from miniircd.core.user import RemoteUser
from miniircd.store.sqlite import SqliteStore

SERVER_NAME = "irc.test"

# For the few tests that read the core's Python source or patch its functions and classes:
# compiled code has no source and calls its own functions directly. They run (and CI runs
# them) with the plain build, whose code is the same.
plain_python_only = pytest.mark.skipif(
    compiled(), reason="reads or patches the core's Python code: plain build only"
)


class CountingIds(Ids):
    """Ids a transcript can spell out: msgids msg1, msg2, ...; batch references batch1,
    batch2, ...; guest nicks Guest10001, Guest10002, ..."""

    def __init__(self, prefix: str = "msg") -> None:
        super().__init__()
        self.prefix = prefix  # a network of servers (tests/network.py): one per server
        self._msgids = itertools.count(1)
        self._batches = itertools.count(1)
        self._guests = itertools.count(10001)

    def msgid(self) -> str:
        return f"{self.prefix}{next(self._msgids)}"

    def batch_ref(self) -> str:
        return f"batch{next(self._batches)}"

    def guest_suffix(self) -> str:
        return str(next(self._guests))


# One counter per database: a server restarted on it (CoreHarness.on_store) counts on, so
# the msgids it stores stay unique, as a real restart's fresh random prefix keeps them.
_IDS_OF_STORE: weakref.WeakKeyDictionary[SqliteStore, CountingIds] = weakref.WeakKeyDictionary()


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


class CorePeer:
    """A linked server as the core sees it: feed it the peer's lines, read ours."""

    def __init__(self, harness: CoreHarness, link: Link) -> None:
        self.harness = harness
        self.link = link
        self.received: list[str] = []

    def send(self, *lines: str) -> list[str]:
        """The peer sends lines; return (and forget) everything we sent it since."""
        for line in lines:
            self.harness.server.link_receive(self.link, line.encode(), self.harness.clock.now)
        self.harness.deliver()
        return self.take()

    def take(self) -> list[str]:
        self.harness.deliver()
        lines, self.received = self.received, []
        return lines

    def lose(self, reason: str = "Remote host closed the connection") -> None:
        self.harness.server.link_lost(self.link, reason, self.harness.clock.now)
        self.harness.deliver()


class CoreHarness:
    made: list[CoreHarness] = []  # conftest checks each one's state after every test

    def __init__(
        self, store: SqliteStore | None = None, msgid_prefix: str = "msg", **config: Any
    ) -> None:
        CoreHarness.made.append(self)
        # Transcript tests send many lines at one fake instant; flood control has its own
        # tests (test_flood.py) and is off here unless a test turns it on.
        config.setdefault("flood_enabled", False)
        self.clock = FakeClock()
        self.store = store or SqliteStore(":memory:")  # the real SQLite engine, in memory
        self.ids = _IDS_OF_STORE.setdefault(self.store, CountingIds(msgid_prefix))
        config.setdefault("server_name", SERVER_NAME)
        settings = Config(**config)
        self.server = Server(settings, self.store, self.clock.now, self.ids)
        self.clients: dict[int, CoreClient] = {}
        self.relayed: dict[str, list[str]] = {}  # server -> lines queued for its link
        self.peers: dict[int, CorePeer] = {}  # link id -> the peer it leads to
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

    def link(self, name: str = "hub.test", outgoing: bool = True, **block: Any) -> CorePeer:
        """A connection with the server `name` (a `[[links]]` block with these settings)."""
        block.setdefault("send_password", "leaf-to-hub")
        block.setdefault("accept_password", "hub-to-leaf")
        settings = LinkBlock(name, **block)
        link = self.server.link_open(settings, "127.0.0.1", outgoing, self.clock.now)
        peer = self.peers[link.id] = CorePeer(self, link)
        return peer

    def adopt(self, client: CoreClient) -> CorePeer:
        """The link a client connection turned into (it sent PASS and SERVER), as the
        network layer takes it over."""
        link = self.server.adopted.pop(client.session.id)
        self.clients.pop(client.session.id)
        peer = self.peers[link.id] = CorePeer(self, link)
        peer.received.extend(raw.decode().rstrip("\r\n") for raw in link.take_output())
        return peer

    def deliver(self) -> None:
        """Run queued jobs (as the loop's worker threads would), commit, hand out lines.
        Work that raises fails its job as in the loop: `Job.run` keeps the exception and
        `finish_job` answers 400 instead of calling the continuation."""
        while jobs := self.server.take_jobs():
            if self.hold_jobs:
                self.pending_jobs.extend(jobs)
                break
            for job in jobs:
                job.run()
                self.server.finish_job(job, self.clock.now)
        self.store.commit()
        for user in self.server.outbox.drain():
            via = user.via if isinstance(user, RemoteUser) else user.id
            peer = self.peers.get(via) if isinstance(user, RemoteUser | Link) else None
            if peer is not None:  # what the link writes to its socket
                taken = peer.link.take_output()
                peer.received.extend(raw.decode().rstrip("\r\n") for raw in taken)
                continue
            if isinstance(user, Link):  # not adopted yet (see adopt): it waits for that
                continue
            lines = [raw.decode().rstrip("\r\n") for raw in user.outq]
            user.outq.clear()
            client = self.clients.get(user.id)
            if client is None:  # a remote user: what its server link would relay
                self.relayed.setdefault(user.server or "", []).extend(lines)
            else:
                client.received.extend(lines)

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


def in_channel(core: CoreHarness, *nicks: str, channel: str = "#c") -> list[CoreClient]:
    """Register `nicks` and join them to `channel` in order (the first is its operator)."""
    clients = [core.register(nick) for nick in nicks]
    for client in clients:
        client.send(f"JOIN {channel}")
    for client in clients:
        client.take()
    return clients
