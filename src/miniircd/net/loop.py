"""The event loop: a `selectors` (epoll) loop over the listeners and client sockets.

Each turn it reads what is ready (one large recv per readable socket), feeds every complete
line to the core, runs the core's timers once a second, and then flushes each touched
connection with one send. Write readiness is watched only while a buffer stays non-empty.
A client whose unsent data passes the send-queue cap is disconnected ("SendQ exceeded").
SIGTERM and SIGINT send every client `ERROR :Server shutting down` and end the loop.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import selectors
import signal
import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from types import FrameType
from typing import Any

from miniircd.config import Config
from miniircd.core.jobs import Job
from miniircd.core.server import Server
from miniircd.core.session import Session
from miniircd.net.connection import Connection
from miniircd.protocol.framing import LineOverflow

log = logging.getLogger("miniircd.net")

TICK_SECONDS = 1.0
CLOSE_GRACE_SECONDS = 5.0  # how long a closing link may take to flush its last lines
SHUTDOWN_FLUSH_SECONDS = 2.0
BACKLOG = 4096
WORKERS = 2  # threads for scrypt; hashlib releases the GIL while it works


class EventLoop:
    def __init__(self, config: Config, server: Server) -> None:
        self.config = config
        self.server = server
        self.selector = selectors.DefaultSelector()
        self.connections: dict[int, Connection] = {}
        self.closing: dict[Connection, float] = {}  # connection -> deadline to flush by
        self.listeners: list[socket.socket] = []
        self.stopping = False
        self.workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="miniircd-worker")
        self.finished: queue.SimpleQueue[Job[Any]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        for sock in (self._wake_r, self._wake_w):
            sock.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._install_signals()  # before listening, so no signal finds default handlers

    def listen(self, host: str, port: int) -> tuple[str, int]:
        """Bind a listener; raises OSError if the address cannot be used."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
        sock.setblocking(False)
        self.listeners.append(sock)
        self.selector.register(sock, selectors.EVENT_READ, None)
        bound: tuple[str, int] = sock.getsockname()[:2]
        return bound

    def run(self) -> int:
        next_tick = time.monotonic() + TICK_SECONDS
        while not self.stopping:
            timeout = max(0.0, next_tick - time.monotonic())
            events = self.selector.select(timeout)
            now = time.time()
            for key, mask in events:
                conn = key.data
                if conn is not None:
                    self._on_ready(conn, mask, now)
                elif key.fileobj is self._wake_r:
                    self._drain_wakeups()
                    self._finish_jobs(now)
                else:
                    self._accept(key.fileobj, now)  # type: ignore[arg-type]
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK_SECONDS
                self.server.tick(now)
                self._expire_closing(time.monotonic())
            self._start_jobs()
            self.server.store.commit()  # durable before visible: commit, then send
            self._flush(now)
        self._shutdown()
        return 0

    # -- signals ---------------------------------------------------------------------------

    def _install_signals(self) -> None:
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    # -- jobs off the loop -------------------------------------------------------------------

    def _start_jobs(self) -> None:
        for job in self.server.take_jobs():
            self.workers.submit(job.run).add_done_callback(functools.partial(self._job_done, job))

    def _job_done(self, job: Job[Any], future: Future[None]) -> None:
        """On the worker thread: hand the job back and wake the loop."""
        if future.exception() is not None:
            log.error("job failed: %r", future.exception())
            job.result = None
        self.finished.put(job)
        # A full socket means the loop has wake-ups pending already.
        with contextlib.suppress(BlockingIOError, InterruptedError):
            self._wake_w.send(b"j")

    def _finish_jobs(self, now: float) -> None:
        while True:
            try:
                job = self.finished.get_nowait()
            except queue.Empty:
                return
            self.server.finish_job(job, now)

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    # -- sockets ---------------------------------------------------------------------------

    def _accept(self, listener: socket.socket, now: float) -> None:
        while True:
            try:
                sock, addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. EMFILE: leave the rest in the backlog for now
                log.warning("accept failed: %s", exc)
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = self.server.connect(addr[0], now)
            conn = Connection(sock, session, self.config.max_line_pending)
            self.connections[session.id] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)

    def _on_ready(self, conn: Connection, mask: int, now: float) -> None:
        if mask & selectors.EVENT_WRITE:
            try:
                conn.flush()
            except OSError as exc:
                self._drop(conn, f"Write error: {exc.strerror}", now)
                return
            self._watch_write(conn)
        if not mask & selectors.EVENT_READ or conn.session.closing:
            return
        try:
            data = conn.read()
        except OSError as exc:
            self._drop(conn, f"Read error: {exc.strerror}", now)
            return
        if data is None:
            return
        if not data:
            self._drop(conn, "Remote host closed the connection", now)
            return
        session = conn.session
        try:
            lines = conn.lines.feed(data)
        except LineOverflow:
            self.server.connection_lost(session, "Input line too long", now)
            return
        receive = self.server.receive
        for line in lines:
            receive(session, line, now)
            if session.closing:
                break

    def _flush(self, now: float) -> None:
        """Hand every touched session's queue to its socket: one send per connection."""
        server = self.server
        while sessions := server.outbox.drain():
            for session in sessions:
                conn = self.connections.get(session.id)
                if conn is None:
                    session.outq.clear()
                    continue
                self._write(conn, session, now)

    def _write(self, conn: Connection, session: Session, now: float) -> None:
        conn.outbuf += b"".join(session.outq)
        session.outq.clear()
        if len(conn.outbuf) > self.config.sendq and not session.closing:
            conn.outbuf.clear()
            self._drop(conn, "SendQ exceeded", now)
            return
        try:
            conn.flush()
        except OSError as exc:
            self._drop(conn, f"Write error: {exc.strerror}", now)
            return
        if session.closing:
            self._start_closing(conn)
        else:
            self._watch_write(conn)

    def _watch_write(self, conn: Connection) -> None:
        want = bool(conn.outbuf)
        if want != conn.watching_write:
            conn.watching_write = want
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
            self.selector.modify(conn.sock, events, conn)

    def _start_closing(self, conn: Connection) -> None:
        """The core is done with this link: close it once its last lines are out."""
        if not conn.outbuf:
            self._close(conn)
        elif conn not in self.closing:
            self.closing[conn] = time.monotonic() + CLOSE_GRACE_SECONDS
            conn.watching_write = True
            self.selector.modify(conn.sock, selectors.EVENT_WRITE, conn)

    def _expire_closing(self, monotonic_now: float) -> None:
        for conn, deadline in list(self.closing.items()):
            if not conn.outbuf or monotonic_now >= deadline:
                self._close(conn)

    def _drop(self, conn: Connection, reason: str, now: float) -> None:
        """The socket is unusable: tell the core, then close without flushing."""
        self.server.connection_lost(conn.session, reason, now)
        conn.session.outq.clear()
        self._close(conn)

    def _close(self, conn: Connection) -> None:
        self.closing.pop(conn, None)
        if self.connections.pop(conn.session.id, None) is None:
            return
        self.selector.unregister(conn.sock)
        conn.close()

    def _shutdown(self) -> None:
        """Send every client the shutdown ERROR, flush for a moment, close everything."""
        now = time.time()
        for listener in self.listeners:  # connections still in the backlog are told too
            self._accept(listener, now)
        log.info("shutting down: %d connections", len(self.connections))
        self.server.shutdown()
        self._flush(time.time())
        deadline = time.monotonic() + SHUTDOWN_FLUSH_SECONDS
        while self.closing and time.monotonic() < deadline:
            for key, _mask in self.selector.select(0.05):
                conn = key.data
                if isinstance(conn, Connection):
                    try:
                        conn.flush()
                    except OSError:
                        conn.outbuf.clear()
            self._expire_closing(time.monotonic())
        for conn in list(self.connections.values()):
            self._close(conn)
        for sock in self.listeners:
            self.selector.unregister(sock)
            sock.close()
        self.selector.close()
        self.workers.shutdown(wait=True, cancel_futures=True)
        self.server.store.close()
