"""Splitting a byte stream into IRC lines.

Lines end in CR-LF, bare LF or bare CR; empty lines are dropped. Data that grows past
`max_pending` bytes without any line ending is a protocol violation (`LineOverflow`):
the peer is flooding us with one endless line.
"""

from __future__ import annotations


class LineOverflow(Exception):
    """More than `max_pending` bytes arrived with no line ending."""


class LineBuffer:
    __slots__ = ("_pending", "max_pending")

    def __init__(self, max_pending: int = 8192) -> None:
        self._pending = b""
        self.max_pending = max_pending

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return the complete, non-empty lines without their endings."""
        buf = self._pending + data if self._pending else data
        end = max(buf.rfind(b"\n"), buf.rfind(b"\r"))
        if end < 0:
            if len(buf) > self.max_pending:
                self._pending = b""
                raise LineOverflow(len(buf))
            self._pending = buf
            return []
        self._pending = buf[end + 1 :]
        if len(self._pending) > self.max_pending:
            self._pending = b""
            raise LineOverflow(len(buf))
        return [line for line in buf[:end].splitlines() if line]
