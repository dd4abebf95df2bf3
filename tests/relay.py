"""A TCP relay between two servers of a test network, to make netsplits on demand.

The relay listens on its own 127.0.0.x and forwards every connection it accepts to one
target address, byte for byte, both ways. A dialing server's `[[links]]` block points at
the relay instead of at its peer; then the test can
- `cut()`: close both sides of every connection and stop listening (a netsplit; the
  dialer's retries are refused until `restore()`),
- `pause()` / `resume()`: stop and start forwarding, the connections left open (a link gone
  silent, for a ping-timeout split),
- `restore()`: listen again, on the same address.

One thread runs a selector over the listening socket and the connections; the test's
thread takes the same lock to change them, so each call has taken effect when it returns.
`close()` ends the thread and closes every socket (the test fixture calls it, whatever
happened).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

CHUNK = 65536
TIMEOUT = 5.0  # a connect to the target or a write to either side, on loopback


class Relay:
    def __init__(self, host: str, target: tuple[str, int]) -> None:
        self.host = host
        self.target = target
        self.port = 0
        self.accepted = 0  # connections accepted so far
        self.forwarded = 0  # bytes forwarded so far, both ways
        self.paused = False
        self._lock = threading.Lock()
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._peer: dict[socket.socket, socket.socket] = {}  # each side -> the other side
        self._stopping = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._listen()
        self._thread = threading.Thread(target=self._run, name=f"relay-{host}", daemon=True)
        self._thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def connections(self) -> int:
        """Connections open through the relay now."""
        with self._lock:
            return len(self._peer) // 2

    # -- the test's controls ---------------------------------------------------------------

    def cut(self) -> None:
        """A netsplit: every connection closed on both sides, and no new one accepted."""
        with self._lock:
            self._close_listener()
            for sock in list(self._peer):
                self._drop(sock)
        self._wake()

    def restore(self) -> None:
        """Accept connections again, on the same address (after `cut`)."""
        with self._lock:
            if self._listener is None:
                self._listen()
        self._wake()

    def pause(self) -> None:
        """Stop forwarding: the connections stay open and silent (bytes wait in the kernel)."""
        with self._lock:
            if not self.paused:
                self.paused = True
                for sock in self._peer:
                    self._selector.unregister(sock)
        self._wake()

    def resume(self) -> None:
        """Forward again what waited and what comes."""
        with self._lock:
            if self.paused:
                self.paused = False
                for sock in self._peer:
                    self._selector.register(sock, selectors.EVENT_READ)
        self._wake()

    def close(self) -> None:
        """Stop the thread and close every socket."""
        with self._lock:
            self._stopping = True
        self._wake()
        self._thread.join(TIMEOUT)
        with self._lock:
            self._close_listener()
            for sock in list(self._peer):
                self._drop(sock)
            self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- the relay's thread ----------------------------------------------------------------

    def _run(self) -> None:
        while True:
            events = self._selector.select(1.0)
            with self._lock:
                if self._stopping:
                    return
                for key, _ in events:
                    sock = key.fileobj
                    if sock is self._wake_r:
                        with contextlib.suppress(OSError):
                            self._wake_r.recv(CHUNK)
                    elif sock is self._listener:
                        self._accept()
                    elif sock in self._peer and not self.paused:
                        assert isinstance(sock, socket.socket)
                        self._forward(sock)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            near, _ = self._listener.accept()
        except BlockingIOError:
            return
        try:
            far = socket.create_connection(self.target, timeout=TIMEOUT)
        except OSError:
            near.close()  # the target is down: so is the link
            return
        self.accepted += 1
        for sock in (near, far):
            sock.setblocking(True)
            sock.settimeout(TIMEOUT)
        self._peer[near], self._peer[far] = far, near
        if not self.paused:
            self._selector.register(near, selectors.EVENT_READ)
            self._selector.register(far, selectors.EVENT_READ)

    def _forward(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(CHUNK)
            if data:
                self._peer[sock].sendall(data)
                self.forwarded += len(data)
                return
        except OSError:
            pass
        self._drop(sock)  # closed, reset or stuck: both sides go, as a broken link would

    def _drop(self, sock: socket.socket) -> None:
        """Close `sock` and the socket it is paired with."""
        other = self._peer.pop(sock, None)
        if other is None:
            return  # dropped already, with its pair
        del self._peer[other]
        for one in (sock, other):
            if not self.paused:
                self._selector.unregister(one)
            with contextlib.suppress(OSError):
                one.shutdown(socket.SHUT_RDWR)
            one.close()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(8)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ)

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._selector.unregister(self._listener)
            self._listener.close()
            self._listener = None

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
