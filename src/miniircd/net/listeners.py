"""Everything before a client reaches the core: listeners, connection limits, TLS handshakes
and web requests.

A listener is plain or TLS, for IRC or for the web (net/web). Every accepted socket, a TLS
one still in its handshake included, counts against `max_connections` and
`max_connections_per_ip` until it is closed (the loop calls `Acceptor.release`). A socket
over a limit never reaches the core: a plain IRC one is sent one ERROR line (best effort,
without waiting) and closed; a TLS or web one is just closed, since nothing it could read
can be said to it before a handshake, and the server does not spend one on a client it
refuses.

A socket is handed to the loop (`connected`) once it is ready for IRC: at once for a plain
listener, after the handshake for TLS (see net/tls), after the upgrade to WebSocket for a web
listener. The loop then gives it a session.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import ssl
import time
from collections.abc import Callable

from miniircd.config import Config
from miniircd.net.framing import LineFraming
from miniircd.net.tls import Handshake, describe
from miniircd.net.web import Upgraded, WebGate

log = logging.getLogger("miniircd.net")

BACKLOG = 4096
SERVER_FULL = "Server is full"
TOO_MANY_FROM_IP = "Too many connections from your IP"


class Listener:
    __slots__ = ("sock", "tls", "web")

    def __init__(self, sock: socket.socket, tls: bool, web: bool) -> None:
        self.sock = sock
        self.tls = tls
        self.web = web  # HTTP and WebSocket rather than IRC lines

    def fileno(self) -> int:
        return self.sock.fileno()


class ConnectionCounter:
    """Open sockets in total and per IP address."""

    __slots__ = ("per_ip", "total")

    def __init__(self) -> None:
        self.total = 0
        self.per_ip: dict[str, int] = {}

    def admit(self, ip: str, max_total: int, max_per_ip: int) -> str | None:
        """Count a new socket from `ip`, or return why it is refused (and count nothing)."""
        if self.total >= max_total:
            return SERVER_FULL
        count = self.per_ip.get(ip, 0)
        if count >= max_per_ip:
            return TOO_MANY_FROM_IP
        self.per_ip[ip] = count + 1
        self.total += 1
        return None

    def release(self, ip: str) -> None:
        """A socket admitted from `ip` is closed."""
        self.total -= 1
        count = self.per_ip.pop(ip) - 1
        if count:
            self.per_ip[ip] = count

    def move(self, old: str, new: str, max_per_ip: int) -> str | None:
        """Count a socket admitted from `old` (a proxy) as from `new` (the client it
        forwards), or return why `new` is refused (and change nothing)."""
        if self.per_ip.get(new, 0) >= max_per_ip:
            return TOO_MANY_FROM_IP
        self.release(old)
        self.total += 1
        self.per_ip[new] = self.per_ip.get(new, 0) + 1
        return None


def refuse(sock: socket.socket, ip: str, reason: str, tls: bool) -> None:
    """Turn away an accepted socket without creating a session."""
    with contextlib.suppress(OSError):
        if not tls:
            sock.setblocking(False)
            sock.send(f"ERROR :Closing link: {ip} ({reason})\r\n".encode())
    with contextlib.suppress(OSError):
        sock.close()


class Acceptor:
    """The listeners, the connection count, and the TLS handshakes and web requests under
    way."""

    def __init__(
        self, selector: selectors.BaseSelector, connected: Upgraded, config: Callable[[], Config]
    ) -> None:
        self.selector = selector
        self.connected = connected
        self.config = config  # the configuration as last reloaded
        self.listeners: list[Listener] = []
        self.handshakes: set[Handshake] = set()
        self.counter = ConnectionCounter()
        self.tls_context: ssl.SSLContext | None = None  # for new TLS clients
        # For the IRC TLS listeners instead, when it asks dialing servers for a certificate
        # (net/link_tls); web browsers are never asked.
        self.irc_tls_context: ssl.SSLContext | None = None
        self.web = WebGate(selector, connected, self._move_count, self.release)

    def listen(self, host: str, port: int, tls: bool, web: bool = False) -> tuple[str, int]:
        """Bind and listen; raises OSError if the address cannot be used."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
        sock.setblocking(False)
        listener = Listener(sock, tls, web)
        self.listeners.append(listener)
        self.selector.register(sock, selectors.EVENT_READ, listener)
        bound: tuple[str, int] = sock.getsockname()[:2]
        return bound

    def accept(self, listener: Listener, now: float) -> None:
        """Take every socket waiting on `listener`."""
        config = self.config()
        limits = config.max_connections, config.max_connections_per_ip
        while True:
            try:
                sock, addr = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # e.g. EMFILE: leave the rest in the backlog for now
                log.warning("accept failed: %s", exc)
                return
            ip: str = addr[0]
            refused = self.counter.admit(ip, *limits)
            if refused is not None:
                log.debug("refused %s: %s", ip, refused)
                refuse(sock, ip, refused, listener.tls or listener.web)
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if listener.tls:
                self._start_handshake(sock, ip, listener.web, config.tls_handshake_timeout)
            else:
                self._ready(sock, ip, listener.web, now)

    def _ready(self, sock: socket.socket, ip: str, web: bool, now: float) -> None:
        """A socket past TLS (if any): to the loop for IRC, to the web gate for the web."""
        config = self.config()
        if web:
            self.web.start(sock, ip, config)
        else:
            self.connected(sock, ip, LineFraming(config.max_line_pending), now, b"", b"")

    def _move_count(self, proxy: str, client: str) -> str | None:
        return self.counter.move(proxy, client, self.config().max_connections_per_ip)

    def release(self, ip: str) -> None:
        """A socket handed to the loop is closed."""
        self.counter.release(ip)

    # -- TLS handshakes --------------------------------------------------------------------

    def _start_handshake(self, sock: socket.socket, ip: str, web: bool, timeout: float) -> None:
        context = self.tls_context if web else self.irc_tls_context or self.tls_context
        assert context is not None
        deadline = time.monotonic() + timeout
        try:
            handshake = Handshake.start(context, sock, ip, web, deadline)
        except OSError as exc:
            log.debug("TLS setup for %s failed: %s", ip, describe(exc))
            sock.close()
            self.counter.release(ip)
            return
        self.handshakes.add(handshake)
        self.selector.register(handshake.sock, handshake.events, handshake)

    def on_handshake(self, handshake: Handshake, now: float) -> None:
        """The socket is ready: take the handshake as far as it goes."""
        if handshake not in self.handshakes:
            return  # closed earlier in this loop turn
        try:
            done = handshake.step()
        except OSError as exc:  # not TLS, a protocol we refuse, or the peer went away
            log.debug("TLS handshake with %s failed: %s", handshake.peer, describe(exc))
            self._end_handshake(handshake)
            return
        if not done:
            self.selector.modify(handshake.sock, handshake.events, handshake)
            return
        self.handshakes.discard(handshake)
        self.selector.unregister(handshake.sock)
        self._ready(handshake.sock, handshake.peer, handshake.web, now)

    def expire(self, monotonic_now: float) -> None:
        """Drop the clients whose TLS handshake or web request is not done by its deadline."""
        self.web.expire(monotonic_now)
        for handshake in [h for h in self.handshakes if monotonic_now >= h.deadline]:
            log.debug("TLS handshake with %s timed out", handshake.peer)
            self._end_handshake(handshake)

    def _end_handshake(self, handshake: Handshake) -> None:
        self.handshakes.discard(handshake)
        self.selector.unregister(handshake.sock)
        handshake.close()
        self.counter.release(handshake.peer)

    def close(self) -> None:
        """Close every listener, every unfinished handshake and web request."""
        self.web.close()
        for handshake in list(self.handshakes):
            self._end_handshake(handshake)
        for listener in self.listeners:
            self.selector.unregister(listener.sock)
            listener.sock.close()
