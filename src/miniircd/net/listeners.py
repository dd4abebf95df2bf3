"""Everything before a client reaches the core: listeners, connection limits, TLS handshakes.

A listener is plain or TLS. Every accepted socket, a TLS one still in its handshake
included, counts against `max_connections` and `max_connections_per_ip` until it is
closed (the loop calls `Acceptor.release`). A socket over a limit never reaches the core:
a plain one is sent one ERROR line (best effort, without waiting) and closed; a TLS one is
just closed, since nothing readable can be said to a TLS client before a handshake, and
the server does not spend one on a client it refuses.

A socket is handed to the loop (`connected`) once it is ready for IRC: at once for a plain
listener, after the handshake for TLS (see net/tls). The loop then gives it a session.
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
from miniircd.net.tls import Handshake, describe

log = logging.getLogger("miniircd.net")

BACKLOG = 4096
SERVER_FULL = "Server is full"
TOO_MANY_FROM_IP = "Too many connections from your IP"


class Listener:
    __slots__ = ("sock", "tls")

    def __init__(self, sock: socket.socket, tls: bool) -> None:
        self.sock = sock
        self.tls = tls

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


def refuse(sock: socket.socket, ip: str, reason: str, tls: bool) -> None:
    """Turn away an accepted socket without creating a session."""
    with contextlib.suppress(OSError):
        if not tls:
            sock.setblocking(False)
            sock.send(f"ERROR :Closing link: {ip} ({reason})\r\n".encode())
    with contextlib.suppress(OSError):
        sock.close()


Connected = Callable[[socket.socket, str, float], None]  # (socket, IP address, now)


class Acceptor:
    """The listeners, the connection count and the TLS handshakes under way."""

    def __init__(self, selector: selectors.BaseSelector, connected: Connected) -> None:
        self.selector = selector
        self.connected = connected
        self.listeners: list[Listener] = []
        self.handshakes: set[Handshake] = set()
        self.counter = ConnectionCounter()
        self.tls_context: ssl.SSLContext | None = None  # for new TLS clients

    def listen(self, host: str, port: int, tls: bool) -> tuple[str, int]:
        """Bind and listen; raises OSError if the address cannot be used."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
        sock.setblocking(False)
        listener = Listener(sock, tls)
        self.listeners.append(listener)
        self.selector.register(sock, selectors.EVENT_READ, listener)
        bound: tuple[str, int] = sock.getsockname()[:2]
        return bound

    def accept(self, listener: Listener, config: Config, now: float) -> None:
        """Take every socket waiting on `listener`."""
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
                refuse(sock, ip, refused, listener.tls)
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if listener.tls:
                self._start_handshake(sock, ip, config.tls_handshake_timeout)
            else:
                self.connected(sock, ip, now)

    def release(self, ip: str) -> None:
        """A socket handed to the loop is closed."""
        self.counter.release(ip)

    # -- TLS handshakes --------------------------------------------------------------------

    def _start_handshake(self, sock: socket.socket, ip: str, timeout: float) -> None:
        assert self.tls_context is not None
        deadline = time.monotonic() + timeout
        try:
            handshake = Handshake.start(self.tls_context, sock, ip, deadline)
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
        self.connected(handshake.sock, handshake.peer, now)

    def expire_handshakes(self, monotonic_now: float) -> None:
        """Drop the clients whose handshake is not done by its deadline."""
        for handshake in [h for h in self.handshakes if monotonic_now >= h.deadline]:
            log.debug("TLS handshake with %s timed out", handshake.peer)
            self._end_handshake(handshake)

    def _end_handshake(self, handshake: Handshake) -> None:
        self.handshakes.discard(handshake)
        self.selector.unregister(handshake.sock)
        handshake.close()
        self.counter.release(handshake.peer)

    def close(self) -> None:
        """Close every listener and every unfinished handshake."""
        for handshake in list(self.handshakes):
            self._end_handshake(handshake)
        for listener in self.listeners:
            self.selector.unregister(listener.sock)
            listener.sock.close()
