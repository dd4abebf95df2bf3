"""IRC over WebSocket over real sockets (net/web, net/framing; ircv3.net websocket spec).

Ordinary clients use the `websockets` library, an implementation other than the server's
wsproto; what a library will not send (bad frames, unmasked frames, huge announced
lengths, fragments cut across TCP segments, a client that never reads) goes through
`RawWebSocket`, whose frames are built by hand. A plain TCP client next to them checks
what the rest of the server sees.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import socket
import ssl
import time
from pathlib import Path

import pytest
import trustme

from liveserver import DEADLINE, LineClient, LiveServer, flood_until_cut, unlimited_config
from wsclient import (
    BINARY,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    TEXT,
    Frame,
    RawWebSocket,
    WsLines,
    close_payload,
    frame,
    handshake_request,
    http_exchange,
    read_all,
    start_server,
)

INVALID_UTF8 = (
    ":irc.test FAIL PRIVMSG INVALID_UTF8 :Message rejected, your IRC software MUST use UTF-8"
    " encoding on this network"
)


def in_channel(port: int, nick: str, observer: LineClient, channel: str = "#web",
               **options: object) -> RawWebSocket:  # fmt: skip
    """A raw WebSocket client, registered and in `channel`, where `observer` saw it join."""
    ws = RawWebSocket(port, **options)  # type: ignore[arg-type]
    ws.register(nick)
    ws.send(f"JOIN {channel}")
    ws.expect(" 366 ")
    observer.expect(rf"^:{nick}!\S+ JOIN {channel}")
    return ws


def observer_in(server: LiveServer, nick: str = "tcp", channel: str = "#web") -> LineClient:
    client = server.client(nick)
    client.send(f"JOIN {channel}")
    client.expect(" 366 ")
    return client


def close_frame_and_end(ws: RawWebSocket) -> Frame:
    """The frames left before the server closes the connection end in one close frame."""
    frames = ws.frames_until_closed()
    assert frames and frames[-1].opcode == OP_CLOSE, frames
    assert all(f.opcode != OP_CLOSE for f in frames[:-1])
    return frames[-1]


# -- 1. handshake and subprotocols -----------------------------------------------------------


def test_accept_token_is_the_rfc_6455_example(live: LiveServer) -> None:
    ws = RawWebSocket(live.web_port, key="dGhlIHNhbXBsZSBub25jZQ==")
    assert ws.status_line.startswith("HTTP/1.1 101")
    assert ws.header("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert ws.header("upgrade") == "websocket"
    assert ws.header("connection") == "Upgrade"
    assert ws.header("sec-websocket-protocol") is None
    assert ws.header("sec-websocket-extensions") is None  # no compression
    ws.send("PING :first")
    assert ws.expect_frame() == Frame(True, OP_TEXT, b":irc.test PONG irc.test :first")
    # A browser's key, as RFC 6455 computes the answer, and Firefox's Connection header.
    key = base64.b64encode(b"0123456789abcdef").decode()
    answer = http_exchange(live.web_port, handshake_request(
        live.web_port, key=key, headers=(("Connection", "keep-alive, Upgrade"),)))  # fmt: skip
    magic = key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    assert (
        answer.header("sec-websocket-accept")
        == base64.b64encode(hashlib.sha1(magic).digest()).decode()
    )


@pytest.mark.parametrize(
    ("offered", "chosen", "kind"),
    [
        ([BINARY, TEXT], BINARY, bytes),
        ([TEXT, BINARY], TEXT, str),
        ([TEXT], TEXT, str),
        ([BINARY], BINARY, bytes),
        (None, None, str),  # gamja offers nothing: text frames
        (["chat.example"], None, str),  # nothing we know: accepted, none chosen
        (["chat.example", BINARY], BINARY, bytes),
    ],
)
def test_subprotocol_is_the_clients_first_known_one(
    live: LiveServer, offered: list[str] | None, chosen: str | None, kind: type
) -> None:
    ws = WsLines(live.web_port, offered)
    assert ws.subprotocol == chosen
    assert ws.ws.response is not None
    assert ws.ws.response.headers.get("Sec-WebSocket-Protocol") == chosen
    welcome = ws.register("sub")
    assert all(isinstance(message, kind) for message in welcome)
    first = welcome[0] if isinstance(welcome[0], str) else welcome[0].decode()
    assert first == ":irc.test 001 sub :Welcome to the miniircd Network, sub!~sub@127.0.0.1"
    ws.close()


def test_chosen_subprotocol_is_one_the_client_offered(live: LiveServer) -> None:
    # websockets raises NegotiationError: unsupported subprotocol: binary.ircv3.net
    ws = WsLines(live.web_port, ["Binary.IRCv3.net"])
    assert ws.subprotocol in ("Binary.IRCv3.net", None)


def test_a_handshake_on_another_path_is_accepted_and_the_page_still_served(
    live: LiveServer,
) -> None:
    """Web clients told only ws://host:8097/ (Kiwi IRC's habit) get in as at /socket."""
    for path in ("/", "/webirc"):
        ws = WsLines(live.web_port, [TEXT], path=path)
        assert ws.subprotocol == TEXT
        first = ws.register(f"p{len(path)}")[0]
        assert isinstance(first, str) and first.startswith(f":irc.test 001 p{len(path)} ")
        ws.close()
    get_page = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{live.web_port}\r\n\r\n".encode()
    assert http_exchange(live.web_port, get_page).status == 200


def test_lines_sent_with_the_upgrade_request_are_read(live: LiveServer) -> None:
    """Frames in the same TCP segment as the handshake are not lost."""
    ahead = frame(OP_TEXT, b"NICK early") + frame(OP_TEXT, b"USER early 0 * :early")
    ws = RawWebSocket(live.web_port, ahead=ahead)
    assert ws.expect(" 001 ").startswith(":irc.test 001 early ")


# -- 2. a conversation between a WebSocket client and a TCP client ------------------------------


def test_websocket_and_tcp_clients_talk(live: LiveServer) -> None:
    ws = WsLines(live.web_port, [TEXT])
    tcp = live.client("tcp")
    welcome = ws.register("web")
    assert all("\r" not in line and "\n" not in line for line in welcome)  # one line a message
    assert welcome[-1] == ":irc.test 376 web :End of /MOTD command."
    tcp.send("JOIN #chat")
    tcp.expect(" 366 ")
    ws.send("JOIN #chat")
    assert ws.recv() == ":web!~web@127.0.0.1 JOIN #chat"
    assert ws.recv() == ":irc.test 353 web = #chat :@tcp web"
    assert ws.recv() == ":irc.test 366 web #chat :End of /NAMES list"
    assert tcp.expect("JOIN") == ":web!~web@127.0.0.1 JOIN #chat"

    ws.send("PRIVMSG #chat :hello from the browser ✓")
    assert tcp.expect("PRIVMSG") == ":web!~web@127.0.0.1 PRIVMSG #chat :hello from the browser ✓"
    tcp.send("PRIVMSG #chat :hello from TCP ✓")
    assert ws.recv() == ":tcp!~tcp@127.0.0.1 PRIVMSG #chat :hello from TCP ✓"
    tcp.send("PRIVMSG web :private")
    assert ws.recv() == ":tcp!~tcp@127.0.0.1 PRIVMSG web :private"

    ws.send("PRIVMSG #chat :with a line ending\r\n")  # accepted, the ending dropped
    assert tcp.expect("PRIVMSG") == ":web!~web@127.0.0.1 PRIVMSG #chat :with a line ending"
    ws.send("PING a\r\nPING b")  # two lines in one message: two lines
    assert ws.recv() == ":irc.test PONG irc.test :a"
    assert ws.recv() == ":irc.test PONG irc.test :b"
    ws.send("", "\r\n", b"", "PING :after-empty")  # empty messages are nothing
    assert ws.recv() == ":irc.test PONG irc.test :after-empty"
    ws.send(b"PING :binary frame to a text client")  # either kind of frame is read
    assert ws.recv() == ":irc.test PONG irc.test :binary frame to a text client"

    ws.send("QUIT :bye")
    assert ws.expect_closed() == ["ERROR :Closing link: web[127.0.0.1] (Quit: bye)"]
    assert ws.ws.close_code == 1000
    assert tcp.expect("QUIT") == ":web!~web@127.0.0.1 QUIT :Quit: bye"


# -- 3. text and binary frames, UTF-8 --------------------------------------------------------


def test_binary_frame_that_is_not_utf8_is_refused(live: LiveServer) -> None:
    binary = WsLines(live.web_port, [BINARY])
    binary.register("bin")
    text = WsLines(live.web_port, [TEXT])
    text.register("txt")
    binary.send(b"PRIVMSG txt :caf\xe9")  # latin-1, in a binary frame
    assert binary.recv() == INVALID_UTF8.encode()  # the answer is a binary frame too
    text.send(b"PRIVMSG bin :caf\xe9")  # a text client may send binary frames as well
    assert text.recv() == INVALID_UTF8
    binary.send("PRIVMSG txt :café ✓".encode())
    assert text.recv() == ":bin!~bin@127.0.0.1 PRIVMSG txt :café ✓"
    text.send("PRIVMSG bin :naïve ✓")
    assert binary.recv() == ":txt!~txt@127.0.0.1 PRIVMSG bin :naïve ✓".encode()


def test_latin1_from_tcp_reaches_text_and_binary_clients_as_utf8(tmp_path: Path) -> None:
    """With utf8_only off the core reads a line that is not UTF-8 as latin-1, and sends it
    on as UTF-8: a text client gets a valid text frame, a binary one the UTF-8 bytes."""
    server = start_server(tmp_path, "[server]\nutf8_only = false\n")
    tcp = observer_in(server)
    text = WsLines(server.web_port, [TEXT])
    binary = WsLines(server.web_port, [BINARY])
    for ws, nick in ((text, "txt"), (binary, "bin")):
        ws.register(nick)
        ws.send("JOIN #web")
        ws.expect(" 366 ")
    tcp.send_raw(b"PRIVMSG #web :caf\xe9 \xff\r\n")
    assert text.expect("PRIVMSG") == ":tcp!~tcp@127.0.0.1 PRIVMSG #web :café ÿ"
    assert binary.expect("PRIVMSG") == ":tcp!~tcp@127.0.0.1 PRIVMSG #web :café ÿ"
    assert binary.seen[-1] == b":tcp!~tcp@127.0.0.1 PRIVMSG #web :caf\xc3\xa9 \xc3\xbf"
    binary.send(b"PRIVMSG #web :\xe0 bient\xf4t")  # from a binary client: the same
    assert tcp.expect("PRIVMSG") == ":bin!~bin@127.0.0.1 PRIVMSG #web :à bientôt"
    assert text.expect("PRIVMSG") == ":bin!~bin@127.0.0.1 PRIVMSG #web :à bientôt"


# -- 4. fragmented messages ------------------------------------------------------------------


def test_fragmented_messages_are_one_line(live: LiveServer) -> None:
    tcp = observer_in(live)
    ws = in_channel(live.web_port, "frag", tcp)
    ws.send_raw(
        frame(OP_TEXT, b"PRIVMSG #web :one ", fin=False)
        + frame(OP_CONT, b"two ", fin=False)
        + frame(OP_CONT, b"three")
    )
    assert tcp.expect("PRIVMSG") == ":frag!~frag@127.0.0.1 PRIVMSG #web :one two three"

    # Cut everywhere, frame headers included, and sent a few bytes at a time.
    wire = (
        frame(OP_BINARY, b"PRIVMSG #web :split ", fin=False)
        + frame(OP_CONT, b"across " * 30, fin=False)  # a 16-bit length
        + frame(OP_CONT, b"segments")
    )
    for start in range(0, len(wire), 37):
        ws.send_raw(wire[start : start + 37])
        time.sleep(0.005)  # separate TCP segments (TCP_NODELAY is on)
    expected = ":frag!~frag@127.0.0.1 PRIVMSG #web :split " + "across " * 30 + "segments"
    assert tcp.expect("PRIVMSG") == expected

    # A ping between fragments is answered at once, with its payload; the message goes on.
    ws.send_raw(frame(OP_TEXT, b"PING :frag", fin=False) + frame(OP_PING, b"between"))
    assert ws.expect_frame() == Frame(True, OP_PONG, b"between")
    ws.send_raw(frame(OP_CONT, b"mented"))
    assert ws.expect_frame() == Frame(True, OP_TEXT, b":irc.test PONG irc.test :fragmented")

    # A character cut between two fragments is whole again.
    ws.send_raw(frame(OP_TEXT, b"PING :caf\xc3", fin=False) + frame(OP_CONT, b"\xa9"))
    assert ws.expect_frame().payload == ":irc.test PONG irc.test :café".encode()

    # A line ending cut between two fragments still separates two lines.
    ws.send_raw(frame(OP_TEXT, b"PING :a\r", fin=False) + frame(OP_CONT, b"\nPING :b"))
    assert ws.expect_frame().payload == b":irc.test PONG irc.test :a"
    assert ws.expect_frame().payload == b":irc.test PONG irc.test :b"


# -- 5. ping and pong ------------------------------------------------------------------------


def test_websocket_ping_and_irc_ping(live: LiveServer) -> None:
    ws = RawWebSocket(live.web_port, subprotocols=(BINARY,))
    ws.register("pinger")
    for payload in (b"", b"\x00\xffbinary", bytes(range(125))):
        ws.send_frame(OP_PING, payload)
        assert ws.expect_frame() == Frame(True, OP_PONG, payload)
    ws.send_frame(OP_PONG, b"unasked")  # an unsolicited pong is ignored
    ws.send("PING :irc")
    assert ws.expect_frame() == Frame(True, OP_BINARY, b":irc.test PONG irc.test :irc")
    ws.send("PONG :nobody asked")  # no answer either
    ws.send("PING :next")
    assert ws.expect_frame().payload == b":irc.test PONG irc.test :next"

    library = WsLines(live.web_port)
    library.register("lib")
    assert library.ws.ping(b"from the library").wait(DEADLINE)
    library.send("PING :x")
    assert library.recv() == ":irc.test PONG irc.test :x"


# -- 6. closing ------------------------------------------------------------------------------


def test_close_from_the_client_and_quit(live: LiveServer) -> None:
    tcp = observer_in(live)
    ws = in_channel(live.web_port, "closer", tcp)
    ws.send_frame(OP_CLOSE, close_payload(1000, "done"))
    answer = close_frame_and_end(ws)  # then the TCP connection is closed
    assert (answer.code, answer.reason) == (1000, "done")  # the close echoed
    assert tcp.expect("QUIT") == ":closer!~closer@127.0.0.1 QUIT :Remote host closed the connection"

    ws = in_channel(live.web_port, "empty", tcp)
    ws.send_frame(OP_CLOSE, b"")  # no status code: none in the answer either
    assert close_frame_and_end(ws).payload == b""
    assert tcp.expect("QUIT") == ":empty!~empty@127.0.0.1 QUIT :Remote host closed the connection"

    ws = in_channel(live.web_port, "going", tcp)
    ws.send_frame(OP_CLOSE, close_payload(1001))
    assert close_frame_and_end(ws).code == 1001
    tcp.expect("going.* QUIT ")

    ws = in_channel(live.web_port, "quitter", tcp)
    ws.send("QUIT :see you")
    frames = ws.frames_until_closed()
    assert frames == [
        Frame(True, OP_TEXT, b"ERROR :Closing link: quitter[127.0.0.1] (Quit: see you)"),
        Frame(True, OP_CLOSE, close_payload(1000)),
    ]
    assert tcp.expect("QUIT") == ":quitter!~quitter@127.0.0.1 QUIT :Quit: see you"

    ws = in_channel(live.web_port, "dropped", tcp)
    ws.close()  # no close frame at all
    assert tcp.expect("QUIT") == (
        ":dropped!~dropped@127.0.0.1 QUIT :Remote host closed the connection"
    )

    library = WsLines(live.web_port, [TEXT])
    library.register("polite")
    library.send("JOIN #web")
    library.expect(" 366 ")
    tcp.expect("polite.* JOIN ")
    library.close()  # the library's closing handshake completes
    assert library.ws.close_code == 1000
    tcp.expect("polite.* QUIT ")


def test_message_just_before_the_close_frame_is_delivered(live: LiveServer) -> None:
    tcp = observer_in(live)
    ws = in_channel(live.web_port, "hasty", tcp)
    ws.send_raw(  # one TCP segment: a browser's ws.send(...); ws.close()
        frame(OP_TEXT, b"PRIVMSG #web :last words") + frame(OP_CLOSE, close_payload(1000))
    )
    assert close_frame_and_end(ws).code == 1000
    # What the TCP client gets: ":hasty!~hasty@127.0.0.1 QUIT :Remote host closed ..."
    assert tcp.expect("hasty") == ":hasty!~hasty@127.0.0.1 PRIVMSG #web :last words"


def test_server_shutdown_closes_websockets(live: LiveServer) -> None:
    ws = RawWebSocket(live.web_port)
    ws.register("staying")
    live.stop()
    frames = ws.frames_until_closed()
    assert frames[-2:] == [
        Frame(True, OP_TEXT, b"ERROR :Server shutting down"),
        Frame(True, OP_CLOSE, close_payload(1000)),
    ]


# -- 10. oversize ----------------------------------------------------------------------------


def test_oversize_messages_close_with_1009(live: LiveServer) -> None:
    tcp = observer_in(live)
    ws = in_channel(live.web_port, "big", tcp)
    at_limit = b"PRIVMSG #web :" + b"x" * (8192 - 14)  # max_line_pending bytes: one line
    ws.send_frame(OP_TEXT, at_limit)
    assert ws.expect(" 417 ") == ":irc.test 417 big :Input line was too long"
    ws.send_frame(OP_TEXT, at_limit + b"x")
    answer = close_frame_and_end(ws)
    assert (answer.code, answer.reason) == (1009, "Message too big")
    assert tcp.expect("QUIT") == ":big!~big@127.0.0.1 QUIT :Input line too long"

    # Fragments count together.
    ws = in_channel(live.web_port, "parts", tcp)
    ws.send_raw(b"".join(frame(OP_TEXT if n == 0 else OP_CONT, b"y" * 3000, fin=n == 2)
                         for n in range(3)))  # fmt: skip
    assert close_frame_and_end(ws).code == 1009
    tcp.expect("parts.* QUIT ")

    # A frame announcing 2**40 bytes: closed once 8 KiB have come, nothing buffered.
    ws = in_channel(live.web_port, "huge", tcp)
    ws.send_raw(frame(OP_BINARY, b"", length=2**40) + b"z" * 16384)
    assert close_frame_and_end(ws).code == 1009
    assert tcp.expect("QUIT") == ":huge!~huge@127.0.0.1 QUIT :Input line too long"

    other = WsLines(live.web_port)  # the server goes on
    other.register("other")
    tcp.send("PING :still")
    assert tcp.expect("PONG") == ":irc.test PONG irc.test :still"


# -- 11. protocol errors ---------------------------------------------------------------------


PROTOCOL_ERRORS = [
    ("unmasked frame", frame(OP_TEXT, b"PING :x", mask=False), 1002),
    ("invalid UTF-8 text", frame(OP_TEXT, b"PRIVMSG #web :caf\xe9"), 1007),
    (
        "invalid UTF-8 across fragments",
        frame(OP_TEXT, b"PING :\xc3", fin=False) + frame(OP_CONT, b"(x"),
        1007,
    ),
    ("RSV1 without an extension", frame(OP_TEXT, b"PING :x", rsv=4), 1002),
    ("reserved opcode", frame(0x3, b"PING :x"), 1002),
    ("continuation without a start", frame(OP_CONT, b"PING :x"), 1002),
    (
        "new message inside a fragmented one",
        frame(OP_TEXT, b"PING", fin=False) + frame(OP_TEXT, b"PING :x"),
        1002,
    ),
    ("fragmented ping", frame(OP_PING, b"x", fin=False), 1002),
    ("ping longer than 125 bytes", frame(OP_PING, bytes(126)), 1002),
    ("close with a one-byte payload", frame(OP_CLOSE, b"\x03"), 1002),
    ("close with code 999", frame(OP_CLOSE, close_payload(999)), 1002),
    ("close with code 5000", frame(OP_CLOSE, close_payload(5000)), 1002),
    ("close with the local-only code 1005", frame(OP_CLOSE, close_payload(1005)), 1002),
    ("a length longer than needed", b"\x81\xfe\x00\x05" + frame(OP_TEXT, b"PING ")[2:], 1002),
    ("close with an invalid UTF-8 reason", frame(OP_CLOSE, close_payload(1000) + b"\xff"), 1007),
]


def test_protocol_errors_close_with_their_code(live: LiveServer) -> None:
    tcp = observer_in(live)
    for number, (what, wire, code) in enumerate(PROTOCOL_ERRORS):
        nick = f"bad{number}"
        ws = in_channel(live.web_port, nick, tcp)
        ws.send_raw(wire)
        answer = close_frame_and_end(ws)
        assert answer.code == code, (what, answer)
        quit_line = tcp.expect(rf"^:{nick}!\S+ QUIT ")
        reason = r"QUIT :(WebSocket protocol error \(\d+\)|Remote host closed the connection)$"
        assert re.search(reason, quit_line), (what, quit_line)
    tcp.send("PING :survived")
    assert tcp.expect("PONG") == ":irc.test PONG irc.test :survived"
    assert "Traceback" not in live.log()


# -- 12. a slow reader; 13. flood control; 14. connection limits --------------------------------


def test_websocket_slow_reader_is_cut_off_by_its_send_queue(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, "--config", str(unlimited_config(
        tmp_path, "[limits]\nsendq = 65536\n")))  # fmt: skip
    server.start()
    flooder = observer_in(server, "flooder", "#flood")
    slow = in_channel(server.web_port, "slow", flooder, "#flood", rcvbuf=4096)  # never reads
    flood_until_cut(flooder, "#flood", ":slow!~slow@127.0.0.1 QUIT :SendQ exceeded", 200)
    flooder.send("NAMES #flood")
    assert flooder.expect(" 353 ").endswith(":@flooder")
    slow.close()


def test_pongs_count_against_the_send_queue(tmp_path: Path) -> None:
    server = start_server(tmp_path, "[limits]\nsendq = 65536\n")
    tcp = observer_in(server)
    pinger = in_channel(server.web_port, "pinger", tcp, rcvbuf=4096)  # never reads
    burst = frame(OP_PING, bytes(125)) * 1000  # 131 KB of pings, 127 KB of pongs
    try:
        for _ in range(16):  # about 2 MB of pongs: 30 times the send queue
            pinger.send_raw(burst)
        pinger.send("PRIVMSG #web :done pinging")  # read after every ping before it
    except OSError:
        pass  # cut off already
    # What the TCP client gets: ":pinger!~pinger@127.0.0.1 PRIVMSG #web :done pinging".
    assert tcp.expect("pinger") == ":pinger!~pinger@127.0.0.1 QUIT :SendQ exceeded"


def test_websocket_flooder_gets_excess_flood_like_a_tcp_one(live: LiveServer) -> None:
    pings = [f"PING :{n}" for n in range(200)]
    ws = RawWebSocket(live.web_port)
    ws.register("wsflood")
    ws.send(*pings)  # 200 frames in one TCP send
    frames = ws.frames_until_closed()
    assert frames[-2:] == [
        Frame(True, OP_TEXT, b"ERROR :Closing link: wsflood[127.0.0.1] (Excess Flood)"),
        Frame(True, OP_CLOSE, close_payload(1000)),
    ]
    pongs = [f.text for f in frames[:-2]]
    assert 0 < len(pongs) <= 20 and all(p.startswith(":irc.test PONG ") for p in pongs)

    tcp = live.client("tcpflood")
    tcp.send(*pings)
    lines = tcp.expect_closed()
    assert lines[-1] == "ERROR :Closing link: tcpflood[127.0.0.1] (Excess Flood)"
    assert abs(len(lines) - 1 - len(pongs)) <= 1  # the same burst got through either way


def test_web_sockets_count_against_the_per_address_limit(tmp_path: Path) -> None:
    server = start_server(tmp_path, "[limits]\nmax_connections_per_ip = 3\n")
    port = server.web_port
    first, second = server.client("first"), server.client("second")
    ws = RawWebSocket(port)
    ws.register("web")
    refused = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    try:  # a fourth, on the web port: closed without a word of HTTP
        with contextlib.suppress(OSError):  # closed already
            refused.sendall(handshake_request(port))
        assert read_all(refused) == b""
    finally:
        refused.close()
    too_many = "ERROR :Closing link: 127.0.0.1 (Too many connections from your IP)"
    assert LineClient(server.port).expect_closed() == [too_many]  # nor on the IRC port

    ws.send("QUIT")
    ws.frames_until_closed()
    pending = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    try:  # a web socket that has not sent its request yet counts too
        first.send("PING :sync")  # the server has accepted `pending` once this is answered
        first.expect("PONG")
        assert LineClient(server.port).expect_closed() == [too_many]
    finally:
        pending.close()
    deadline = time.monotonic() + DEADLINE
    while True:  # its place is free once the server has seen it close
        try:
            again = RawWebSocket(port)
            break
        except ConnectionError:
            assert time.monotonic() < deadline, "never admitted again"
            time.sleep(0.02)
    again.register("again")
    second.send("PING :ok")
    assert second.expect("PONG") == ":irc.test PONG irc.test :ok"


# -- 16. TLS ---------------------------------------------------------------------------------


def test_wss_client_talks_to_a_tcp_client(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("localhost", "127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    server = start_server(tmp_path, '[tls]\ncert = "cert.pem"\nkey = "key.pem"\nport = 0\n'
                                    "[web]\ntls_port = 0\n")  # fmt: skip
    deadline = time.monotonic() + DEADLINE
    while not (found := re.search(r"web page on https://127\.0\.0\.1:(\d+)/", server.log())):
        assert time.monotonic() < deadline, "no https line in the log"
        time.sleep(0.02)
    tls_port = int(found.group(1))
    assert tls_port not in (server.web_port, server.port)
    context = ssl.create_default_context()
    ca.configure_trust(context)

    secure = WsLines(tls_port, [BINARY, TEXT], scheme="wss", context=context)
    assert secure.subprotocol == BINARY
    tcp = observer_in(server, "plain")
    secure.register("secure")
    secure.send("JOIN #web")
    secure.expect(" 366 ")
    tcp.expect("secure.* JOIN ")
    secure.send("PRIVMSG #web :over wss")
    assert tcp.expect("PRIVMSG") == ":secure!~secure@127.0.0.1 PRIVMSG #web :over wss"
    tcp.send("PRIVMSG #web :in the clear")
    assert secure.expect("PRIVMSG") == ":plain!~plain@127.0.0.1 PRIVMSG #web :in the clear"
    assert secure.ws.ping(b"tls").wait(DEADLINE)

    page = http_exchange(tls_port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", context=context)
    assert page.status_line == "HTTP/1.1 200 OK"
    assert page.header("content-type") == "text/html; charset=utf-8"

    secure.send("QUIT :done")
    assert secure.expect_closed() == [b"ERROR :Closing link: secure[127.0.0.1] (Quit: done)"]
    assert tcp.expect("QUIT") == ":secure!~secure@127.0.0.1 QUIT :Quit: done"
