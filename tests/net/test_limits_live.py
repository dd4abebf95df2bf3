"""Connection limits and slow readers over real sockets.

Over a limit, a socket is told why in one ERROR line and closed before the core ever sees
it; a client that stops reading is cut off by its send queue, and the server's memory
stays bounded while others go on.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveserver import DEADLINE, LineClient, LiveServer, flood_until_cut, rss_kib

TOO_MANY = "ERROR :Closing link: 127.0.0.1 (Too many connections from your IP)"
FULL = "ERROR :Closing link: 127.0.0.1 (Server is full)"


def start(tmp_path: Path, config_text: str) -> LiveServer:
    config = tmp_path / "limits.toml"
    config.write_text(config_text)
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    return server


@pytest.fixture
def per_ip_3(tmp_path: Path) -> Iterator[LiveServer]:
    server = start(tmp_path, "[limits]\nmax_connections_per_ip = 3\n")
    yield server
    server.stop()


def register_when_admitted(server: LiveServer, nick: str) -> LineClient:
    """Connect until the server admits us (it may not have seen a close yet); register."""
    deadline = time.monotonic() + DEADLINE
    while True:
        client = LineClient(server.port)
        client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        first = client.expect(".")
        if first not in (TOO_MANY, FULL):
            client.expect(" 376 ")
            return client
        client.close()
        if time.monotonic() > deadline:
            raise TimeoutError("never admitted")
        time.sleep(0.02)


def test_one_connection_too_many_from_an_ip(per_ip_3: LiveServer) -> None:
    clients = [per_ip_3.client(f"c{n}") for n in range(3)]
    extra = LineClient(per_ip_3.port)
    assert extra.expect_closed() == [TOO_MANY]
    clients[0].close()  # without QUIT: the server notices the closed socket
    clients[0] = register_when_admitted(per_ip_3, "again")
    assert LineClient(per_ip_3.port).expect_closed() == [TOO_MANY]
    clients[1].send("QUIT")
    clients[1].expect_closed()
    clients[1] = per_ip_3.client("after-quit")  # a QUIT frees its place before the close
    clients[2].send("PING :ok")  # those admitted are unaffected by those refused
    assert clients[2].expect("PONG") == ":irc.test PONG irc.test :ok"


def test_server_full(tmp_path: Path) -> None:
    server = start(tmp_path, "[limits]\nmax_connections = 2\nmax_connections_per_ip = 10\n")
    try:
        first, _second = server.client("first"), server.client("second")
        assert LineClient(server.port).expect_closed() == [FULL]
        first.send("QUIT")
        first.expect_closed()
        server.client("third")
    finally:
        server.stop()


def test_slow_reader_is_cut_off_by_its_send_queue(tmp_path: Path) -> None:
    server = start(tmp_path, "[limits]\nsendq = 65536\n[flood]\nenabled = false\n")
    try:
        assert server.proc is not None
        flooder = server.client("flooder")
        flooder.send("JOIN #flood")
        flooder.expect(" 366 ")
        # The slow reader keeps a small receive window and never reads a byte.
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", server.port))
        slow.sendall(b"NICK slow\r\nUSER slow 0 * :slow\r\nJOIN #flood\r\n")
        flooder.expect(r"^:slow!\S+ JOIN #flood")
        rss_before = rss_kib(server.proc.pid)

        flood_until_cut(flooder, "#flood", ":slow!~slow@127.0.0.1 QUIT :SendQ exceeded", 400)

        flooder.send("PING :after")
        assert flooder.expect("PONG") == ":irc.test PONG irc.test :after"
        flooder.send("NAMES #flood")
        assert flooder.expect(" 353 ").endswith(":@flooder")
        assert rss_kib(server.proc.pid) - rss_before < 50 * 1024
        slow.close()
    finally:
        server.stop()
