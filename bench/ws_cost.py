"""What a WebSocket client costs the server, beside a TCP one: fan-out to one room.

    python bench/ws_cost.py [--receivers 200] [--messages 5000] [--reps 3]

For each transport, a fresh server (flood control off), `--receivers` clients in one
channel (over TCP, or over WebSocket with `text.ircv3.net`), and one TCP sender that sends
`--messages` lines to the channel as fast as the server takes them. It prints deliveries
per second (wall clock, until every receiver has every line) and the server's CPU time per
delivery, read from /proc: the second figure is the cost, whatever the generator's speed.
Receivers count the stamped text in the raw stream, so neither side's parsing is measured
on the client; WebSocket frames from the server are unmasked, so the same count works.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import selectors
import socket
import statistics
import struct
import tempfile
import time
from pathlib import Path

from common import ServerProcess, cpu_seconds, raise_fd_limit

STAMP = b"PRIVMSG #b :m"
CONFIG = "[flood]\nenabled = false\n[limits]\nmax_connections_per_ip = 100000\nsendq = 67108864\n"
HANDSHAKE = (
    "GET /socket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: text.ircv3.net\r\n\r\n"
)


def frame(line: str) -> bytes:
    """A masked client text frame; the zero mask leaves the payload as it is."""
    data = line.encode()
    head = bytes([0x81])
    head += bytes([0x80 | len(data)]) if len(data) < 126 else bytes([0xFE]) + struct.pack(
        "!H", len(data)
    )
    return head + b"\0\0\0\0" + data


def read_until(sock: socket.socket, marker: bytes, deadline: float) -> bytes:
    data = b""
    while marker not in data:
        if time.monotonic() > deadline:
            raise TimeoutError(marker)
        data += sock.recv(65536)
    return data


def receiver(transport: str, port: int, web_port: int, n: int) -> socket.socket:
    deadline = time.monotonic() + 30
    lines = [f"NICK r{n}", f"USER r{n} 0 * :r", "JOIN #b"]
    if transport == "tcp":
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall("".join(line + "\r\n" for line in lines).encode())
    else:
        sock = socket.create_connection(("127.0.0.1", web_port))
        sock.sendall(HANDSHAKE.format(port=web_port).encode())
        read_until(sock, b"\r\n\r\n", deadline)
        sock.sendall(b"".join(frame(line) for line in lines))
    read_until(sock, b" 366 ", deadline)
    sock.setblocking(False)
    return sock


def run(transport: str, receivers: int, messages: int, tmp: Path) -> tuple[float, float]:
    """(deliveries per second, server CPU microseconds per delivery)."""
    (tmp / "bench.toml").write_text(CONFIG)
    server = ServerProcess("--config", str(tmp / "bench.toml"), pin=True)
    try:
        log = server.log_path.read_text()
        web = re.search(r"web page on http://127\.0\.0\.1:(\d+)", log)
        web_port = int(web.group(1)) if web else 0
        socks = [receiver(transport, server.port, web_port, n) for n in range(receivers)]
        sender = socket.create_connection(("127.0.0.1", server.port))
        sender.sendall(b"NICK s\r\nUSER s 0 * :s\r\nJOIN #b\r\n")
        read_until(sender, b" 366 ", time.monotonic() + 30)
        sel = selectors.DefaultSelector()
        counts = {sock: 0 for sock in socks}
        tails = {sock: b"" for sock in socks}
        for sock in socks:
            sel.register(sock, selectors.EVENT_READ)
        payload = b"".join(b"PRIVMSG #b :m%d\r\n" % i for i in range(messages))
        sender.setblocking(False)
        cpu0, start = cpu_seconds(server.pid), time.monotonic()
        sent, done = 0, 0
        while done < receivers:
            if sent < len(payload):
                with contextlib.suppress(BlockingIOError):
                    sent += sender.send(payload[sent : sent + 65536])
            for key, _ in sel.select(0.01):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                data = tails[sock] + sock.recv(1 << 20)
                counts[sock] += data.count(STAMP)
                tails[sock] = data[-(len(STAMP) - 1) :]
                if counts[sock] >= messages:
                    sel.unregister(sock)
                    done += 1
            if time.monotonic() - start > 120:
                raise TimeoutError(f"{transport}: {done} of {receivers} receivers done")
        elapsed, cpu = time.monotonic() - start, cpu_seconds(server.pid) - cpu0
        deliveries = receivers * messages
        for sock in [*socks, sender]:
            sock.close()
        return deliveries / elapsed, cpu / deliveries * 1e6
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receivers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    raise_fd_limit()
    print(f"fan-out: {args.receivers} receivers, {args.messages} messages, median of {args.reps}")
    print(f"{'transport':<10} {'deliveries/s':>14} {'server CPU us/delivery':>24}")
    for transport in ("tcp", "ws"):
        rates, costs = [], []
        for _ in range(args.reps):
            with tempfile.TemporaryDirectory() as tmp:
                rate, cost = run(transport, args.receivers, args.messages, Path(tmp))
            rates.append(rate)
            costs.append(cost)
        rate, cost = statistics.median(rates), statistics.median(costs)
        print(f"{transport:<10} {rate:>14,.0f} {cost:>24.2f}")


if __name__ == "__main__":
    main()
