"""The web listener's HTTP side over real sockets: the page, the answers to requests that
are not a good WebSocket handshake, the Origin check, and client addresses from trusted
reverse proxies (net/web).

Requests are written by hand so that every status line and header is checked as sent;
answers are read by their Content-Length (the connection's end is checked on its own).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import time
from pathlib import Path

import pytest

import miniircd
from liveserver import DEADLINE, LineClient, LiveServer
from wsclient import (
    HttpAnswer,
    RawWebSocket,
    handshake_request,
    http_connect,
    http_exchange,
    lusers,
    nothing_more,
    read_all,
    read_answer,
    start_server,
)

PAGE_FOLDER = Path(miniircd.__file__).parent / "web"
NOT_ALLOWED = "This site is not allowed to connect"


def get(port: int, path: str, method: str = "GET", *headers: str) -> HttpAnswer:
    more = "".join(f"{header}\r\n" for header in headers)
    request = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{more}\r\n"
    return http_exchange(port, request.encode())


def assert_security_headers(answer: HttpAnswer) -> None:
    csp = answer.header("content-security-policy")
    assert csp is not None
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert answer.header("x-content-type-options") == "nosniff"


def whois_host(observer: LineClient, nick: str) -> str:
    """The host WHOIS shows for `nick` (from 311)."""
    observer.send(f"WHOIS {nick}")
    fields = observer.expect(rf" 311 \S+ {nick} ").split()
    observer.expect(" 318 ")
    return fields[5]


# -- the page -------------------------------------------------------------------------------


def test_index_page_get_and_head(live: LiveServer) -> None:
    """GET / is the chat page with a strict CSP; HEAD / the same head without a body.
    (Fails with 404 while src/miniircd/web/index.html does not exist.)"""
    page = get(live.web_port, "/")
    assert page.status_line == "HTTP/1.1 200 OK", page.raw[:200]
    assert page.header("content-type") == "text/html; charset=utf-8"
    assert page.header("content-length") == str(len(page.body)) and page.body
    assert_security_headers(page)
    assert page.header("connection") == "close"
    assert b"<html" in page.body.lower()

    sock = http_connect(live.web_port)
    try:
        sock.sendall(f"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:{live.web_port}\r\n\r\n".encode())
        head = read_answer(sock, time.monotonic() + DEADLINE, head_only=True)
        assert head.status_line == "HTTP/1.1 200 OK"
        assert head.headers == page.headers  # Content-Length included
        assert head.raw.endswith(b"\r\n\r\n")  # nothing behind the head ...
        assert nothing_more(sock, 0.3) == b""  # ... nor after it
    finally:
        sock.close()


def test_page_file_get_and_head(live: LiveServer) -> None:
    """A script of the page is served as the file it is, typed and with the same headers;
    HEAD gives its Content-Length and no body."""
    scripts = sorted(PAGE_FOLDER.glob("*.js"))
    if not scripts:
        pytest.skip("the page has no script yet")
    path = "/" + scripts[0].name
    script = get(live.web_port, path)
    assert script.status_line == "HTTP/1.1 200 OK"
    assert script.header("content-type") == "text/javascript; charset=utf-8"
    assert script.header("content-length") == str(len(script.body)) and script.body
    assert_security_headers(script)
    assert script.header("referrer-policy") == "no-referrer"
    assert script.header("cache-control") == "no-cache"

    sock = http_connect(live.web_port)
    try:
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1:{live.web_port}\r\n\r\n".encode())
        head = read_answer(sock, time.monotonic() + DEADLINE, head_only=True)
        assert head.status_line == "HTTP/1.1 200 OK"
        assert head.headers == script.headers
        assert head.raw.endswith(b"\r\n\r\n")
        assert nothing_more(sock, 0.3) == b""
    finally:
        sock.close()
    query = get(live.web_port, path + "?v=2")  # a query string names the same file
    assert query.status_line == "HTTP/1.1 200 OK" and query.body == script.body


# -- requests that are not a good handshake ---------------------------------------------------


def test_bad_requests_get_their_status_and_never_become_clients(tmp_path: Path) -> None:
    server = start_server(tmp_path, "[web]\nhandshake_timeout = 1\n")
    port = server.web_port
    observer = server.client("observer")
    before = lusers(observer)
    assert before[0] == "251 :There are 1 users and 0 invisible on 1 servers"

    # A request that never completes: counted nowhere, closed at the deadline, unanswered.
    started = time.monotonic()
    stalled = http_connect(port)
    stalled.sendall(f"GET /socket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode())
    assert lusers(observer) == before
    assert read_all(stalled, DEADLINE) == b""
    assert 0.9 <= time.monotonic() - started < 3.0
    stalled.close()

    host = f"Host: 127.0.0.1:{port}"
    key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="
    upgrade = ("Upgrade: websocket", "Connection: Upgrade")

    answer = get(port, "/socket")  # no Upgrade at all
    assert answer.status_line == "HTTP/1.1 426 Upgrade Required"
    assert answer.header("upgrade") == "websocket" and answer.header("connection") == "close"
    assert answer.body == b"This address takes WebSocket connections"
    answer = get(port, "/socket", "GET", "Upgrade: websocket", "Connection: keep-alive", key,
                 "Sec-WebSocket-Version: 13")  # fmt: skip
    assert answer.status_line == "HTTP/1.1 426 Upgrade Required"

    answer = get(port, "/socket", "GET", *upgrade, key, "Sec-WebSocket-Version: 8")
    assert answer.status_line == "HTTP/1.1 426 Upgrade Required"
    assert answer.header("sec-websocket-version") == "13"
    answer = get(port, "/socket", "GET", *upgrade, key)  # no version
    assert answer.status_line == "HTTP/1.1 426 Upgrade Required"
    assert answer.header("sec-websocket-version") == "13"

    short_key = base64.b64encode(bytes(15)).decode()
    for bad_key in ((), ("Sec-WebSocket-Key: not a key!",), (f"Sec-WebSocket-Key: {short_key}",),
                    (key, key)):  # fmt: skip
        answer = get(port, "/socket", "GET", *upgrade, "Sec-WebSocket-Version: 13", *bad_key)
        assert answer.status_line == "HTTP/1.1 400 Bad Request", bad_key
        assert answer.body == b"Bad Sec-WebSocket-Key"

    answer = get(port, "/socket", "POST", *upgrade, key, "Sec-WebSocket-Version: 13",
                 "Content-Length: 0")  # fmt: skip
    assert answer.status_line == "HTTP/1.1 405 Method Not Allowed"
    assert answer.header("allow") == "GET, HEAD"
    assert get(port, "/", "DELETE").status_line == "HTTP/1.1 405 Method Not Allowed"

    answer = get(port, "/no/such/file.html")
    assert answer.status_line == "HTTP/1.1 404 Not Found" and answer.body == b"Not found"
    assert_security_headers(answer)

    for garbage in (
        b"\x00\x01\x02 hello\r\n\r\n",
        b"GET\r\n\r\n",
        b"NICK x\r\nUSER x 0 * :x\r\n\r\n",
    ):
        answer = http_exchange(port, garbage)
        assert answer.status_line == "HTTP/1.1 400 Bad Request", garbage

    big = "X-Padding: " + "a" * 9000
    answer = get(port, "/socket", "GET", *upgrade, key, "Sec-WebSocket-Version: 13", big)
    assert answer.status_line == "HTTP/1.1 431 Request Header Fields Too Large"
    unfinished = f"GET /socket HTTP/1.1\r\n{host}\r\n{big}\r\n{big}".encode()  # no end
    answer = http_exchange(port, unfinished)
    assert answer.status_line == "HTTP/1.1 431 Request Header Fields Too Large"
    assert get(port, "/", "GET", "X-Padding: " + "a" * 6000).status != 431  # under the cap

    assert lusers(observer) == before  # none of them became an IRC client
    observer.send("PING :alive")
    assert observer.expect("PONG") == ":irc.test PONG irc.test :alive"


def test_connection_closed_once_the_answer_is_sent(live: LiveServer) -> None:
    sock = http_connect(live.web_port)
    try:
        sock.sendall(f"GET /nope HTTP/1.1\r\nHost: 127.0.0.1:{live.web_port}\r\n\r\n".encode())
        answer = read_answer(sock, time.monotonic() + DEADLINE)
        assert answer.status_line == "HTTP/1.1 404 Not Found"
        assert answer.header("connection") == "close"
        started = time.monotonic()
        assert read_all(sock, 2.0) == b""  # TimeoutError: still open 2 s later (10 s in all)
        assert time.monotonic() - started < 1.0
    finally:
        sock.close()


def test_head_of_a_missing_file_is_answered(live: LiveServer) -> None:
    sock = http_connect(live.web_port)
    try:
        sock.sendall(f"HEAD /nope HTTP/1.1\r\nHost: 127.0.0.1:{live.web_port}\r\n\r\n".encode())
        answer = read_answer(sock, time.monotonic() + DEADLINE, head_only=True)
        assert answer.status_line == "HTTP/1.1 404 Not Found"  # got "": closed, no answer
        assert answer.header("content-length") == "9"
        assert nothing_more(sock, 0.3) == b""
    finally:
        sock.close()


def test_a_head_request_is_no_handshake(live: LiveServer) -> None:
    answer = http_exchange(live.web_port, handshake_request(live.web_port, method="HEAD"))
    assert answer.status == 405, answer.status_line
    assert answer.header("allow") == "GET"


# -- Origin ----------------------------------------------------------------------------------


def upgraded(port: int, origin: str | None, **headers: str) -> bool:
    """Whether a handshake with this Origin is accepted (101), or refused with 403."""
    extra = (("Origin", origin),) if origin is not None else ()
    answer = http_exchange(port, handshake_request(port, headers=extra))
    if answer.status_line.startswith("HTTP/1.1 101"):
        return True
    assert answer.status_line == "HTTP/1.1 403 Forbidden", answer.raw
    assert answer.body.decode() == NOT_ALLOWED
    return False


def test_origin_defaults_to_the_page_itself(live: LiveServer) -> None:
    port = live.web_port
    assert upgraded(port, None)  # not a browser
    assert upgraded(port, f"http://127.0.0.1:{port}")  # the page's own origin (= Host)
    assert upgraded(port, f"https://127.0.0.1:{port}")  # whatever the scheme (a proxy's TLS)
    assert not upgraded(port, "http://evil.example")
    assert not upgraded(port, f"http://127.0.0.1:{port + 1}")  # another port is another site
    assert not upgraded(port, f"http://localhost:{port}")
    assert not upgraded(port, "null")  # a sandboxed frame or a file:// page


def test_origin_allow_list(tmp_path: Path) -> None:
    server = start_server(tmp_path, '[web]\norigins = ["http://evil.example"]\n')
    port = server.web_port
    assert upgraded(port, "http://evil.example")
    assert upgraded(port, "http://EVIL.example/")  # compared without case or a final '/'
    assert upgraded(port, f"http://127.0.0.1:{port}")  # its own page still
    assert upgraded(port, None)
    assert not upgraded(port, "http://other.example")
    assert not upgraded(port, "https://evil.example")  # the scheme is part of an origin


def test_origin_star_allows_any_site(tmp_path: Path) -> None:
    server = start_server(tmp_path, '[web]\norigins = ["*"]\n')
    assert upgraded(server.web_port, "http://other.example")
    assert upgraded(server.web_port, "null")


# -- reverse proxies -------------------------------------------------------------------------


def test_forwarded_headers_ignored_without_proxies(live: LiveServer) -> None:
    observer = live.client("observer")
    for nick, header in (
        ("xff", ("X-Forwarded-For", "203.0.113.7")),
        ("fwd", ("Forwarded", 'for="[2001:db8::1]:4711"')),
    ):
        ws = RawWebSocket(live.web_port, headers=(header,))
        ws.register(nick)
        assert whois_host(observer, nick) == "127.0.0.1"
        ws.close()


def test_client_address_from_a_trusted_proxy(tmp_path: Path) -> None:
    server = start_server(tmp_path, '[web]\nproxies = ["127.0.0.1"]\n')
    observer = server.client("observer")
    cases = [
        (("X-Forwarded-For", "203.0.113.7"), "203.0.113.7"),
        (("Forwarded", 'for="[2001:db8::1]:4711"'), "2001:db8::1"),
        (("X-Forwarded-For", "198.51.100.1, 127.0.0.1"), "198.51.100.1"),  # nearest untrusted
        (("X-Forwarded-For", "192.0.2.1, 198.51.100.2"), "198.51.100.2"),  # the nearest hop
        (("Forwarded", "for=192.0.2.60;proto=http;by=203.0.113.43"), "192.0.2.60"),
        (("Forwarded", "for=192.0.2.43:8080, for=127.0.0.1"), "192.0.2.43"),
        (("Forwarded", 'for="[::1]"'), "0::1"),  # a host may not start with ':'
        (("Forwarded", "for=unknown"), "127.0.0.1"),  # nothing to believe: the proxy's
        (("Forwarded", "for=198.51.100.3, for=_hidden"), "127.0.0.1"),  # unreadable hop
        (("X-Forwarded-For", "not-an-address"), "127.0.0.1"),
    ]
    for number, (header, host) in enumerate(cases):
        nick = f"proxied{number}"
        ws = RawWebSocket(server.web_port, headers=(header,))
        welcome = ws.register(nick)[0].text
        assert welcome.endswith(f"{nick}!~{nick}@{host}"), (header, welcome)
        assert whois_host(observer, nick) == host, header
        ws.close()


def test_connection_limit_counts_the_forwarded_address(tmp_path: Path) -> None:
    config = '[web]\nproxies = ["127.0.0.1"]\n[limits]\nmax_connections_per_ip = 2\n'
    server = start_server(tmp_path, config)
    port = server.web_port
    forwarded = (("X-Forwarded-For", "203.0.113.7"),)
    first, second = RawWebSocket(port, headers=forwarded), RawWebSocket(port, headers=forwarded)
    first.register("first")
    second.register("second")
    refused = http_exchange(port, handshake_request(port, headers=forwarded))
    assert refused.status_line == "HTTP/1.1 503 Service Unavailable"
    assert refused.body == b"Too many connections from your IP"
    other = RawWebSocket(port, headers=(("X-Forwarded-For", "198.51.100.9"),))
    assert other.register("other")[0].text.endswith("other!~other@198.51.100.9")
    second.send("QUIT")
    second.frames_until_closed()
    again = RawWebSocket(port, headers=forwarded)  # the place it held is free again
    again.register("again")
    first.send("PING :still")
    assert first.expect("PONG") == ":irc.test PONG irc.test :still"


def test_a_refused_web_socket_is_closed_without_an_answer(tmp_path: Path) -> None:
    """Over the per-address limit, a web socket is closed before any HTTP is spoken."""
    server = start_server(tmp_path, "[limits]\nmax_connections_per_ip = 1\n")
    holder = RawWebSocket(server.web_port)
    holder.register("holder")
    sock = socket.create_connection(("127.0.0.1", server.web_port), timeout=DEADLINE)
    try:
        with contextlib.suppress(OSError):  # closed already
            sock.sendall(handshake_request(server.web_port))
        assert read_all(sock) == b""
    finally:
        sock.close()
