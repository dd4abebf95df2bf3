"""How a connection's bytes become IRC lines and back: plain lines, or WebSocket messages.

A TCP or TLS client sends lines ended by CR-LF (`LineFraming`). A browser sends one IRC
line per WebSocket message (ircv3.net/specs/extensions/websocket; `WebSocketFraming`, over
wsproto's sans-IO frame parser). Either way the loop hands the core the same complete lines
and takes the same queued bytes from it; only these classes know the difference.

A framing writes what it must send into the connection's output buffer (`out`), WebSocket
control replies included: a pong, a close frame. When the peer breaks the framing or
closes its side, `feed` raises `FramingEnded` with the reason the session quits with and
the lines that came complete before it (a browser's `send(QUIT); close()` arrives as one).
"""

from __future__ import annotations

from typing import Protocol

from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionState
from wsproto.events import BytesMessage, CloseConnection, Ping, TextMessage
from wsproto.frame_protocol import CloseReason

from miniircd.protocol.framing import LineBuffer, LineOverflow

LINE_TOO_LONG = "Input line too long"

# Serialize once, send many: a channel message is the same bytes object in every member's
# queue, and a server's frame of it is the same for every WebSocket client of one kind (no
# mask, no extension), so it is framed once. Kept until this many chunks have been framed.
FRAMED_KEPT = 4096
_TEXT_FRAMES: dict[bytes, bytes] = {}
_BINARY_FRAMES: dict[bytes, bytes] = {}


class FramingEnded(Exception):
    """The link ends: the peer broke the framing or closed its side. The message is the
    reason the session quits with; `lines` came complete before the end."""

    def __init__(self, reason: str, lines: list[bytes] | None = None) -> None:
        super().__init__(reason)
        self.lines = lines or []


class Framing(Protocol):
    def feed(self, data: bytes, out: bytearray) -> list[bytes]:
        """Received bytes -> the complete, non-empty lines, without line endings."""
        ...

    def encode(self, chunks: list[bytes], out: bytearray) -> None:
        """Append the core's queued bytes (whole CR-LF lines) as they go on the wire."""
        ...

    def goodbye(self, out: bytearray) -> None:
        """The server ends the link: append what the protocol says last, if anything."""
        ...


class LineFraming:
    """IRC over TCP or TLS: lines ended by CR-LF, LF or CR."""

    __slots__ = ("lines",)

    def __init__(self, max_pending: int) -> None:
        self.lines = LineBuffer(max_pending)

    def feed(self, data: bytes, out: bytearray) -> list[bytes]:
        try:
            return self.lines.feed(data)
        except LineOverflow:
            raise FramingEnded(LINE_TOO_LONG) from None

    def encode(self, chunks: list[bytes], out: bytearray) -> None:
        out += b"".join(chunks)

    def goodbye(self, out: bytearray) -> None:
        pass


class WebSocketFraming:
    """IRC over WebSocket, after the HTTP upgrade (net/web): one line per message.

    `text` is true for the `text.ircv3.net` subprotocol and for a client that asked for
    none: lines go out as text frames, bytes that are not UTF-8 replaced by U+FFFD. Else
    (`binary.ircv3.net`) they go out as binary frames, as they are. Either kind is accepted
    from the client. A message may end in CR-LF; one holding several lines is taken as
    several lines, as the same bytes would be on TCP. A message longer than `max_message`
    bytes (counted as it arrives, so a huge announced length costs nothing) closes the link
    with 1009.
    """

    __slots__ = ("max_message", "partial", "size", "text", "ws")

    def __init__(self, ws: WsConnection, text: bool, max_message: int) -> None:
        self.ws = ws
        self.text = text
        self.max_message = max_message
        self.partial: list[bytes] = []  # the fragments of the message under way
        self.size = 0

    def feed(self, data: bytes, out: bytearray) -> list[bytes]:
        if self.ws.state is not ConnectionState.OPEN:
            return []  # closing: whatever comes now is not read
        self.ws.receive_data(data)
        lines: list[bytes] = []
        try:
            for event in self.ws.events():
                if isinstance(event, TextMessage | BytesMessage):
                    lines += self._message_part(event, out)
                elif isinstance(event, Ping):
                    out += self.ws.send(event.response())
                elif isinstance(event, CloseConnection):
                    self._closed_by_peer(event, out)
        except FramingEnded as end:
            end.lines = lines
            raise
        return lines

    def _message_part(self, event: TextMessage | BytesMessage, out: bytearray) -> list[bytes]:
        part = event.data.encode() if isinstance(event, TextMessage) else bytes(event.data)
        self.size += len(part)
        if self.size > self.max_message:
            out += self.ws.send(CloseConnection(CloseReason.MESSAGE_TOO_BIG, "Message too big"))
            raise FramingEnded(LINE_TOO_LONG)
        self.partial.append(part)
        if not event.message_finished:
            return []
        message = b"".join(self.partial)
        self.partial.clear()
        self.size = 0
        return [line for line in message.splitlines() if line]

    def _closed_by_peer(self, event: CloseConnection, out: bytearray) -> None:
        if self.ws.state is ConnectionState.REMOTE_CLOSING:  # a close frame: answer it
            out += self.ws.send(event.response())
            raise FramingEnded("Remote host closed the connection")
        # wsproto reports a frame it could not parse as a close, with the code to send.
        out += self.ws.send(CloseConnection(event.code, event.reason))
        raise FramingEnded(f"WebSocket protocol error ({event.code})")

    def encode(self, chunks: list[bytes], out: bytearray) -> None:
        if self.ws.state is not ConnectionState.OPEN:
            return  # a close frame has gone either way: nothing may follow it
        framed = _TEXT_FRAMES if self.text else _BINARY_FRAMES
        for chunk in chunks:
            frames = framed.get(chunk)
            if frames is None:
                frames = self._frames(chunk)
                if len(framed) >= FRAMED_KEPT:
                    framed.clear()
                framed[chunk] = frames
            out += frames

    def _frames(self, chunk: bytes) -> bytes:
        """The frames for the lines in `chunk`: one message each."""
        send = self.ws.send
        if self.text:
            text = chunk.decode("utf-8", "replace")
            return b"".join(send(TextMessage(line)) for line in text.split("\r\n") if line)
        return b"".join(send(BytesMessage(line)) for line in chunk.split(b"\r\n") if line)

    def goodbye(self, out: bytearray) -> None:
        if self.ws.state is ConnectionState.OPEN:
            out += self.ws.send(CloseConnection(CloseReason.NORMAL_CLOSURE))
