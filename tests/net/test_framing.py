"""net/framing.py without sockets: bytes in, lines out; queued lines in, frames out.

WebSocket frames are built and read by a wsproto client, the other end of the link."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wsproto.connection import Connection as WsConnection
from wsproto.connection import ConnectionType
from wsproto.events import (
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    TextMessage,
)

from miniircd.net import framing as framing_module
from miniircd.net.framing import FramingEnded, LineFraming, WebSocketFraming


def server(text: bool = True, max_message: int = 8192) -> WebSocketFraming:
    return WebSocketFraming(WsConnection(ConnectionType.SERVER), text, max_message)


def client() -> WsConnection:
    return WsConnection(ConnectionType.CLIENT)


def seen_by(peer: WsConnection, data: bytes | bytearray) -> list[Event]:
    peer.receive_data(bytes(data))
    return list(peer.events())


def test_line_framing_splits_lines_and_ends_an_endless_one() -> None:
    framing, out = LineFraming(16), bytearray()
    assert framing.feed(b"PING a\r\nPING b\nPI", out) == [b"PING a", b"PING b"]
    assert framing.feed(b"NG c\r\n", out) == [b"PING c"]
    with pytest.raises(FramingEnded, match="Input line too long"):
        framing.feed(b"x" * 17, out)
    assert out == b""


def test_one_line_per_message_text_or_binary_with_or_without_crlf() -> None:
    framing, peer, out = server(), client(), bytearray()
    data = peer.send(TextMessage("NICK alice")) + peer.send(BytesMessage(b"USER a 0 * :A\r\n"))
    data += peer.send(TextMessage("PING a\r\nPING b")) + peer.send(TextMessage(""))
    assert framing.feed(data, out) == [b"NICK alice", b"USER a 0 * :A", b"PING a", b"PING b"]
    assert out == b""


def test_a_fragmented_message_is_one_line_and_a_ping_between_is_answered() -> None:
    framing, peer, out = server(), client(), bytearray()
    first = peer.send(TextMessage("PRIVMSG #a :hel", message_finished=False))
    ping = peer.send(Ping(b"are you there"))
    last = peer.send(TextMessage("lo", message_finished=True))
    wire = first + ping + last
    lines = [line for i in range(len(wire)) for line in framing.feed(wire[i : i + 1], out)]
    assert lines == [b"PRIVMSG #a :hello"]
    assert seen_by(peer, out) == [Pong(b"are you there")]


def test_text_frames_replace_bad_utf8_and_binary_frames_keep_bytes() -> None:
    for text, expected in ((True, TextMessage(":a PRIVMSG #x :caf\ufffd")),
                           (False, BytesMessage(b":a PRIVMSG #x :caf\xe9"))):  # fmt: skip
        framing, peer, out = server(text), client(), bytearray()
        framing.encode([b":a PRIVMSG #x :caf\xe9\r\n"], out)
        assert seen_by(peer, out) == [expected]


def test_each_queued_line_is_its_own_message() -> None:
    framing, peer, out = server(), client(), bytearray()
    framing.encode([b"PING :1\r\nPING :2\r\n", b"PING :3\r\n"], out)
    assert [e.data for e in seen_by(peer, out)] == ["PING :1", "PING :2", "PING :3"]  # type: ignore[attr-defined]


def test_a_close_from_the_peer_is_answered_and_ends_the_link() -> None:
    framing, peer, out = server(), client(), bytearray()
    with pytest.raises(FramingEnded, match="Remote host closed the connection"):
        framing.feed(peer.send(CloseConnection(1000, "bye")), out)
    assert seen_by(peer, out) == [CloseConnection(1000, "bye")]
    framing.encode([b"ERROR :Closing link\r\n"], out := bytearray())
    framing.goodbye(out)
    assert out == b""  # nothing may follow the close frames


def test_an_oversized_message_is_closed_with_1009_as_it_arrives() -> None:
    framing, out = server(max_message=100), bytearray()
    header = bytes([0x81, 0xFF]) + (2**40).to_bytes(8, "big") + b"\0\0\0\0"  # masked, 1 TiB
    with pytest.raises(FramingEnded, match="Input line too long"):
        framing.feed(header + b"x" * 101, out)
    events = seen_by(client(), out)
    assert isinstance(events[0], CloseConnection) and events[0].code == 1009


def test_protocol_errors_close_with_their_code() -> None:
    unmasked = bytes([0x81, 0x04]) + b"PING"
    bad_utf8 = client().send(BytesMessage(b"\xff"))
    bad_utf8 = bytes([bad_utf8[0] & 0xF0 | 0x1]) + bad_utf8[1:]  # the same, as a text frame
    for wire, code in ((unmasked, 1002), (bad_utf8, 1007)):
        framing, out = server(), bytearray()
        with pytest.raises(FramingEnded, match="WebSocket protocol error"):
            framing.feed(wire, out)
        events = seen_by(client(), out)
        assert isinstance(events[0], CloseConnection) and events[0].code == code


def test_goodbye_sends_one_normal_close() -> None:
    framing, peer, out = server(), client(), bytearray()
    framing.encode([b"ERROR :Closing link: (Quit: bye)\r\n"], out)
    framing.goodbye(out)
    framing.goodbye(out)
    events = seen_by(peer, out)
    assert events == [TextMessage("ERROR :Closing link: (Quit: bye)"), CloseConnection(1000, "")]


@given(st.lists(st.binary(max_size=64), max_size=20))
def test_any_bytes_give_lines_or_an_end_never_a_crash(chunks: list[bytes]) -> None:
    framing, out = server(max_message=256), bytearray()
    try:
        for chunk in chunks:
            for line in framing.feed(chunk, out):
                assert line and b"\n" not in line and b"\r" not in line
    except FramingEnded:
        pass


def test_a_chunk_is_framed_once_for_every_client_of_its_kind() -> None:
    chunk = b":a!a@h PRIVMSG #x :hello\r\n"
    first, second, peers = server(), server(), (client(), client())
    outs = (bytearray(), bytearray())
    first.encode([chunk], outs[0])
    second.encode([chunk], outs[1])
    assert outs[0] == outs[1]
    assert framing_module._TEXT_FRAMES[chunk] == bytes(outs[0])
    for peer, out in zip(peers, outs, strict=True):
        assert seen_by(peer, out) == [TextMessage(":a!a@h PRIVMSG #x :hello")]
    many = server()
    for n in range(framing_module.FRAMED_KEPT + 1):
        many.encode([b"PING :%d\r\n" % n], bytearray())
    assert len(framing_module._TEXT_FRAMES) <= framing_module.FRAMED_KEPT
