"""The event loop: a `selectors` (epoll) loop over the listeners and client sockets.

Each turn it reads what is ready (one large recv per readable socket), feeds every complete
line to the core, runs the core's timers once a second, and then flushes each touched
connection with one send. Write readiness is watched only while a buffer stays non-empty.
A client whose unsent data passes the send-queue cap is disconnected ("SendQ exceeded").
SIGTERM and SIGINT send every client `ERROR :Server shutting down` and end the loop;
SIGHUP, like an operator's REHASH, rereads the configuration and the TLS certificate
(`_reload`, through the `reload` callable the command line gives), and the dialer takes
the new `[[links]]` list.

Selector keys carry what the socket is: a `Connection` (a client with a session), a
`Handshake` (a TLS client not yet past its handshake, unknown to the core), a `WebRequest`
(an HTTP request not yet upgraded to WebSocket, see net/web), a `Listener`, a
`LinkConnection` (a link to another server, see net/links), or None for the wake-up
socket. Listeners, connection limits, handshakes and web requests belong to the
`Acceptor` (net/listeners); it hands the loop sockets that are ready for IRC, each with its
framing (net/framing): the loop and the core handle TCP, TLS and WebSocket clients alike.
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
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any

from miniircd.config import Config
from miniircd.core.jobs import Job
from miniircd.core.server import Server
from miniircd.core.session import Session
from miniircd.net.connection import Connection
from miniircd.net.framing import Framing, FramingEnded
from miniircd.net.link_tls import trust_link_peers
from miniircd.net.links import Dialer, LinkConnection
from miniircd.net.listeners import Acceptor, Listener
from miniircd.net.tls import Handshake, TlsError, describe, server_context
from miniircd.net.web import WebRequest

log = logging.getLogger("miniircd.net")

TICK_SECONDS = 1.0
CLOSE_GRACE_SECONDS = 5.0  # how long a closing link may take to flush its last lines
SHUTDOWN_FLUSH_SECONDS = 2.0
WORKERS = 2  # threads for scrypt; hashlib releases the GIL while it works


Reload = Callable[[], tuple[Config | str, str]]  # -> (new config or why not, its source)


class EventLoop:
    def __init__(self, server: Server, reload: Reload | None = None) -> None:
        self.server = server
        self.reload = reload or (lambda: (server.config, "the running configuration"))
        self.selector = selectors.DefaultSelector()
        self.connections: dict[int, Connection] = {}
        self.closing: dict[Connection, float] = {}  # connection -> deadline to flush by
        self.acceptor = Acceptor(self.selector, self._connected, lambda: self.server.config)
        self.dialer = Dialer(self.selector, server)
        self.stopping = False
        self.hangup = False  # SIGHUP arrived; handled at the end of the loop turn
        self.workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="miniircd-worker")
        self.finished: queue.SimpleQueue[Job[Any]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = socket.socketpair()
        for sock in (self._wake_r, self._wake_w):
            sock.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._install_signals()  # before listening, so no signal finds default handlers

    @property
    def config(self) -> Config:
        """The server's configuration, as last reloaded."""
        return self.server.config

    def listen(self, host: str, port: int, web: bool = False) -> tuple[str, int]:
        """Bind a plain listener (for IRC, or for the web page and WebSocket); raises
        OSError if the address cannot be used."""
        return self.acceptor.listen(host, port, tls=False, web=web)

    def listen_tls(self, host: str, port: int, web: bool = False) -> tuple[str, int]:
        """Load the configured certificate (once) and bind a TLS listener. Raises TlsError if
        the certificate or key cannot be used, OSError if the address cannot."""
        assert self.config.tls_cert is not None
        if self.acceptor.tls_context is None:
            self._load_tls(self.config.tls_cert, self.config.tls_key)
        return self.acceptor.listen(host, port, tls=True, web=web)

    def reload_tls(self) -> bool:
        """Build a new context from the configured files; new connections use it, open ones
        keep theirs. On failure log one line and keep the old context."""
        cert, key = self.config.tls_cert, self.config.tls_key
        if self.acceptor.tls_context is None or cert is None:
            return False
        try:
            self._load_tls(cert, key)
        except TlsError as exc:
            log.error("TLS reload failed, keeping the old certificate: %s", exc)
            return False
        log.info("TLS certificate reloaded from %s", cert)
        return True

    def _load_tls(self, cert: Path, key: Path | None) -> None:
        """The listeners' contexts from the files (raises TlsError, changing nothing): one
        for all, and one for IRC that asks dialing servers for a certificate when some
        `[[links]]` block has `tls_ca`."""
        context = server_context(cert, key)
        irc_context = None
        if any(block.tls_ca is not None for block in self.config.links):
            irc_context = server_context(cert, key)
            trust_link_peers(irc_context, self.config)
        self.acceptor.tls_context, self.acceptor.irc_tls_context = context, irc_context

    def run(self) -> int:
        next_tick = time.monotonic()  # the first turn ticks: links are dialed at startup
        held_due: float | None = None  # seconds until flood control releases a line
        while not self.stopping:
            timeout = max(0.0, next_tick - time.monotonic())
            if held_due is not None:
                timeout = min(timeout, held_due)
            events = self.selector.select(timeout)
            now = time.time()
            tick_due = time.monotonic() >= next_tick
            if tick_due:
                next_tick = time.monotonic() + TICK_SECONDS
            try:
                held_due = self._turn(events, now, tick_due)
            except Exception:
                # A bug in the core's entry points: the server goes on with the next turn.
                log.exception("bug in a loop turn; carrying on")
        self._shutdown()
        return 0

    def _turn(
        self, events: list[tuple[selectors.SelectorKey, int]], now: float, tick_due: bool
    ) -> float | None:
        """One loop turn: handle the ready sockets, run the once-a-second timers when they
        are due, commit, flush. Returns when flood control next releases a line."""
        for key, mask in events:
            data = key.data
            if isinstance(data, Connection):
                self._on_ready(data, mask, now)
            elif isinstance(data, Handshake):
                self.acceptor.on_handshake(data, now)
            elif isinstance(data, WebRequest):
                self.acceptor.web.on_ready(data, mask, self.config, now)
            elif isinstance(data, Listener):
                self.acceptor.accept(data, now)
            elif isinstance(data, LinkConnection):
                self.dialer.on_ready(data, mask, now)
            else:
                self._drain_wakeups()
                self._finish_jobs(now)
        if tick_due:
            self.server.tick(now)
            self.dialer.tick(now)
            self._expire_closing(time.monotonic())
            self.acceptor.expire(time.monotonic())
        if self.hangup or self.server.rehash_requests:
            self.hangup = False
            self._reload(now)
        held_due = self.server.release_held(now)
        if self.server.link_requests:  # CONNECT and SQUIT by operators
            self.dialer.requested()
        for session_id in list(self.server.adopted):  # a SERVER line flood control held
            if session_id in self.connections:
                self._adopt(self.connections[session_id], [], now)
            else:
                self.server.link_lost(self.server.adopted.pop(session_id), "Connection gone", now)
        self._start_jobs()
        self.server.store.commit()  # durable before visible: commit, then send
        self._flush(now)
        return held_due

    # -- signals ---------------------------------------------------------------------------

    def _install_signals(self) -> None:
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, self._on_hangup_signal)

    def _on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _on_hangup_signal(self, signum: int, frame: FrameType | None) -> None:
        self.hangup = True  # the wake-up fd ends the select; the loop turn does the work

    def _reload(self, now: float) -> None:
        """SIGHUP or REHASH, on the loop: reread the configuration and the certificate."""
        new, source = self.reload()
        self.server.rehash(new, source, now)
        if not isinstance(new, str):
            logging.getLogger().setLevel(self.config.log_level.upper())
            self.reload_tls()
            self.dialer.reconfigure()

    # -- jobs off the loop -------------------------------------------------------------------

    def _start_jobs(self) -> None:
        for job in self.server.take_jobs():
            self.workers.submit(job.run).add_done_callback(functools.partial(self._job_done, job))

    def _job_done(self, job: Job[Any], future: Future[None]) -> None:
        """On the worker thread: hand the job back and wake the loop. `Job.run` keeps what
        its work raised; whatever escaped it still fails the job (`Server.finish_job`
        reports it)."""
        escaped = future.exception()
        if escaped is not None and job.error is None:
            job.error = escaped
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

    def _connected(
        self, sock: socket.socket, ip: str, framing: Framing, now: float, unsent: bytes,
        read_ahead: bytes,
    ) -> None:  # fmt: skip
        """The acceptor has a socket ready for IRC: give it a session in the core. `unsent`
        is what must go out first (the WebSocket upgrade's answer), `read_ahead` what came
        in behind the upgrade request."""
        session = self.server.connect(ip, now)
        conn = Connection(sock, session, framing, ip)
        conn.outbuf += unsent
        self.connections[session.id] = conn
        self.selector.register(sock, selectors.EVENT_READ, conn)
        if read_ahead:
            self._receive(conn, read_ahead, now)
        if conn.tls:
            # Lines sent right behind the handshake may already sit in the TLS layer,
            # where epoll cannot see them: read now rather than wait for readiness.
            self._on_ready(conn, selectors.EVENT_READ, now)
        elif self.connections.get(session.id) is conn:
            self._watch_write(conn)

    def _on_ready(self, conn: Connection, mask: int, now: float) -> None:
        if self.connections.get(conn.session.id) is not conn:
            return  # closed earlier in this turn
        flush, read = conn.sides(mask)
        if flush:
            try:
                conn.flush()
            except OSError as exc:
                self._drop(conn, f"Write error: {describe(exc)}", now)
                return
            if conn in self.closing:  # its last lines are out: no need to wait for the tick
                if not conn.outbuf:
                    self._close(conn)
                return
        if read and not conn.session.closing:
            self._read(conn, now)
        if self.connections.get(conn.session.id) is conn:
            self._watch_write(conn)

    def _read(self, conn: Connection, now: float) -> None:
        try:
            data = conn.read()
        except OSError as exc:
            self._drop(conn, f"Read error: {describe(exc)}", now)
            return
        if data is None:
            return
        if not data:
            self._drop(conn, "Remote host closed the connection", now)
            return
        self._receive(conn, data, now)

    def _receive(self, conn: Connection, data: bytes, now: float) -> None:
        """Hand the core every complete line in `data`."""
        session = conn.session
        ended = None
        try:
            lines = conn.framing.feed(data, conn.outbuf)
        except FramingEnded as exc:
            lines, ended = exc.lines, str(exc)
        if len(conn.outbuf) > self.config.sendq:  # WebSocket pongs to a client not reading
            conn.outbuf.clear()
            self._drop(conn, "SendQ exceeded", now)
            return
        receive = self.server.receive
        rest: list[bytes] = []
        try:
            for index, line in enumerate(lines):
                receive(session, line, now)
                if session.closing:
                    rest = lines[index + 1 :]
                    break
        except Exception:
            # A bug in the core: this client is dropped, the server and the others go on.
            log.exception("bug while handling a line from %r", session)
            self.server.connection_lost(session, "Internal error", now)
        if ended is not None and not session.closing:
            self.server.connection_lost(session, ended, now)
        if self.server.adopted:
            self._adopt(conn, rest, now)

    def _adopt(self, conn: Connection, rest: list[bytes], now: float) -> None:
        """A server dialed us (core.s2s): the socket, and the lines after its SERVER
        line, are its link's now."""
        link = self.server.adopted.pop(conn.session.id, None)
        if link is not None:
            self.connections.pop(conn.session.id, None)
            self.selector.unregister(conn.sock)
            self.acceptor.release(conn.peer)
            self.dialer.adopt(conn, link, rest, now)

    def _flush(self, now: float) -> None:
        """Hand every touched session's queue to its socket: one send per connection."""
        outbox, connections, sendq = self.server.outbox, self.connections, self.config.sendq
        while sessions := outbox.drain():
            for session in sessions:
                conn = connections.get(session.id)
                if conn is None:
                    if not self.dialer.write(session, now):
                        session.outq.clear()
                else:
                    self._write(conn, conn.session, sendq, now)

    def _write(self, conn: Connection, session: Session, sendq: int, now: float) -> None:
        conn.framing.encode(session.outq, conn.outbuf)
        session.outq.clear()
        closing = session.closing
        if closing:
            conn.framing.goodbye(conn.outbuf)
        try:
            conn.flush()
        except OSError as exc:
            self._drop(conn, f"Write error: {describe(exc)}", now)
            return
        if closing:
            self._start_closing(conn)
        elif len(conn.outbuf) > sendq:  # what the client has not taken yet
            conn.outbuf.clear()
            self._drop(conn, "SendQ exceeded", now)
        else:
            self._watch_write(conn)

    def _watch_write(self, conn: Connection) -> None:
        if conn in self.closing:
            return  # only write readiness matters now (see _start_closing)
        want = conn.wants_write()
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
        self.acceptor.release(conn.peer)

    def _shutdown(self) -> None:
        """Send every client the shutdown ERROR, flush for a moment, close everything."""
        now = time.time()
        for listener in self.acceptor.listeners:  # those in the backlog are told too ...
            if not listener.tls and not listener.web:  # ... if they are IRC clients that
                self.acceptor.accept(listener, now)  # could read it before a handshake
        log.info("shutting down: %d connections", len(self.connections))
        self.server.shutdown()
        self.dialer.close_all("Server shutting down", now)
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
        self.acceptor.close()
        self.selector.close()
        self.workers.shutdown(wait=True, cancel_futures=True)
        self.server.store.close()
