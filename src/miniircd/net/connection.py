"""One client socket: a framing on the way in, a write buffer on the way out.

The framing (net/framing) turns bytes into IRC lines and queued lines into bytes: plain
lines for TCP and TLS, WebSocket messages for a browser.

The socket may be plain or TLS (an `ssl.SSLSocket` whose handshake is done). TLS adds three
twists, all handled here so the loop treats every connection alike:
- OpenSSL may need to write in order to read (a key update) or to read in order to write.
  `read` and `flush` then return as if the socket were not ready and set `read_wants_write`
  or `write_wants_read`; the loop retries the stalled side when the other readiness comes.
- A TLS socket can hold decrypted bytes that epoll never reports (`pending()`), so `read`
  keeps reading while any are buffered.
- A TLS send takes all it is given or nothing, and one that could not finish must be
  retried with the same bytes; `flush` sends in bounded pieces from the buffer's start.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl

from miniircd.core.session import Session
from miniircd.net.framing import Framing

READ_SIZE = 65536
TLS_SEND_SIZE = 65536  # plaintext bytes per TLS send: four full records
# What a socket raises when it cannot go on right now; for TLS, which side it waits for
# is told apart in read() and flush().
_NOT_READY = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


class Stream:
    """A non-blocking socket, plain or TLS, and the bytes waiting to be sent on it."""

    __slots__ = ("outbuf", "read_wants_write", "sock", "tls", "write_wants_read")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.tls = isinstance(sock, ssl.SSLSocket)
        self.outbuf = bytearray()
        self.read_wants_write = False
        self.write_wants_read = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def wants_write(self) -> bool:
        """Whether the loop should watch this socket for write readiness."""
        return bool(self.outbuf) or self.read_wants_write

    def sides(self, mask: int) -> tuple[bool, bool]:
        """What a readiness `mask` lets us do: (flush, read). A stalled TLS side runs when
        the readiness it waited for comes."""
        readable, writable = bool(mask & selectors.EVENT_READ), bool(mask & selectors.EVENT_WRITE)
        return writable or (self.write_wants_read and readable), readable or (
            self.read_wants_write and writable
        )

    def read(self) -> bytes | None:
        """Bytes received, b"" at end of stream, None if nothing is there after all.

        Raises OSError when the socket has failed (for TLS: ssl.SSLError, a subclass).
        """
        self.read_wants_write = False
        try:
            data = self.sock.recv(READ_SIZE)
        except ssl.SSLWantWriteError:
            self.read_wants_write = True
            return None
        except _NOT_READY:
            return None
        if self.tls and data:
            sock: ssl.SSLSocket = self.sock  # type: ignore[assignment]
            chunks = [data]
            with contextlib.suppress(*_NOT_READY):
                while sock.pending() > 0:
                    more = sock.recv(READ_SIZE)
                    if not more:
                        break
                    chunks.append(more)
            data = b"".join(chunks) if len(chunks) > 1 else data
        return data

    def flush(self) -> None:
        """Send as much of the buffer as the socket takes now; raises OSError if it is dead.

        A TLS send that could not finish is retried later with the same bytes at the start
        of the buffer, as OpenSSL requires (the buffer may only have grown meanwhile).
        """
        self.write_wants_read = False
        if not self.outbuf:
            return
        try:
            if not self.tls:
                sent = self.sock.send(self.outbuf)
                del self.outbuf[:sent]
                return
            # A TLS send is all or nothing: go a few records at a time, so that the buffer
            # shrinks as the peer reads, as it does for a plain socket (and the send queue
            # counts what is really still waiting).
            while self.outbuf:
                sent = self.sock.send(self.outbuf[:TLS_SEND_SIZE])
                del self.outbuf[:sent]
        except ssl.SSLWantReadError:
            self.write_wants_read = True
        except _NOT_READY:
            pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class Connection(Stream):
    """A client the core knows: its socket, its session and how its bytes are framed."""

    __slots__ = ("framing", "peer", "session", "watching_write")

    def __init__(self, sock: socket.socket, session: Session, framing: Framing, peer: str) -> None:
        super().__init__(sock)
        self.session = session
        self.framing = framing
        self.peer = peer  # the IP address counted for the per-address connection limit
        self.watching_write = False
