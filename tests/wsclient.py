"""WebSocket test clients for the web listener (net/web, net/framing).

- `WsLines`: the `websockets` library's sync client (an implementation other than the
  server's wsproto), one IRC line per message, for ordinary clients.
- `RawWebSocket`: a socket that sends a handshake and frames built by hand (`frame`), for
  what no library sends: unmasked frames, bad payloads, huge announced lengths, fragments
  cut across TCP segments, a client that stops reading. It reads the server's frames as
  they are (`Frame`), control frames included.
- `http_exchange`: one raw HTTP request and its answer, read by its Content-Length.

Every wait has a deadline; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from liveserver import LineClient, LiveServer

DEADLINE = 10.0
SOCKET_PATH = "/socket"
BINARY = "binary.ircv3.net"
TEXT = "text.ircv3.net"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MASK_KEY = b"\x37\xfa\x21\x3d"


def frame(
    opcode: int, payload: bytes = b"", *, fin: bool = True, mask: bool = True, rsv: int = 0,
    length: int | None = None, key: bytes = MASK_KEY,
) -> bytes:  # fmt: skip
    """One frame as it goes on the wire: FIN, RSV bits (`rsv`, 0-7), opcode, the 7, 16 or
    64-bit length (`length` announces another length than the payload's), the mask."""
    announced = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if mask else 0
    if announced < 126:
        head += bytes([mask_bit | announced])
    elif announced < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", announced)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", announced)
    if not mask:
        return head + payload
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


@dataclass
class Frame:
    """A frame from the server (servers do not mask)."""

    fin: bool
    opcode: int
    payload: bytes
    masked: bool = False
    rsv: int = 0

    @property
    def code(self) -> int | None:
        """A close frame's status code; None when it has no payload."""
        assert self.opcode == OP_CLOSE
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def reason(self) -> str:
        assert self.opcode == OP_CLOSE
        return self.payload[2:].decode()

    @property
    def text(self) -> str:
        """A data frame's payload as text (bytes that are not UTF-8: U+FFFD)."""
        return self.payload.decode("utf-8", "replace")


def parse_frame(buffer: bytes) -> tuple[Frame, int] | None:
    """The first whole frame in `buffer` and its size, or None if it is not all there."""
    if len(buffer) < 2:
        return None
    first, second = buffer[0], buffer[1]
    length, offset = second & 0x7F, 2
    if length == 126:
        if len(buffer) < 4:
            return None
        length, offset = struct.unpack("!H", buffer[2:4])[0], 4
    elif length == 127:
        if len(buffer) < 10:
            return None
        length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
    masked = bool(second & 0x80)
    key = b""
    if masked:
        key, offset = buffer[offset : offset + 4], offset + 4
    if len(buffer) < offset + length:
        return None
    payload = buffer[offset : offset + length]
    if masked:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    rsv = (first >> 4) & 0x7
    return Frame(bool(first & 0x80), first & 0x0F, payload, masked, rsv), offset + length


def new_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def handshake_request(
    port: int, *, path: str = SOCKET_PATH, key: str | None = None,
    subprotocols: tuple[str, ...] = (), headers: tuple[tuple[str, str], ...] = (),
    method: str = "GET", host: str | None = None,
) -> bytes:  # fmt: skip
    """A WebSocket upgrade request as a browser sends it (no Origin unless in `headers`)."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host or f'127.0.0.1:{port}'}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key or new_key()}",
        "Sec-WebSocket-Version: 13",
    ]
    if subprotocols:
        lines.append("Sec-WebSocket-Protocol: " + ", ".join(subprotocols))
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class HttpAnswer:
    status_line: str
    headers: list[tuple[str, str]]  # names in lower case, in order
    body: bytes = b""
    raw: bytes = b""

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    def header(self, name: str) -> str | None:
        """The value of the one header `name` (None if absent; fails if repeated)."""
        values = [value for key, value in self.headers if key == name.lower()]
        assert len(values) <= 1, f"{name} repeated: {values}"
        return values[0] if values else None


def parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return status_line, headers


def _read_until_closed(sock: socket.socket, deadline: float) -> tuple[bytes, bool]:
    """What the server sends until it closes the connection (a reset ends it too) or the
    deadline passes, and whether it closed."""
    data = b""
    try:
        while chunk := _recv(sock, deadline):
            data += chunk
    except TimeoutError:
        return data, False
    return data, True


def read_all(sock: socket.socket, timeout: float = DEADLINE) -> bytes:
    """Everything the server sends until it closes the connection; TimeoutError if it is
    still open after `timeout` seconds."""
    data, closed = _read_until_closed(sock, time.monotonic() + timeout)
    if not closed:
        raise TimeoutError(f"the server did not close the connection; got {data[:300]!r}")
    return data


def read_answer(sock: socket.socket, deadline: float, head_only: bool = False) -> HttpAnswer:
    """An HTTP answer: the head, then `Content-Length` bytes of body (none for a HEAD
    request, `head_only`). Empty (status_line "") if the server closed without a word."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = _recv(sock, deadline)
        if not chunk:
            if data:
                raise ConnectionError(f"closed inside the head: {data!r}")
            return HttpAnswer("", [])
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, headers = parse_head(head)
    answer = HttpAnswer(status_line, headers)
    length = 0 if head_only else int(answer.header("content-length") or 0)
    while len(body) < length:
        chunk = _recv(sock, deadline)
        if not chunk:
            raise ConnectionError(f"closed inside the body: {body!r}")
        body += chunk
    answer.body, answer.raw = body, data
    return answer


def _recv(sock: socket.socket, deadline: float) -> bytes:
    """One recv before `deadline` (TimeoutError after it); b"" at the end or on a reset."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer in time")
        sock.settimeout(remaining)
        try:
            return sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return b""


def http_connect(port: int, context: ssl.SSLContext | None = None) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    if context is not None:
        sock = context.wrap_socket(sock, server_hostname="localhost")
    return sock


def http_exchange(
    port: int, request: bytes, *, timeout: float = DEADLINE,
    context: ssl.SSLContext | None = None,
) -> HttpAnswer:  # fmt: skip
    """Send `request` whole and read the answer (by its Content-Length, not to the end
    of the connection); a HEAD request's answer has no body."""
    sock = http_connect(port, context)
    try:
        sock.sendall(request)
        return read_answer(sock, time.monotonic() + timeout, request.startswith(b"HEAD "))
    finally:
        sock.close()


@dataclass
class RawWebSocket:
    """A WebSocket client with hand-built frames, over a plain socket to the web port."""

    port: int
    subprotocols: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    rcvbuf: int | None = None  # a small receive buffer, for a client that stops reading
    key: str = field(default_factory=new_key)
    ahead: bytes = b""  # sent in the same packet as the upgrade request
    status_line: str = field(init=False, default="")
    response_headers: list[tuple[str, str]] = field(init=False, default_factory=list)
    buffer: bytes = field(init=False, default=b"")
    seen: list[Frame] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket()
        if self.rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.sock.settimeout(DEADLINE)
        self.sock.connect(("127.0.0.1", self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = handshake_request(
            self.port, key=self.key, subprotocols=self.subprotocols, headers=self.headers
        )
        self.sock.sendall(request + self.ahead)
        deadline = time.monotonic() + DEADLINE
        while b"\r\n\r\n" not in self.buffer:
            chunk = self._recv(deadline)
            if not chunk:
                raise ConnectionError(f"closed during the handshake: {self.buffer!r}")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        self.status_line, self.response_headers = parse_head(head)
        if not self.status_line.startswith("HTTP/1.1 101 "):
            raise ConnectionError(f"not upgraded: {head + b'|' + self.buffer!r}")

    def header(self, name: str) -> str | None:
        return HttpAnswer(self.status_line, self.response_headers).header(name)

    def _recv(self, deadline: float) -> bytes:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"nothing in time; seen {self.seen[-10:]}")
            self.sock.settimeout(remaining)
            try:
                return self.sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                return b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **options: bool | int) -> None:
        self.sock.sendall(frame(opcode, payload, **options))  # type: ignore[arg-type]

    def send(self, *lines: str) -> None:
        """Each line in a text frame of its own, all in one TCP send."""
        self.sock.sendall(b"".join(frame(OP_TEXT, line.encode()) for line in lines))

    def read_frame(self, timeout: float = DEADLINE) -> Frame | None:
        """The next frame from the server, or None when it has closed the connection."""
        deadline = time.monotonic() + timeout
        while (parsed := parse_frame(self.buffer)) is None:
            chunk = self._recv(deadline)
            if not chunk:
                if self.buffer:
                    raise ConnectionError(f"closed inside a frame: {self.buffer[:100]!r}")
                return None
            self.buffer += chunk
        got, size = parsed
        self.buffer = self.buffer[size:]
        self.seen.append(got)
        return got

    def expect_frame(self, timeout: float = DEADLINE) -> Frame:
        got = self.read_frame(timeout)
        if got is None:
            raise ConnectionError(f"closed; seen {self.seen[-10:]}")
        return got

    def expect(self, pattern: str, timeout: float = DEADLINE) -> str:
        """Read frames until a data frame's text matches the regex; return that text."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            got = self.expect_frame(deadline - time.monotonic())
            if got.opcode in (OP_TEXT, OP_BINARY) and regex.search(got.text):
                return got.text

    def register(self, nick: str) -> list[Frame]:
        """NICK and USER; the frames up to the end of the MOTD."""
        start = len(self.seen)
        self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        self.expect(r" (376|422) ")
        return self.seen[start:]

    def frames_until_closed(self, timeout: float = DEADLINE) -> list[Frame]:
        """Every frame until the server closes the connection."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while self.read_frame(max(0.0, deadline - time.monotonic())) is not None:
            pass
        return self.seen[start:]

    def close(self) -> None:
        self.sock.close()


class WsLines:
    """The websockets library's client: one IRC line per message, text or binary."""

    def __init__(
        self, port: int, subprotocols: list[str] | None = None, *, scheme: str = "ws",
        context: ssl.SSLContext | None = None, origin: str | None = None,
        path: str = SOCKET_PATH,
    ) -> None:  # fmt: skip
        uri = f"{scheme}://127.0.0.1:{port}{path}"
        self.ws: ClientConnection = contextlib.ExitStack().enter_context(connect(
            uri, subprotocols=subprotocols, ssl=context, origin=origin,  # type: ignore[arg-type]
            open_timeout=DEADLINE, close_timeout=DEADLINE, compression=None, max_size=None,
            proxy=None, ping_interval=None,
        ))  # fmt: skip
        self.seen: list[str | bytes] = []

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    def send(self, *lines: str | bytes) -> None:
        for line in lines:
            self.ws.send(line)

    def recv(self, timeout: float = DEADLINE) -> str | bytes:
        """The next message: str for a text frame, bytes for a binary one."""
        message = self.ws.recv(timeout=timeout)
        self.seen.append(message)
        return message

    def expect(self, pattern: str, timeout: float = DEADLINE) -> str:
        """Read messages until one (as text) matches the regex; return its text."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            message = self.recv(max(0.0, deadline - time.monotonic()))
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            if regex.search(text):
                return text

    def register(self, nick: str) -> list[str | bytes]:
        start = len(self.seen)
        self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        self.expect(r" (376|422) ")
        return self.seen[start:]

    def expect_closed(self, timeout: float = DEADLINE) -> list[str | bytes]:
        """Messages until the server closes the WebSocket."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        try:
            while True:
                self.recv(max(0.0, deadline - time.monotonic()))
        except ConnectionClosed:
            return self.seen[start:]

    def close(self) -> None:
        self.ws.close()


def nothing_more(sock: socket.socket, within: float) -> bytes:
    """What the server sends on `sock` within `within` seconds (b"" if nothing, or if it
    closes the connection first): to show that no body follows a head."""
    return _read_until_closed(sock, time.monotonic() + within)[0]


def start_server(tmp_path: Path, config_text: str, name: str = "web.toml") -> LiveServer:
    """A live server with a config file holding `config_text` (TOML)."""
    config = tmp_path / name
    config.write_text(config_text)
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    return server


def lusers(client: LineClient) -> list[str]:
    """The counts LUSERS reports (251, 253 and 255), without the nick asking."""
    client.send("LUSERS")
    lines = client.lines_until(r" 255 ")
    parts = [line.split(" ", 3) for line in lines if re.search(r" 25[135] ", line)]
    return [f"{numeric} {text}" for _source, numeric, _nick, text in parts]
