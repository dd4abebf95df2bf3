"""One client socket: line framing on the way in, a write buffer on the way out."""

from __future__ import annotations

import contextlib
import socket

from miniircd.core.session import Session
from miniircd.protocol.framing import LineBuffer

READ_SIZE = 65536


class Connection:
    __slots__ = ("lines", "outbuf", "session", "sock", "watching_write")

    def __init__(self, sock: socket.socket, session: Session, max_line_pending: int) -> None:
        self.sock = sock
        self.session = session
        self.lines = LineBuffer(max_line_pending)
        self.outbuf = bytearray()
        self.watching_write = False

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> bytes | None:
        """Bytes received, b"" at end of stream, None if nothing is there after all.

        Raises OSError when the socket has failed.
        """
        try:
            return self.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return None

    def flush(self) -> None:
        """Send as much of the buffer as the socket takes now; raises OSError if it is dead."""
        if not self.outbuf:
            return
        try:
            sent = self.sock.send(self.outbuf)
        except (BlockingIOError, InterruptedError):
            return
        del self.outbuf[:sent]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
