"""Server links' sockets: dialing the `[[links]]` blocks with `connect = true`, retrying
with back-off, taking over a client connection that turned out to be a server dialing us
(`adopt`), and moving lines between the sockets and the core (core.s2s).

A block is dialed when no link to it is open and its retry time has come: the first retry
after `retry` seconds, then twice as long each time up to `retry_max`; a link that came up
starts the count again. An operator's CONNECT dials a block at once (even one with
`connect = false`); a link an operator closed with SQUIT waits `retry_max` before it is
redialed (`requested`). The socket is bound to the `[listen]` host when that is one
address, so each server of a test network on 127.0.0.x speaks from its own.

A block with `tls = true` is dialed with TLS: once TCP is connected the handshake runs in
steps (net/link_tls), and the peer's certificate is checked before the core is told of the
link, so our password goes only to a peer that passed. A server that dials our TLS
listener is adopted as on the plain port, once its block's checks pass; one over
WebSocket is refused. A reload (`reconfigure`) stops dialing blocks that are gone and
dials new or changed ones at the next tick.

Once connected, a link is a `LinkConnection` in the loop's selector: the loop hands it
readiness (`on_ready`) and, when the core queued lines for it or for a user behind it,
a flush (`write`). A peer that stops reading is cut when its unsent data passes `sendq`
("SendQ exceeded"), as a client is; a silent one by the core's ping timeout.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import selectors
import socket
import ssl
import time

from miniircd.config import LinkBlock
from miniircd.core.link import Link
from miniircd.core.server import Server
from miniircd.core.user import RemoteUser, User
from miniircd.net import link_tls
from miniircd.net.connection import Connection, Stream
from miniircd.net.framing import Framing, FramingEnded, LineFraming
from miniircd.net.tls import TlsError, describe

log = logging.getLogger("miniircd.net")


class LinkConnection(Stream):
    """A socket to a peer server: still connecting (`link` is None; `deadline` is set
    while its TLS handshake runs) or linked."""

    __slots__ = ("block", "deadline", "framing", "link")

    def __init__(self, sock: socket.socket, block: LinkBlock, framing: Framing) -> None:
        super().__init__(sock)
        self.block = block
        self.link: Link | None = None
        self.framing = framing
        self.deadline: float | None = None  # time.monotonic() to finish the TLS handshake by


class Dialer:
    """The outgoing links: their sockets and when each is next dialed."""

    def __init__(self, selector: selectors.BaseSelector, server: Server) -> None:
        self.selector = selector
        self.server = server
        self.conns: dict[str, LinkConnection] = {}  # block name -> its open socket
        self.next_try: dict[str, float] = {}  # block name -> monotonic time to dial
        self.delay: dict[str, float] = {}  # block name -> the next back-off
        self.held: dict[str, float] = {}  # block name -> not dialed before (after a SQUIT)
        self.blocks = {block.name: block for block in server.config.links}  # as last seen

    def tick(self, now: float) -> None:
        """Dial every block whose turn has come (call about once a second)."""
        mono = time.monotonic()
        for conn in list(self.conns.values()):
            if conn.deadline is not None and mono >= conn.deadline:
                self._failed(conn, "TLS handshake timed out")
        for block in self.server.config.links:
            if not block.connect or block.name in self.conns:
                continue
            if mono >= max(self.next_try.get(block.name, 0.0), self.held.get(block.name, 0.0)):
                self._dial(block, mono)

    def requested(self) -> None:
        """Operators' requests (core.link_requests): CONNECT dials a block now, whether or
        not it dials by itself; SQUIT holds one back for its `retry_max`."""
        requests, self.server.link_requests = self.server.link_requests, []
        mono = time.monotonic()
        for request in requests:
            block = next((b for b in self.server.config.links if b.name == request.name), None)
            if block is None:
                continue
            if not request.dial:
                self.held[block.name] = mono + block.retry_max
            elif block.name not in self.conns:
                self.held.pop(block.name, None)
                self.delay[block.name] = block.retry
                self._dial(block, mono, request.port)

    def _dial(self, block: LinkBlock, mono: float, port: int | None = None) -> None:
        delay = self.delay.get(block.name, block.retry)
        self.next_try[block.name] = mono + delay
        self.delay[block.name] = min(delay * 2, block.retry_max)
        host = self.server.config.host
        try:
            family = socket.AF_INET6 if ":" in block.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            log.warning("link %s: cannot make a socket: %s", block.name, describe(exc))
            return
        sock.setblocking(False)
        # As for clients (net/listeners): a link's small writes go out at once; with Nagle
        # each waits for the peer's delayed ACK, and the link carries a few writes a turn.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            if host not in ("", "0.0.0.0", "::") and (":" in host) == (family == socket.AF_INET6):
                sock.bind((host, 0))
            code = sock.connect_ex((block.host, port or block.port))
        except OSError as exc:
            sock.close()
            log.info(
                "link %s: cannot connect: %s; retrying in %gs", block.name, describe(exc), delay
            )
            return
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            sock.close()
            log.info(
                "link %s: cannot connect: %s; retrying in %gs",
                block.name,
                errno.errorcode.get(code, code),
                delay,
            )
            return
        conn = LinkConnection(sock, block, LineFraming(self.server.config.max_line_pending))
        self.conns[block.name] = conn
        self.selector.register(sock, selectors.EVENT_WRITE, conn)

    def adopt(self, client: Connection, link: Link, rest: list[bytes], now: float) -> None:
        """A client connection that turned out to be a server dialing us (core.s2s): its
        socket, framing and unsent bytes become the link's; `rest` are the lines it sent
        after its SERVER line."""
        name = link.block.name
        refused = link_tls.refusal(link.block, client.sock)
        if refused is None and (not isinstance(client.framing, LineFraming) or name in self.conns):
            refused = "Refused: not an IRC connection, or one is open"
        if refused is not None:
            log.warning("link %s: refused from %s: %s", name, link.host, refused)
            link.outq.clear()  # our PASS and SERVER: never to a peer we refuse
            self.server.link_lost(link, refused, now)
            self._goodbye(client, client.framing, refused)
            client.close()
            return
        conn = LinkConnection(client.sock, link.block, client.framing)
        conn.outbuf += client.outbuf
        conn.link = link
        self.conns[name] = conn
        self.selector.register(conn.sock, selectors.EVENT_READ, conn)
        for line in rest:
            self.server.link_receive(link, line, now)
        self.write(link, now)

    def on_ready(self, conn: LinkConnection, mask: int, now: float) -> None:
        if self.conns.get(conn.block.name) is not conn:
            return
        if conn.link is None:
            if conn.deadline is None:
                self._connected(conn, now)
            else:
                self._handshake(conn, now)
            return
        flush, read = conn.sides(mask)
        if flush:
            self._flush(conn, now)
        if read and self.conns.get(conn.block.name) is conn and not conn.link.closing:
            self._read(conn, now)
        if self.conns.get(conn.block.name) is conn:
            self._watch(conn)

    def _connected(self, conn: LinkConnection, now: float) -> None:
        code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            reason = errno.errorcode.get(code, str(code))
            wait = max(0.0, self.next_try[conn.block.name] - time.monotonic())
            log.info(
                "link %s: cannot connect: %s; retrying in %.0fs", conn.block.name, reason, wait
            )
            self._close(conn)
            return
        log.info("link %s: connected to %s:%d", conn.block.name, conn.block.host, conn.block.port)
        if conn.block.tls:
            self._start_tls(conn, now)
        else:
            self._link_up(conn, now)

    def _start_tls(self, conn: LinkConnection, now: float) -> None:
        block = conn.block
        try:
            context = link_tls.dial_context(block, self.server.config)
        except TlsError as exc:
            self._failed(conn, str(exc))
            return
        self.selector.unregister(conn.sock)
        try:
            conn.sock = link_tls.wrap(context, conn.sock, block)
        except OSError as exc:
            conn.sock.close()
            del self.conns[block.name]
            log.info("link %s: TLS setup failed: %s", block.name, describe(exc))
            return
        conn.tls = True
        conn.deadline = time.monotonic() + self.server.config.tls_handshake_timeout
        self.selector.register(conn.sock, selectors.EVENT_WRITE, conn)
        self._handshake(conn, now)

    def _handshake(self, conn: LinkConnection, now: float) -> None:
        sock = conn.sock
        assert isinstance(sock, ssl.SSLSocket)
        try:
            events = link_tls.step(sock)
        except OSError as exc:
            self._failed(conn, f"TLS handshake failed: {describe(exc)}")
            return
        if events:
            self.selector.modify(sock, events, conn)
            return
        conn.deadline = None
        refused = link_tls.refusal(conn.block, sock)
        if refused is not None:
            self._goodbye(conn, conn.framing, refused)
            self._failed(conn, f"refused: {refused}", logging.WARNING)
            return
        log.info("link %s: TLS with %s", conn.block.name, sock.version())
        self._link_up(conn, now)

    def _failed(self, conn: LinkConnection, reason: str, level: int = logging.INFO) -> None:
        """A dial that did not reach the link stage: log why and wait for the next try."""
        wait = max(0.0, self.next_try.get(conn.block.name, 0.0) - time.monotonic())
        log.log(level, "link %s: %s; retrying in %.0fs", conn.block.name, reason, wait)
        self._close(conn)

    def _goodbye(self, conn: Stream, framing: Framing, reason: str) -> None:
        """Tell a peer we refuse why, best effort, without waiting."""
        framing.encode([f":{self.server.name} ERROR :{reason}\r\n".encode()], conn.outbuf)
        framing.goodbye(conn.outbuf)
        with contextlib.suppress(OSError):
            conn.flush()

    def _link_up(self, conn: LinkConnection, now: float) -> None:
        conn.link = self.server.link_open(conn.block, conn.block.host, True, now)
        self.selector.modify(conn.sock, selectors.EVENT_READ, conn)
        self.write(conn.link, now)

    def _read(self, conn: LinkConnection, now: float) -> None:
        assert conn.link is not None
        try:
            data = conn.read()
        except OSError as exc:
            self._lost(conn, f"Read error: {describe(exc)}", now)
            return
        if data is None:
            return
        if not data:
            self._lost(conn, "Remote host closed the connection", now)
            return
        ended = None
        try:
            lines = conn.framing.feed(data, conn.outbuf)
        except FramingEnded as exc:
            lines, ended = exc.lines, str(exc)
        for line in lines:
            self.server.link_receive(conn.link, line, now)
            if conn.link.closing:
                break
        if ended is not None:
            self._lost(conn, ended, now)
        elif conn.link.closing:  # refused, or the peer's ERROR: flush, then close
            self._flush(conn, now)

    def write(self, user: User, now: float) -> bool:
        """Write what the core queued for a link, or for a user behind one; False if
        `user` is neither (or its link has no socket)."""
        if isinstance(user, Link):
            link: Link | None = user
        elif isinstance(user, RemoteUser):
            link = self.server.state.links.get(user.via)
        else:
            return False
        conn = self.conns.get(link.block.name) if link is not None else None
        if conn is None or conn.link is None or conn.link is not link:
            return False
        if conn.link.outq or conn.link.closing:  # each user behind it was touched: one flush a turn
            self._flush(conn, now)
        return True

    def _flush(self, conn: LinkConnection, now: float) -> None:
        link = conn.link
        assert link is not None
        conn.outbuf += b"".join(link.take_output())
        try:
            conn.flush()
        except OSError as exc:
            self._lost(conn, f"Write error: {describe(exc)}", now)
            return
        if link.closing and not conn.outbuf:
            self._lost(conn, "Link closed", now)
        elif len(conn.outbuf) > conn.block.sendq:
            conn.outbuf.clear()
            self._lost(conn, "SendQ exceeded", now)
        else:
            self._watch(conn)

    def _watch(self, conn: LinkConnection) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.wants_write() else 0)
        self.selector.modify(conn.sock, events, conn)

    def _lost(self, conn: LinkConnection, reason: str, now: float) -> None:
        if conn.link is not None:
            if conn.link.up:  # a link that came up starts the back-off again
                self.delay[conn.block.name] = conn.block.retry
                self.next_try[conn.block.name] = time.monotonic() + conn.block.retry
            self.server.link_lost(conn.link, reason, now)
            conn.link.outq.clear()
        self._close(conn)

    def _close(self, conn: LinkConnection) -> None:
        if self.conns.get(conn.block.name) is conn:
            del self.conns[conn.block.name]
        self.selector.unregister(conn.sock)
        conn.close()

    def reconfigure(self) -> None:
        """The configuration was reloaded: a socket still dialing a block that is gone is
        closed (the core closes the links of such blocks), and a new or changed block is
        dialed at its next tick, with its own back-off."""
        blocks = {block.name: block for block in self.server.config.links}
        for name, conn in list(self.conns.items()):
            if conn.link is None and name not in blocks:
                log.info("link %s: no longer configured; not dialing it", name)
                self._close(conn)
        for name, block in blocks.items():
            if self.blocks.get(name) != block:
                self.next_try.pop(name, None)
                self.delay.pop(name, None)
        for name in set(self.next_try) - set(blocks):
            del self.next_try[name]
            self.delay.pop(name, None)
        self.blocks = blocks

    def close_all(self, reason: str, now: float) -> None:
        """Shutdown: every link is told and closed."""
        for conn in list(self.conns.values()):
            if conn.link is not None and not conn.link.closing:
                conn.outbuf += f"ERROR :{reason}\r\n".encode()
                with contextlib.suppress(OSError):
                    conn.flush()
            self._lost(conn, reason, now)
