"""What every part of the soak test (bench/soak.py) shares: the plan the parent hands its
workers, a soak client's socket (`Peer`), what the client kinds may ask of their worker
(`Net`), and the reading of server lines and channel names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from sockloop import Link

NS = 1_000_000_000
PM_BASE = 1 << 12  # target ids: channel j is j, a private message to honest r is PM_BASE + r
ERROR_REASON = re.compile(rb"\(([^()]*)\)\s*$")


@dataclass
class Plan:
    port: int
    honest: int
    abusive: int
    workers: int
    channels: int
    ramp: float  # seconds over which the honest clients first connect
    t0: int = 0  # monotonic ns: the ramp starts
    seed: int = 1
    trace: bool = False
    host: str = "127.0.0.1"
    abuse_ips: tuple[str, ...] = tuple(f"127.0.0.{i}" for i in range(2, 10))
    account_share: float = 0.25
    pm_share: float = 0.3
    msg_every: tuple[float, float] = (2.0, 10.0)
    rotate_every: tuple[float, float] = (30.0, 120.0)
    relogin_every: tuple[float, float] = (120.0, 360.0)
    offline_for: tuple[float, float] = (1.0, 5.0)


class Peer(Link):
    """One soak client's socket; `gen` changes whenever the socket does, so that timers
    set for an earlier connection are ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.gen = 0
        self.last_error = b""
        self.opened_at = 0


class Net(Protocol):
    """What a worker does for its clients (soak_worker.Worker)."""

    stopping: bool  # the load is over: no new connections, messages or timers

    def open(self, peer: Peer, first: bytes, src_ip: str | None = None, rcvbuf: int = 0) -> bool:
        """Connect `peer` with `first` queued; False (and a retry in 1 s) if it failed."""

    def send(self, peer: Peer, data: bytes) -> None: ...

    def close(self, peer: Peer) -> bool: ...

    def update_interest(self, peer: Peer) -> None: ...

    def after(self, peer: Peer, seconds: float, action: str) -> None:
        """Call the peer's `on_timer(action)` then, unless its socket changed meanwhile."""


def parse(line: bytes) -> tuple[bytes, bytes, list[bytes]]:
    """(source nick, VERB, params) of one server line; tags are dropped."""
    if line.startswith(b"@"):
        space = line.find(b" ")
        line = line[space + 1 :] if space > 0 else b""
    source = b""
    if line.startswith(b":"):
        space = line.find(b" ")
        if space < 0:
            return line[1:], b"", []
        source = line[1:space].split(b"!", 1)[0]
        line = line[space + 1 :]
    trailing = line.find(b" :")
    if trailing >= 0:
        params = line[:trailing].split()
        params.append(line[trailing + 2 :])
    else:
        params = line.split()
    if not params:
        return source, b"", []
    return source, params[0].upper(), params[1:]


def chan_name(j: int) -> bytes:
    return b"#soak%d" % j


def chan_index(name: bytes) -> int | None:
    if name[:5].lower() == b"#soak" and name[5:].isdigit():
        return int(name[5:])
    return None


def error_reason(text: bytes) -> str:
    """The reason in an ERROR line's last parentheses, e.g. `Excess Flood`."""
    found = ERROR_REASON.search(text)
    return (found.group(1) if found else text[:60]).decode("utf-8", "replace")
