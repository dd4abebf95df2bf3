"""The web listener's HTTP side: the chat page's files, and the upgrade to WebSocket.

A socket accepted on a web listener (after its TLS handshake, for a web TLS listener) is a
`WebRequest` until it has asked for something. HTTP is parsed by h11, a sans-IO state
machine like our core, so no HTTP is written by hand here:
- `GET /socket` (or any path, with `Upgrade: websocket`) with a valid WebSocket handshake
  (RFC 6455 4.2) from an allowed origin is answered `101 Switching Protocols` with the
  subprotocol chosen in the client's order
  (`binary.ircv3.net` or `text.ircv3.net`; none offered: none chosen, text frames). The
  socket then goes to the loop as a client like any other, framed by net/framing.
- `GET` or `HEAD` of a file of the page (`/` is `index.html`) gets the file, read once at
  start-up from the package, with a strict Content-Security-Policy.
- Anything else gets its status (400, 403, 404, 405, 426, 431, 503) and a short text.
One request per connection: every answer but the upgrade ends with `Connection: close`. A
request must be complete within `web_handshake_timeout` and its head within
`web_max_header_bytes`; the socket counts against the connection limits throughout.

Behind a reverse proxy every socket comes from the proxy. For a socket from an address in
`web_proxies`, the client's address is taken from `Forwarded` or `X-Forwarded-For` (the
nearest hop that is not itself a trusted proxy), and the per-address count moves to it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import importlib.resources
import ipaddress
import logging
import selectors
import socket
import time
from collections.abc import Callable
from http import HTTPStatus

import h11
from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionType
from wsproto.utilities import generate_accept_token

from miniircd.config import Config
from miniircd.net.connection import Stream
from miniircd.net.framing import Framing, WebSocketFraming

log = logging.getLogger("miniircd.net")

SOCKET_PATH = "/socket"
SUBPROTOCOLS = ("binary.ircv3.net", "text.ircv3.net")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none';"
    " frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"Content-Security-Policy", CSP.encode()),
    (b"X-Content-Type-Options", b"nosniff"),
    (b"Referrer-Policy", b"no-referrer"),
    (b"Cache-Control", b"no-cache"),
]

# (socket, the client's address, its framing, now, bytes to send first, bytes read ahead)
Upgraded = Callable[[socket.socket, str, Framing, float, bytes, bytes], None]
# (the address counted now, the client's) -> why the client is refused, or None
MoveCount = Callable[[str, str], str | None]


def load_page() -> dict[str, tuple[str, bytes]]:
    """The page's files by request path, read from the package's `web` folder."""
    files: dict[str, tuple[str, bytes]] = {}
    folder = importlib.resources.files("miniircd") / "web"
    if not folder.is_dir():
        return files
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in CONTENT_TYPES:
            files["/" + entry.name] = (CONTENT_TYPES[suffix], entry.read_bytes())
    if "/index.html" in files:
        files["/"] = files["/index.html"]
    return files


class WebRequest(Stream):
    """An accepted web socket before it is a client: one HTTP request and its answer."""

    __slots__ = ("answered", "deadline", "head", "http", "peer")

    def __init__(self, sock: socket.socket, peer: str, deadline: float, max_head: int) -> None:
        super().__init__(sock)
        self.peer = peer  # the address counted against the limits
        self.deadline = deadline  # time.monotonic() by which the request must be answered
        self.http = h11.Connection(h11.SERVER, max_incomplete_event_size=max_head)
        self.answered = False  # the answer is queued: close once it is sent
        self.head = False  # a HEAD request: answers carry no body


class WebGate:
    """The web requests under way; those that upgrade are handed to the loop."""

    def __init__(
        self, selector: selectors.BaseSelector, upgraded: Upgraded, move_count: MoveCount,
        release: Callable[[str], None],
    ) -> None:  # fmt: skip
        self.selector = selector
        self.upgraded = upgraded
        self.move_count = move_count
        self.release = release
        self.requests: set[WebRequest] = set()
        self.page = load_page()

    def start(self, sock: socket.socket, peer: str, config: Config) -> None:
        deadline = time.monotonic() + config.web_handshake_timeout
        request = WebRequest(sock, peer, deadline, config.web_max_header_bytes)
        self.requests.add(request)
        self.selector.register(sock, selectors.EVENT_READ, request)
        if request.tls:  # the request may sit in the TLS layer already, unseen by epoll
            self.on_ready(request, selectors.EVENT_READ, config, time.time())

    def on_ready(self, request: WebRequest, mask: int, config: Config, now: float) -> None:
        if request not in self.requests:
            return  # ended earlier in this loop turn
        flush, read = request.sides(mask)
        try:
            if flush:
                request.flush()
            if read and not request.answered:
                data = request.read()
                if data == b"":
                    self._end(request)
                    return
                if data:
                    request.http.receive_data(data)
                    self._answer(request, config, now)
            if request in self.requests:
                request.flush()
            if request.answered and not request.outbuf:
                self._end(request)
                return
        except OSError as exc:
            log.debug("web request from %s failed: %s", request.peer, exc)
            self._end(request)
            return
        if request in self.requests:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if request.wants_write() else 0)
            self.selector.modify(request.sock, events, request)

    def _answer(self, request: WebRequest, config: Config, now: float) -> None:
        try:
            event = request.http.next_event()
        except h11.RemoteProtocolError as exc:
            self._respond(request, exc.error_status_hint, "Bad request")
            return
        if event is h11.NEED_DATA:
            return
        if not isinstance(event, h11.Request):
            self._respond(request, 400, "Bad request")
            return
        path = event.target.partition(b"?")[0].decode("latin-1")
        request.head = event.method == b"HEAD"
        headers = Headers(list(event.headers))
        # A web client pointed at another path (ws://host:8097/) is let in too.
        wants_socket = path == SOCKET_PATH or b"websocket" in headers.tokens(b"upgrade")
        head_size = len(event.target) + sum(len(k) + len(v) + 4 for k, v in event.headers)
        if head_size > config.web_max_header_bytes:  # h11 caps only a head still arriving
            self._respond(request, 431, "Request header fields too large")
        elif event.method not in (b"GET", b"HEAD"):
            self._respond(request, 405, "Only GET and HEAD", [(b"Allow", b"GET, HEAD")])
        elif wants_socket and request.head:  # RFC 6455 4.1: the handshake is a GET
            self._respond(request, 405, "Only GET", [(b"Allow", b"GET")])
        elif wants_socket:
            self._upgrade(request, headers, config, now)
        elif path in self.page:
            content_type, body = self.page[path]
            self._respond(request, 200, body, content_type=content_type)
        else:
            self._respond(request, 404, "Not found")

    def _upgrade(self, request: WebRequest, headers: Headers, config: Config, now: float) -> None:
        key = headers.one(b"sec-websocket-key")
        if b"websocket" not in headers.tokens(b"upgrade") or b"upgrade" not in headers.tokens(
            b"connection"
        ):
            upgrade = [(b"Upgrade", b"websocket")]
            self._respond(request, 426, "This address takes WebSocket connections", upgrade)
        elif headers.one(b"sec-websocket-version") != b"13":
            self._respond(
                request, 426, "WebSocket version 13 only", [(b"Sec-WebSocket-Version", b"13")]
            )
        elif key is None or not _valid_key(key):
            self._respond(request, 400, "Bad Sec-WebSocket-Key")
        elif not origin_allowed(headers.one(b"origin"), headers.one(b"host"), config.web_origins):
            self._respond(request, 403, "This site is not allowed to connect")
        else:
            client = client_address(request.peer, headers, config.web_proxies)
            refused = self.move_count(request.peer, client) if client != request.peer else None
            if refused is not None:
                self._respond(request, 503, refused)
                return
            request.peer = client
            offered = headers.tokens(b"sec-websocket-protocol", lower=False)
            self._switch(request, key, offered, config, now)

    def _switch(
        self, request: WebRequest, key: bytes, offered: list[bytes], config: Config, now: float
    ) -> None:
        """Answer 101 and hand the socket to the loop as a WebSocket client."""
        chosen = next((p for p in offered if p.decode("latin-1") in SUBPROTOCOLS), None)
        headers = [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Accept", generate_accept_token(key)),
        ]
        if chosen is not None:
            headers.append((b"Sec-WebSocket-Protocol", chosen))
        switching = h11.InformationalResponse(
            status_code=101, headers=headers, reason=b"Switching Protocols"
        )
        response = request.http.send(switching)
        assert response is not None
        read_ahead = request.http.trailing_data[0]
        self.requests.discard(request)
        self.selector.unregister(request.sock)
        framing = WebSocketFraming(
            WsConnection(ConnectionType.SERVER), chosen != b"binary.ircv3.net",
            config.max_line_pending,
        )  # fmt: skip
        self.upgraded(request.sock, request.peer, framing, now, response, read_ahead)

    def _respond(
        self, request: WebRequest, status: int, body: str | bytes,
        extra: list[tuple[bytes, bytes]] | None = None,
        content_type: str = "text/plain; charset=utf-8",
    ) -> None:  # fmt: skip
        """Queue a whole answer and close the connection once it is sent."""
        data = body.encode() if isinstance(body, str) else body
        headers = [
            (b"Content-Type", content_type.encode()),
            (b"Content-Length", str(len(data)).encode()),
            (b"Connection", b"close"),
            *SECURITY_HEADERS,
            *(extra or []),
        ]
        http = request.http
        request.answered = True
        try:
            reason = HTTPStatus(status).phrase.encode()
            answer = h11.Response(status_code=status, headers=headers, reason=reason)
            request.outbuf += http.send(answer) or b""
            if not request.head:
                request.outbuf += http.send(h11.Data(data=data)) or b""
            request.outbuf += http.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError:  # nothing more can be said on this connection
            request.outbuf.clear()

    def expire(self, monotonic_now: float) -> None:
        """Drop the requests not answered and sent by their deadline."""
        for request in [r for r in self.requests if monotonic_now >= r.deadline]:
            log.debug("web request from %s timed out", request.peer)
            self._end(request)

    def _end(self, request: WebRequest) -> None:
        self.requests.discard(request)
        self.selector.unregister(request.sock)
        with contextlib.suppress(OSError):
            request.sock.close()
        self.release(request.peer)

    def close(self) -> None:
        for request in list(self.requests):
            self._end(request)


class Headers:
    """A request's headers, names in lower case (as h11 gives them)."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[bytes, bytes]]) -> None:
        self.items = items

    def one(self, name: bytes) -> bytes | None:
        values = [value for key, value in self.items if key == name]
        return values[0].strip() if len(values) == 1 else None

    def all(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.items if key == name]

    def tokens(self, name: bytes, lower: bool = True) -> list[bytes]:
        """A comma-separated header's tokens, in order, over all its lines; in lower case
        unless the tokens' case matters (subprotocols)."""
        tokens = [t.strip() for value in self.all(name) for t in value.split(b",") if t.strip()]
        return [token.lower() for token in tokens] if lower else tokens


def _valid_key(key: bytes) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except binascii.Error:
        return False


def origin_allowed(origin: bytes | None, host: bytes | None, allowed: tuple[str, ...]) -> bool:
    """Whether a WebSocket request from `origin` may go on.

    No Origin: not a browser (a browser always sends one), so no page can be abusing it.
    Else the page's own origin (the host and port the request was sent to, whatever the
    scheme: a proxy may have ended TLS) or one of `allowed` ("*": any).
    """
    if origin is None or "*" in allowed:
        return True
    text = origin.decode("latin-1").lower().rstrip("/")
    if text in (entry.lower().rstrip("/") for entry in allowed):
        return True
    netloc = text.partition("://")[2].partition("/")[0]
    return host is not None and netloc == host.decode("latin-1").lower()


def client_address(peer: str, headers: Headers, proxies: tuple[str, ...]) -> str:
    """The client's address: `peer`, unless `peer` is a trusted proxy that says whom it
    forwards (the nearest address in the chain that is not a trusted proxy)."""
    networks = [ipaddress.ip_network(proxy, strict=False) for proxy in proxies]

    def trusted(address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in networks)

    if not networks or not trusted(peer):
        return peer
    chain = _forwarded_chain(headers)
    for address in reversed(chain):
        if address is None:
            return peer  # a hop we cannot read: believe no one further away
        if not trusted(address):
            return address
    return chain[0] or peer if chain else peer  # every hop trusted: the first is the client


def _forwarded_chain(headers: Headers) -> list[str | None]:
    """The addresses a proxy says the request passed through, the client first; None for
    one that is not an IP address (`unknown`, an obfuscated name)."""
    forwarded = headers.all(b"forwarded")
    if forwarded:
        hops = []
        for value in forwarded:
            for element in value.decode("latin-1").split(","):
                params = dict(
                    pair.strip().partition("=")[::2] for pair in element.split(";") if "=" in pair
                )
                hops.append(_ip(params.get("for", "").strip('"'), forwarded=True))
        return hops
    return [
        _ip(part.strip(), forwarded=False)
        for value in headers.all(b"x-forwarded-for")
        for part in value.decode("latin-1").split(",")
    ]


def _ip(text: str, forwarded: bool) -> str | None:
    """`text` as an IP address: `[v6]:port` and `v4:port` (RFC 7239) lose the port."""
    if text.startswith("["):
        text = text[1 : text.find("]")]
    elif forwarded and text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
