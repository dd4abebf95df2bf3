"""The netsplit relay of the link tests (tests/relay.py): it forwards both ways, pauses
and resumes, cuts and restores, and leaves no socket open behind it."""

from __future__ import annotations

import os
import socket

import pytest

from relay import Relay


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def target() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.5", 0))
    listener.listen(4)
    listener.settimeout(5)
    return listener


def through(relay: Relay, target: socket.socket) -> tuple[socket.socket, socket.socket]:
    """A client connected through the relay, and the target's end of it."""
    client = socket.create_connection(relay.address, timeout=5)
    far, _ = target.accept()
    far.settimeout(5)
    return client, far


def test_forwards_pauses_cuts_and_restores_without_leaking(target: socket.socket) -> None:
    before = open_fds()
    relay = Relay("127.0.0.6", target.getsockname())
    client, far = through(relay, target)
    client.sendall(b"PING :one\r\n")
    assert far.recv(100) == b"PING :one\r\n"
    far.sendall(b"PONG :one\r\n")
    assert client.recv(100) == b"PONG :one\r\n"
    relay.pause()
    client.sendall(b"held\r\n")
    far.settimeout(0.3)
    with pytest.raises(TimeoutError):
        far.recv(100)  # nothing crosses a paused relay...
    far.settimeout(5)
    relay.resume()
    assert far.recv(100) == b"held\r\n"  # ...and what waited crosses on resume
    relay.cut()
    assert client.recv(100) == b"" and far.recv(100) == b""  # both sides closed
    assert relay.connections == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(relay.address, timeout=5)
    relay.restore()
    again, far_again = through(relay, target)
    again.sendall(b"back\r\n")
    assert far_again.recv(100) == b"back\r\n"
    relay.close()
    assert again.recv(100) == b""
    for sock in (client, far, again, far_again):
        sock.close()
    assert open_fds() == before  # the relay's listener, pairs and wake-up pair: all closed


def test_a_side_that_closes_closes_the_other(target: socket.socket) -> None:
    relay = Relay("127.0.0.6", target.getsockname())
    try:
        client, far = through(relay, target)
        far.close()
        assert client.recv(100) == b""
        client.close()
    finally:
        relay.close()
