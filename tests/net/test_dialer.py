"""The dialer's answers to operators (net/links.py `Dialer.requested`): CONNECT dials a
`[[links]]` block at once, even one that never dials by itself; after a SQUIT a block is
not redialed before its `retry_max`. A real socket listens on 127.0.0.1 (never
accepting: the dialing is what is checked)."""

from __future__ import annotations

import select
import selectors
import socket
from collections.abc import Iterator

import pytest

from miniircd.config import Config, LinkBlock
from miniircd.core.link_requests import LinkRequest
from miniircd.core.server import Server
from miniircd.net.links import Dialer
from miniircd.store.sqlite import SqliteStore


@pytest.fixture
def port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


def dialer_for(*blocks: LinkBlock) -> tuple[Server, Dialer]:
    config = Config(server_name="leaf.test", host="127.0.0.1", links=blocks)
    server = Server(config, SqliteStore(":memory:"), 0.0)
    return server, Dialer(selectors.DefaultSelector(), server)


def test_squit_holds_a_block_back_and_connect_dials_at_once(port: int) -> None:
    hub = LinkBlock("hub.test", "127.0.0.1", port, "a", "b", connect=True, retry=1)
    waits = LinkBlock("waits.test", "127.0.0.1", port + 1, "a", "b", connect=False)
    server, dialer = dialer_for(hub, waits)
    server.link_requests.append(LinkRequest("hub.test", dial=False))
    dialer.requested()
    dialer.tick(0.0)
    assert dialer.conns == {}  # its turn has come, but an operator closed it
    server.link_requests += [
        LinkRequest("hub.test", dial=True),
        LinkRequest("waits.test", dial=True, port=port),  # connect = false, another port
        LinkRequest("gone.test", dial=True),  # no such block (the configuration changed)
    ]
    dialer.requested()
    assert sorted(dialer.conns) == ["hub.test", "waits.test"]
    assert server.link_requests == []
    sock = dialer.conns["waits.test"].sock
    assert select.select([], [sock], [], 5.0)[1] == [sock]  # connected (or failed): wait
    assert sock.getpeername() == ("127.0.0.1", port)
    dialer.close_all("done", 0.0)


def test_a_hold_ends_after_retry_max(port: int) -> None:
    hub = LinkBlock("hub.test", "127.0.0.1", port, "a", "b", connect=True, retry_max=0.0)
    server, dialer = dialer_for(hub)
    server.link_requests.append(LinkRequest("hub.test", dial=False))
    dialer.requested()
    dialer.tick(0.0)
    assert list(dialer.conns) == ["hub.test"]
    dialer.close_all("done", 0.0)
