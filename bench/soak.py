"""Soak test (issue 8): thousands of clients for minutes, some of them abusive.

What it does. It starts the real server (`python -m miniircd` from the project's venv) on
127.0.0.1 with a fresh data dir in a temporary folder, flood control on at its defaults,
`max_connections_per_ip` raised (every client comes from the loopback) and
`registration_timeout` lowered to 20 s, logging at DEBUG to a file (one `client left`
line with the reason per departure). The server is pinned to CPU 0 with `taskset`, the
load to the other CPUs. Worker processes (`--workers`) each run one `selectors` (epoll)
loop over their share of the sockets: no thread per client.

Honest clients (1 - `--abusive` of them) register (plain, with CAP, or logging in with
SASL PLAIN, `PASS account:password` or NickServ `IDENTIFY account password`; about a
quarter own an account, made on their first connection with `REGISTER * * <password>`
before registration or NickServ `REGISTER` after it), join 1 to 3 of `--channels`
channels, send PRIVMSG to a channel they are in or to one of a few "partner" nicks every
2 to 10 s (jittered), part one channel and join another every 30 to 120 s
(`--rotate-every`), and every 2 to 6 minutes (`--relogin-every`) QUIT and come back, the
account owners logging in again each time by another of the three ways. They answer
PINGs. Every honest message's text is `~S <sender> <target> <seq> <send time ns> <words>`:
(sender, target, seq) is its unique id, the time gives the delivery latency.

Abusive clients (`--abusive`, 5 %) connect from other loopback addresses (127.0.0.2-9),
so that the per-IP login throttle they trip does not fall on the honest clients (who
all share 127.0.0.1), and cycle for the whole run, reconnecting after each drop:
- flood: blast 300 lines at once (Excess Flood); slowflood: 8 lines/s, twice the rate
  (fakelag delays them, then Excess Flood); the PING round trip shows the delay;
- garbage: invalid UTF-8, NUL bytes, 600-byte lines, binary junk, then 100 KB without a
  newline (Input line too long), half of them before registering;
- slowread: a 4 KiB receive buffer, `message-tags` and `server-time` (longer lines), join
  ten honest channels, ask for `HISTORY` three times a second and never read (SendQ
  exceeded; the server sends no ERROR then, so the reason is taken from its log);
- stall: connect and never register (Registration timed out);
- badlogin: wrong passwords for decoy or unknown accounts over SASL, PASS and IDENTIFY.

The expectation rule (why a "lost" report is never false). Every honest client asks for
`echo-message` (and `draft/chathistory`, so JOIN replays no history). The server handles
lines one at a time, and every line a session is sent comes out of its queue in the
order the server produced it. So a sender S sees, in its own stream, each other member's
JOIN/PART/QUIT/NICK (and the 353 list at its own join) *in the server's order relative
to the echo of its own message*: when the echo of message m arrives, the member list S
has tracked is exactly the channel's membership when the server handled m, and m went to
exactly those members. For private messages S MONITORs its partners; 730/731 arrive in
the same order, so "R was online when the server handled m" is exact too (a message to
an offline partner is not expected; one to an offline account goes to its inbox and
comes back at login as a replay, which is not counted). S therefore keeps, per target, a
running count and 64-bit hash sum of its echoed messages; when an honest member R enters
S's view it notes both, and when R leaves (or S does), the difference is added to R's
expected count and hash. R adds the hash of every marked message it receives (ignoring
repeats, counted as duplicates). At the end every recipient's expected (count, hash)
must equal its received one; the difference of the counts gives lost and unexpected
deliveries. A message the server refused produces no echo and is never expected. The end
of the run is a barrier: every honest client stops, sends PING and waits for its PONG
(all echoes are in), then every one PINGs again (all deliveries queued before those
echoes are read). With `--trace` (automatic up to 300 clients) every id is also kept, to
count lost messages exactly and print examples.

How to run (from the repo root):
    .venv/bin/python bench/soak.py                  # 2000 clients, 10 minutes, 5 % abusive
    .venv/bin/python bench/soak.py --quick          # 200 clients for 1 minute
    .venv/bin/python bench/soak.py --clients 2000 --minutes 2 --workers 4

It prints progress to stderr, then a summary and, as its last line, one JSON object.
The load starts once every honest client has registered and joined (the ramp connects
40 a second); RSS and CPU time are read from /proc every 10 s. Latency is the time from
the sender's `send` to the recipient's `recv` (CLOCK_MONOTONIC is system-wide), so it
includes the load generator's own delays. The temporary folder (server log, database) is
removed after a passing run and kept after a failing one (or with `--keep`).

Two steps in RSS are expected and bounded, which is why flatness is judged by the slope
over the second half rather than by end minus start: each of the server's two hashing
threads keeps scrypt's 16 MiB working area once glibc has raised its mmap threshold, and
each slow reader holds up to `sendq` (1 MiB) until it is dropped.

Pass criteria (exit status 0 only if all hold): no honest client disconnected other than
by its own QUIT, no honest message lost, duplicated or delivered unexpectedly, every
recipient's hash matches, no honest login or command refused, every honest client
registered and joined, the server still answers PING at the end and exits cleanly on
SIGTERM, no `Traceback` in its log, and its RSS grows by at most `--max-slope` KiB/min
over the second half of the load (judged only for runs of 5 minutes or more).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import errno
import heapq
import itertools
import json
import multiprocessing
import os
import random
import re
import resource
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait as wait_pipes
from pathlib import Path
from typing import Any

from common import ServerProcess, proc_status, raise_fd_limit

REPO = Path(__file__).resolve().parent.parent
NS = 1_000_000_000
MASK = (1 << 64) - 1
PM_BASE = 1 << 12  # target ids: channel j is j, a private message to honest r is PM_BASE + r
MARK = b" :~S "
READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE
RECV_SIZE = 1 << 16
CAPS = b"echo-message draft/chathistory"
WORDS = ("soak", "hello", "again", "irc", "channel", "message", "fine", "ok", "lunch", "test")
ERROR_REASON = re.compile(rb"\(([^()]*)\)\s*$")
ABUSE_KINDS = ("flood", "slowflood", "garbage", "slowread", "stall", "badlogin")
DECOYS = ("decoy0", "decoy1", "decoy2")
DECOY_PASSWORD = "decoy-password-1"
SAMPLE_EVERY = 10.0


def mix(sender: int, target: int, seq: int) -> int:
    """A 64-bit hash of one message id (splitmix64)."""
    z = (((sender << 40) ^ (target << 24) ^ seq) + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


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
    found = ERROR_REASON.search(text)
    return (found.group(1) if found else text[:60]).decode("utf-8", "replace")


def latency_bucket(us: int) -> int:
    """Latency in microseconds, rounded to 2-3 significant digits."""
    if us < 1000:
        return us // 10 * 10
    if us < 10_000:
        return us // 100 * 100
    if us < 100_000:
        return us // 1000 * 1000
    return us // 10_000 * 10_000


# -- what the parent tells the workers ------------------------------------------------------


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


# -- clients --------------------------------------------------------------------------------


class Peer:
    """One socket and its buffers; `gen` changes whenever the socket does, so that timers
    set for an earlier connection are ignored."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.out = bytearray()
        self.tail = b""
        self.connected = False
        self.reading = True
        self.interest = 0
        self.gen = 0
        self.last_error = b""
        self.opened_at = 0


class Honest(Peer):
    def __init__(self, idx: int, plan: Plan, rng: random.Random) -> None:
        super().__init__()
        self.idx = idx
        self.nick = b"h%d" % idx
        self.has_account = rng.random() < plan.account_share
        self.password = f"pw-{idx}-soak-{plan.seed}"
        self.account_made = False
        n = plan.honest
        partners = {(idx + d) % n for d in (1, 3, 11, n // 2)} - {idx} if n > 1 else set()
        self.partners = sorted(partners)
        self.partner_set = set(partners)
        self.state = "offline"  # offline, registering, active, quitting
        self.sessions = 0
        self.method = ""
        self.registered = False
        self.caps_ok = False
        self.logged_in = False
        self.login_done = False
        self.ever_joined = False
        self.drain = 0  # the drain PING this client waits for the PONG of (0: none)
        # the member view, per confirmed channel: nick -> honest index or -1
        self.channels: dict[int, dict[bytes, int]] = {}
        self.names: dict[int, dict[bytes, int]] = {}  # 353 lines not yet ended by 366
        self.joining: set[int] = set()
        self.parting: set[int] = set()
        self.online: set[int] = set()  # partners MONITOR says are online
        # sender side, per target id
        self.seq: dict[int, int] = {}
        self.echoed: dict[int, int] = {}
        self.count: dict[int, int] = {}
        self.hash: dict[int, int] = {}
        self.open: dict[int, dict[int, tuple[int, int]]] = {}
        self.echo_list: dict[int, list[int]] = {}  # --trace only
        # receiver side: per target id, sender -> last seq seen
        self.last_rx: dict[int, dict[int, int]] = {}


class Abuser(Peer):
    def __init__(self, idx: int, kind: str, ip: str) -> None:
        super().__init__()
        self.idx = idx
        self.kind = kind
        self.ip = ip
        self.cycle = 0
        self.nick = b""
        self.attempts = 0
        self.ticks = 0
        self.pings: dict[bytes, int] = {}


# -- a worker process -----------------------------------------------------------------------


@dataclass
class Stats:
    sent: Counter[str] = field(default_factory=Counter)
    echoed: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    echo_out_of_order: int = 0
    duplicates: int = 0
    latency: Counter[int] = field(default_factory=Counter)  # from the start of the load on
    latency_max_us: int = 0
    ramp_latency: Counter[int] = field(default_factory=Counter)  # before it
    ramp_latency_max_us: int = 0
    latency_peaks: dict[int, int] = field(default_factory=dict)  # 10 s window -> max us
    honest_disconnects: Counter[str] = field(default_factory=Counter)
    honest_errors: Counter[str] = field(default_factory=Counter)
    error_examples: list[str] = field(default_factory=list)
    logins_ok: Counter[str] = field(default_factory=Counter)
    logins_failed: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    abuse_conns: Counter[str] = field(default_factory=Counter)
    abuse_closed: Counter[str] = field(default_factory=Counter)
    abuse_replies: Counter[str] = field(default_factory=Counter)
    abuse_life: dict[str, list[float]] = field(default_factory=dict)
    fakelag_max_s: float = 0.0


class Worker:
    def __init__(self, wid: int, plan: Plan, ctl: Pipe) -> None:
        self.wid = wid
        self.plan = plan
        self.ctl = ctl
        self.rng = random.Random(plan.seed * 1000 + wid)
        self.addr = (plan.host, plan.port)
        self.sel = selectors.DefaultSelector()
        self.sel.register(ctl.fileno(), READ, None)
        self.buf = bytearray(RECV_SIZE)
        self.timers: list[tuple[int, int, Peer, int, str]] = []
        self.tick = itertools.count()
        self.st = Stats()
        n = plan.honest
        self.exp_count = [0] * n
        self.exp_hash = [0] * n
        self.rx_count = [0] * n
        self.rx_hash = [0] * n
        self.trace_exp: list[tuple[int, int, int, int]] = []
        self.trace_rx: list[tuple[int, int, int, int]] = []
        self.honest = [
            Honest(i, plan, random.Random(plan.seed * 7919 + i))
            for i in range(wid, n, plan.workers)
        ]  # fmt: skip
        self.abusers = [
            Abuser(a, ABUSE_KINDS[a % len(ABUSE_KINDS)], plan.abuse_ips[a % len(plan.abuse_ips)])
            for a in range(wid, plan.abusive, plan.workers)
        ]  # fmt: skip
        self.stopping = False
        self.draining = 0
        self.drain_deadline = 0
        self.finishing = 0  # monotonic ns: the deadline of the final QUITs, while they run
        self.finished = False
        self.next_status = 0

    # -- loop ----------------------------------------------------------------------------

    def run(self) -> None:
        plan = self.plan
        for h in self.honest:
            self.at(h, plan.t0 + int(plan.ramp * NS * h.idx / max(1, plan.honest)), "connect")
        abuse_start = plan.t0 + int(min(5.0, plan.ramp / 4) * NS)
        for a in self.abusers:
            self.at(a, abuse_start + a.idx * NS // 20, "connect")
        while not self.finished:
            now = time.monotonic_ns()
            timeout = 0.05
            if self.timers:
                timeout = min(timeout, max(0.0, (self.timers[0][0] - now) / NS))
            for key, mask in self.sel.select(timeout):
                peer = key.data
                if peer is None:
                    self.command()
                    continue
                if mask & WRITE:
                    self.on_writable(peer)
                if mask & READ and peer.sock is not None and peer.sock is key.fileobj:
                    self.on_readable(peer)
            now = time.monotonic_ns()
            while self.timers and self.timers[0][0] <= now:
                _, _, peer, gen, action = heapq.heappop(self.timers)
                if gen == peer.gen:
                    self.on_timer(peer, action)
            if self.draining:
                self.check_drained()
            if self.finishing:
                self.check_finished()
            if now >= self.next_status:
                self.next_status = now + 2 * NS
                self.ctl.send(("status", self.status()))

    def at(self, peer: Peer, when: int, action: str) -> None:
        heapq.heappush(self.timers, (when, next(self.tick), peer, peer.gen, action))

    def after(self, peer: Peer, seconds: float, action: str) -> None:
        self.at(peer, time.monotonic_ns() + int(seconds * NS), action)

    def status(self) -> dict[str, Any]:
        return {
            "active": sum(h.state == "active" for h in self.honest),
            "joined": sum(h.ever_joined for h in self.honest),
            "sent": sum(self.st.sent.values()),
            "received": sum(self.rx_count),
            "honest_disconnects": sum(self.st.honest_disconnects.values()),
            "honest_errors": sum(self.st.honest_errors.values()),
            "abuse_closed": sum(self.st.abuse_closed.values()),
        }

    def command(self) -> None:
        name = self.ctl.recv()
        if name == "load":
            st = self.st
            st.ramp_latency, st.ramp_latency_max_us = st.latency, st.latency_max_us
            st.latency, st.latency_max_us = Counter(), 0
        elif name == "stop":
            self.stopping = True
            for a in self.abusers:
                self.close(a)
            self.start_drain(1)
        elif name == "drain2":
            self.start_drain(2)
        elif name == "finish":
            self.finish()

    # -- sockets -------------------------------------------------------------------------

    def open(self, peer: Peer, first: bytes, src_ip: str | None = None, rcvbuf: int = 0) -> bool:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            if src_ip:
                sock.bind((src_ip, 0))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            code = sock.connect_ex(self.addr)
        except OSError as exc:
            sock.close()
            self.note_open_failure(peer, errno.errorcode.get(exc.errno or 0, str(exc)))
            return False
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            self.note_open_failure(peer, errno.errorcode.get(code, str(code)))
            return False
        peer.gen += 1
        peer.sock = sock
        peer.connected = False
        peer.reading = True
        peer.out = bytearray(first)
        peer.tail = b""
        peer.last_error = b""
        peer.interest = 0
        peer.opened_at = time.monotonic_ns()
        self.update_interest(peer)
        return True

    def note_open_failure(self, peer: Peer, why: str) -> None:
        if isinstance(peer, Honest):
            self.honest_error(peer, f"connect failed: {why}", why.encode())
        elif isinstance(peer, Abuser):
            self.st.abuse_closed[f"{peer.kind}: connect failed {why}"] += 1
        self.after(peer, 1.0, "connect")

    def update_interest(self, peer: Peer) -> None:
        sock = peer.sock
        if sock is None:
            return
        want = (READ if peer.reading else 0) | (WRITE if peer.out or not peer.connected else 0)
        if want == peer.interest:
            return
        if peer.interest == 0:
            self.sel.register(sock, want, peer)
        elif want == 0:
            self.sel.unregister(sock)
        else:
            self.sel.modify(sock, want, peer)
        peer.interest = want

    def send(self, peer: Peer, data: bytes) -> None:
        if peer.sock is None:
            return
        peer.out += data
        self.flush(peer)

    def flush(self, peer: Peer) -> None:
        sock = peer.sock
        if sock is None:
            return
        if peer.connected and peer.out:
            try:
                sent = sock.send(peer.out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self.lost(peer, "send: " + errno.errorcode.get(exc.errno or 0, str(exc)))
                return
            del peer.out[:sent]
        self.update_interest(peer)

    def on_writable(self, peer: Peer) -> None:
        sock = peer.sock
        if sock is None:
            return
        if not peer.connected:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.lost(peer, "connect: " + errno.errorcode.get(err, str(err)))
                return
            peer.connected = True
        self.flush(peer)

    def on_readable(self, peer: Peer) -> None:
        sock = peer.sock
        assert sock is not None
        try:
            n = sock.recv_into(self.buf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.lost(peer, "recv: " + errno.errorcode.get(exc.errno or 0, str(exc)))
            return
        if n == 0:
            self.lost(peer, "closed")
            return
        data = peer.tail + self.buf[:n]
        cut = data.rfind(b"\n") + 1
        peer.tail = bytes(data[cut:])
        if not cut:
            return
        handle = self.honest_line if isinstance(peer, Honest) else self.abuser_line
        for raw in bytes(data[:cut]).split(b"\n"):
            line = raw.rstrip(b"\r")
            if line:
                handle(peer, line)  # type: ignore[arg-type]
                if peer.sock is not sock:
                    return

    def close(self, peer: Peer) -> None:
        """Close without counting it as a loss (the end of the run)."""
        if peer.sock is None:
            return
        if peer.interest:
            self.sel.unregister(peer.sock)
        peer.sock.close()
        peer.sock = None
        peer.interest = 0
        peer.gen += 1

    def lost(self, peer: Peer, reason: str) -> None:
        if peer.sock is None:
            return
        self.close(peer)
        if isinstance(peer, Honest):
            self.honest_closed(peer, reason)
        elif isinstance(peer, Abuser):
            self.abuser_closed(peer, reason)

    def on_timer(self, peer: Peer, action: str) -> None:
        if isinstance(peer, Honest):
            if action == "connect":
                self.honest_connect(peer)
            elif action == "send":
                self.honest_send(peer)
            elif action == "rotate":
                self.honest_rotate(peer)
            elif action == "relogin":
                self.honest_relogin(peer)
        elif isinstance(peer, Abuser):
            self.abuser_timer(peer, action)

    # -- honest clients: connection and login --------------------------------------------

    def honest_connect(self, h: Honest) -> None:
        if self.stopping or h.sock is not None:
            return
        h.sessions += 1
        h.registered = h.caps_ok = h.logged_in = False
        nick = h.nick = b"h%d" % h.idx
        user = b"NICK %s\r\nUSER %s 0 * :honest %s\r\n" % (nick, nick, nick)
        cap = b"CAP LS 302\r\n"
        req = b"CAP REQ :%s\r\nCAP END\r\n" % CAPS
        pw = h.password.encode()
        if h.has_account and not h.account_made:
            method = "register-ircv3" if h.idx % 2 else "register-nickserv"
        elif h.has_account:
            method = ("sasl", "pass", "identify")[(h.sessions + h.idx) % 3]
        else:
            method = "plain-cap" if h.idx % 2 else "plain"
        h.method = method
        h.login_done = not h.has_account
        if method == "plain":
            first = user
        elif method == "plain-cap":
            first = cap + user + req
        elif method == "register-ircv3":
            register = b"NICK %s\r\nREGISTER * * %s\r\n" % (nick, pw)
            first = cap + register + user[user.find(b"USER") :] + req
        elif method == "sasl":
            first = cap + user + b"CAP REQ :sasl %s\r\n" % CAPS
        elif method == "pass":
            first = b"PASS %s:%s\r\n" % (nick, pw) + user
        else:  # register-nickserv, identify: after registration
            first = user
        if self.open(h, first):
            h.state = "registering"
            self.st.events["connections"] += 1
            self.after(h, 60.0, "relogin")  # a safety net: a registration that hangs

    def honest_line(self, h: Honest, line: bytes) -> None:
        pos = line.find(MARK)
        if pos > 0 and b" PRIVMSG " in line[:pos]:
            self.marked(h, line[pos + len(MARK) :])
            return
        source, verb, params = parse(line)
        if verb == b"PING":
            self.send(h, b"PONG :%s\r\n" % (params[-1] if params else b""))
        elif verb == b"PONG":
            token = params[-1] if params else b""
            if h.drain and token == b"drain%d" % h.drain:
                h.drain = 0
        elif verb == b"JOIN":
            self.on_join(h, source, params)
        elif verb == b"353" and len(params) >= 4:
            j = chan_index(params[2])
            if j is not None and j in h.names:
                members = h.names[j]
                for name in params[3].split():
                    nick = name.lstrip(b"@+")
                    members[nick] = self.honest_index(nick)
        elif verb == b"366" and len(params) >= 2:
            self.on_names_end(h, params[1])
        elif verb == b"PART":
            self.on_part(h, source, params)
        elif verb == b"QUIT":
            self.on_quit(h, source)
        elif verb == b"KICK" and len(params) >= 2:
            self.on_part(h, params[1], params[:1])
        elif verb == b"NICK":
            self.on_nick(h, source, params)
        elif verb == b"730" and len(params) >= 2:
            for entry in params[1].split(b","):
                r = self.honest_index(entry.split(b"!", 1)[0])
                if r in h.partner_set and r not in h.online:
                    h.online.add(r)
                    self.open_view(h, PM_BASE + r, r)
        elif verb == b"731" and len(params) >= 2:
            for entry in params[1].split(b","):
                r = self.honest_index(entry)
                if r in h.online:
                    h.online.discard(r)
                    self.close_view(h, PM_BASE + r, r)
        elif verb in (b"376", b"422"):
            self.on_registered(h)
        elif verb == b"900":
            if not h.logged_in:
                h.logged_in = True
                h.login_done = True
                self.st.logins_ok[h.method] += 1
                if h.method.startswith("register"):
                    h.account_made = True
                self.maybe_activate(h)
        elif verb == b"CAP" and len(params) >= 3:
            self.on_cap(h, params)
        elif verb == b"AUTHENTICATE" and params and params[0] == b"+":
            payload = base64.b64encode(b"\0%s\0%s" % (h.nick, h.password.encode()))
            self.send(h, b"AUTHENTICATE %s\r\n" % payload)
        elif verb == b"903":
            self.send(h, b"CAP END\r\n")
        elif verb == b"904":
            self.login_failed(h, line)
            self.send(h, b"CAP END\r\n")
        elif verb == b"ERROR":
            h.last_error = line
        elif verb == b"NOTICE":
            self.on_notice(h, source, params, line)
        elif verb == b"FAIL":
            if params and params[0] == b"REGISTER":
                self.login_failed(h, line)
            else:
                self.honest_error(h, "FAIL " + b" ".join(params[:2]).decode(), line)
        elif verb == b"401":
            self.st.events["pm_no_such_nick"] += 1  # a partner who just left: a normal race
        elif len(verb) == 3 and verb.isdigit() and verb[0] in b"45":
            self.honest_error(h, verb.decode(), line)

    def on_notice(self, h: Honest, source: bytes, params: list[bytes], line: bytes) -> None:
        text = params[-1] if params else b""
        if source == b"NickServ":
            if text.startswith(b"Invalid account or password"):
                self.login_failed(h, line)
            elif text.startswith(b"You did not log in in time"):
                self.honest_error(h, "renamed by NickServ", line)
        elif b"is offline; your message will be delivered" in text:
            self.st.events["pm_to_offline_account"] += 1
        elif text.startswith(b"Login failed"):
            self.login_failed(h, line)

    def login_failed(self, h: Honest, line: bytes) -> None:
        self.st.logins_failed[h.method] += 1
        self.honest_error(h, f"login failed ({h.method})", line)
        h.login_done = True
        self.maybe_activate(h)

    def honest_error(self, h: Honest, what: str, line: bytes) -> None:
        self.st.honest_errors[what] += 1
        if len(self.st.error_examples) < 20:
            self.st.error_examples.append(f"{h.nick.decode()}: {line[:200]!r}")

    def on_cap(self, h: Honest, params: list[bytes]) -> None:
        sub = params[1].upper()
        if sub == b"ACK":
            acked = params[2].split()
            if b"echo-message" in acked:
                h.caps_ok = True
            if b"sasl" in acked and h.method == "sasl":
                self.send(h, b"AUTHENTICATE PLAIN\r\n")
            self.maybe_activate(h)
        elif sub == b"NAK":
            self.honest_error(h, "CAP NAK", b" ".join(params))

    def on_registered(self, h: Honest) -> None:
        if h.registered:
            return
        h.registered = True
        lines = b""
        if not h.caps_ok and h.method in ("plain", "pass", "register-nickserv", "identify"):
            lines += b"CAP REQ :%s\r\n" % CAPS
        pw = h.password.encode()
        if h.method == "register-nickserv":
            lines += b"PRIVMSG NickServ :REGISTER %s\r\n" % pw
        elif h.method == "identify":
            lines += b"PRIVMSG NickServ :IDENTIFY %s %s\r\n" % (h.nick, pw)
        if lines:
            self.send(h, lines)
        self.maybe_activate(h)

    def maybe_activate(self, h: Honest) -> None:
        if h.state != "registering" or not (h.registered and h.caps_ok and h.login_done):
            return
        if self.stopping:
            return
        h.state = "active"
        h.gen += 1  # drops the registration safety timer
        plan = self.plan
        lines = b""
        if h.partners:
            nicks = b",".join(b"h%d" % r for r in h.partners)
            lines += b"MONITOR + %s\r\n" % nicks
        want = self.rng.randint(1, 3)
        chosen = self.rng.sample(range(plan.channels), min(want, plan.channels))
        h.joining = set(chosen)
        lines += b"JOIN %s\r\n" % b",".join(chan_name(j) for j in chosen)
        self.send(h, lines)
        self.st.events["joins"] += len(chosen)
        self.after(h, self.rng.uniform(*plan.msg_every), "send")
        self.after(h, self.rng.uniform(*plan.rotate_every), "rotate")
        self.after(h, self.rng.uniform(*plan.relogin_every), "relogin")

    def honest_relogin(self, h: Honest) -> None:
        if self.stopping or h.sock is None:
            return
        if h.state == "registering":
            self.honest_error(h, "registration took over 60 s", b"")
        h.state = "quitting"
        self.send(h, b"QUIT :relogin\r\n")
        self.st.events["relogins"] += 1

    def honest_closed(self, h: Honest, reason: str) -> None:
        if h.state != "quitting":
            why = error_reason(h.last_error) if h.last_error else reason
            self.st.honest_disconnects[why] += 1
            if len(self.st.error_examples) < 20:
                self.st.error_examples.append(f"{h.nick.decode()} disconnected: {why}")
        self.end_session(h)
        h.state = "offline"
        if not self.stopping:
            self.after(h, self.rng.uniform(*self.plan.offline_for), "connect")

    def end_session(self, h: Honest) -> None:
        """The link is gone: everyone leaves this client's view."""
        for t, members in h.open.items():
            for r in list(members):
                self.close_view(h, t, r)
        h.open.clear()
        h.channels.clear()
        h.names.clear()
        h.joining.clear()
        h.parting.clear()
        h.online.clear()
        h.last_rx.clear()
        h.drain = 0

    # -- honest clients: membership view -------------------------------------------------

    def honest_index(self, nick: bytes) -> int:
        if nick[:1] == b"h" and nick[1:].isdigit():
            r = int(nick[1:])
            if r < self.plan.honest and nick == b"h%d" % r:
                return r
        return -1

    def open_view(self, h: Honest, t: int, r: int) -> None:
        if r < 0 or r == h.idx:
            return
        h.open.setdefault(t, {})[r] = (h.count.get(t, 0), h.hash.get(t, 0))

    def close_view(self, h: Honest, t: int, r: int) -> None:
        members = h.open.get(t)
        if not members or r not in members:
            return
        c0, p0 = members.pop(r)
        c1 = h.count.get(t, 0)
        if c1 == c0:
            return
        self.exp_count[r] += c1 - c0
        self.exp_hash[r] = (self.exp_hash[r] + h.hash.get(t, 0) - p0) & MASK
        if self.plan.trace:
            for k in h.echo_list[t][c0:c1]:
                self.trace_exp.append((r, h.idx, t, k))

    def on_join(self, h: Honest, source: bytes, params: list[bytes]) -> None:
        if not params:
            return
        j = chan_index(params[0])
        if j is None:
            return
        if source == h.nick:
            h.names[j] = {}
        elif j in h.channels:
            r = self.honest_index(source)
            h.channels[j][source] = r
            self.open_view(h, j, r)

    def on_names_end(self, h: Honest, name: bytes) -> None:
        j = chan_index(name)
        if j is None or j not in h.names:
            return
        members = h.names.pop(j)
        h.channels[j] = members
        h.joining.discard(j)
        for r in members.values():
            self.open_view(h, j, r)
        if not h.joining:
            h.ever_joined = True

    def on_part(self, h: Honest, source: bytes, params: list[bytes]) -> None:
        if not params:
            return
        j = chan_index(params[0])
        if j is None or j not in h.channels:
            return
        if source == h.nick:
            for r in list(h.open.get(j, {})):
                self.close_view(h, j, r)
            del h.channels[j]
            h.parting.discard(j)
            h.last_rx.pop(j, None)
            return
        r = h.channels[j].pop(source, -1)
        self.close_view(h, j, r)

    def on_quit(self, h: Honest, source: bytes) -> None:
        for j, members in h.channels.items():
            if source in members:
                r = members.pop(source)
                self.close_view(h, j, r)

    def on_nick(self, h: Honest, source: bytes, params: list[bytes]) -> None:
        if not params:
            return
        new = params[0]
        if source == h.nick:
            self.honest_error(h, "own nick changed", b"NICK " + new)
            h.nick = new  # to know its own JOIN and PART echoes (a failure all the same)
            return
        for members in h.channels.values():
            if source in members:
                members[new] = members.pop(source)  # the same client: its view goes on

    # -- honest clients: messages ----------------------------------------------------------

    def marked(self, h: Honest, text: bytes) -> None:
        try:
            s_raw, t_raw, k_raw, ns_raw = text.split(b" ", 4)[:4]
            s, t, k, ns = int(s_raw), int(t_raw), int(k_raw), int(ns_raw)
        except ValueError:
            self.honest_error(h, "malformed marked message", text)
            return
        if s == h.idx:
            self.echo(h, t, k)
            return
        seen = h.last_rx.get(t)
        if seen is None:
            seen = h.last_rx[t] = {}
        if k <= seen.get(s, 0):
            self.st.duplicates += 1
            return
        seen[s] = k
        r = h.idx
        self.rx_count[r] += 1
        self.rx_hash[r] = (self.rx_hash[r] + mix(s, t, k)) & MASK
        now = time.monotonic_ns()
        us = (now - ns) // 1000
        st = self.st
        st.latency[latency_bucket(us)] += 1
        if us > st.latency_max_us:
            st.latency_max_us = us
        window = (now - self.plan.t0) // (10 * NS)
        if us > st.latency_peaks.get(window, 0):
            st.latency_peaks[window] = us
        if self.plan.trace:
            self.trace_rx.append((r, s, t, k))

    def echo(self, h: Honest, t: int, k: int) -> None:
        last = h.echoed.get(t, 0)
        if k <= last:
            self.st.echo_out_of_order += 1
            return
        if k > last + 1:
            self.st.rejected["private" if t >= PM_BASE else "channel"] += k - last - 1
        h.echoed[t] = k
        h.count[t] = h.count.get(t, 0) + 1
        h.hash[t] = (h.hash.get(t, 0) + mix(h.idx, t, k)) & MASK
        self.st.echoed += 1
        if self.plan.trace:
            h.echo_list.setdefault(t, []).append(k)

    def honest_send(self, h: Honest) -> None:
        if self.stopping or h.state != "active":
            return
        rng = self.rng
        self.after(h, rng.uniform(*self.plan.msg_every), "send")
        chans = [j for j in h.channels if j not in h.parting]
        partners = [r for r in h.online if r in h.partner_set]
        if partners and (rng.random() < self.plan.pm_share or not chans):
            r = rng.choice(partners)
            t, where, kind = PM_BASE + r, b"h%d" % r, "private"
        elif chans:
            j = rng.choice(chans)
            t, where, kind = j, chan_name(j), "channel"
        else:
            return
        k = h.seq.get(t, 0) + 1
        h.seq[t] = k
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 12))).encode()
        line = b"PRIVMSG %s :~S %d %d %d %d %s\r\n" % (
            where, h.idx, t, k, time.monotonic_ns(), words
        )  # fmt: skip
        self.send(h, line)
        self.st.sent[kind] += 1

    def honest_rotate(self, h: Honest) -> None:
        if self.stopping or h.state != "active":
            return
        rng = self.rng
        self.after(h, rng.uniform(*self.plan.rotate_every), "rotate")
        lines = b""
        settled = [j for j in h.channels if j not in h.parting]
        if len(settled) > 1 or (settled and rng.random() < 0.5):
            j = rng.choice(settled)
            h.parting.add(j)
            lines += b"PART %s :rotating\r\n" % chan_name(j)
            self.st.events["parts"] += 1
        busy = set(h.channels) | h.joining
        if len(busy) - len(h.parting) < 3:
            free = [j for j in range(self.plan.channels) if j not in busy]
            if free:
                j = rng.choice(free)
                h.joining.add(j)
                lines += b"JOIN %s\r\n" % chan_name(j)
                self.st.events["joins"] += 1
        if lines:
            self.send(h, lines)

    # -- the end of the run --------------------------------------------------------------

    def start_drain(self, phase: int) -> None:
        self.draining = phase
        for h in self.honest:
            if h.sock is not None and h.state != "quitting":
                h.drain = phase
                self.send(h, b"PING :drain%d\r\n" % phase)
        self.drain_deadline = time.monotonic_ns() + 120 * NS
        self.check_drained()

    def check_drained(self) -> None:
        waiting = [
            h for h in self.honest if h.sock is not None and (h.drain or h.state == "quitting")
        ]
        if waiting and time.monotonic_ns() < self.drain_deadline:
            return
        if waiting:
            self.st.events[f"drain{self.draining} timed out"] += len(waiting)
        self.ctl.send(("drained", self.draining))
        self.draining = 0

    def finish(self) -> None:
        """Everyone leaves every view, then QUITs and waits for the server to close."""
        for h in self.honest:
            if h.sock is not None:
                self.end_session(h)
                h.state = "quitting"
                self.send(h, b"QUIT :soak over\r\n")
        self.finishing = time.monotonic_ns() + 30 * NS
        self.check_finished()

    def check_finished(self) -> None:
        left = [h for h in self.honest if h.sock is not None]
        if left and time.monotonic_ns() < self.finishing:
            return
        if left:
            self.st.events["no close after the final QUIT"] += len(left)
        for h in left:
            self.close(h)
        for h in self.honest:
            for t, k in h.seq.items():
                unechoed = k - h.echoed.get(t, 0)
                if unechoed:
                    self.st.rejected["private" if t >= PM_BASE else "channel"] += unechoed
        self.ctl.send(("result", self.result()))
        self.finishing = 0
        self.finished = True

    def result(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        st = self.st
        return {
            "exp_count": self.exp_count, "exp_hash": self.exp_hash,
            "rx_count": self.rx_count, "rx_hash": self.rx_hash,
            "sent": dict(st.sent), "echoed": st.echoed, "rejected": dict(st.rejected),
            "echo_out_of_order": st.echo_out_of_order, "duplicates": st.duplicates,
            "latency": dict(st.latency), "latency_max_us": st.latency_max_us,
            "ramp_latency": dict(st.ramp_latency), "ramp_latency_max_us": st.ramp_latency_max_us,
            "latency_peaks": st.latency_peaks,
            "honest_disconnects": dict(st.honest_disconnects),
            "honest_errors": dict(st.honest_errors), "error_examples": st.error_examples,
            "logins_ok": dict(st.logins_ok), "logins_failed": dict(st.logins_failed),
            "events": dict(st.events),
            "never_joined": [h.idx for h in self.honest if not h.ever_joined],
            "abuse_conns": dict(st.abuse_conns), "abuse_closed": dict(st.abuse_closed),
            "abuse_replies": dict(st.abuse_replies), "abuse_life": st.abuse_life,
            "fakelag_max_s": st.fakelag_max_s,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "trace_exp": self.trace_exp, "trace_rx": self.trace_rx,
        }  # fmt: skip

    # -- abusive clients -------------------------------------------------------------------

    def abuser_timer(self, a: Abuser, action: str) -> None:
        if self.stopping:
            return
        if action == "connect":
            self.abuser_connect(a)
        elif action == "tick":
            self.abuser_tick(a)
        elif action == "blob":
            blob = bytes(self.rng.randrange(14, 256) for _ in range(100_000))
            self.send(a, blob)
        elif action == "giveup" and a.sock is not None:
            self.close(a)
            self.abuser_closed(a, "gave up, still connected")

    def abuser_connect(self, a: Abuser) -> None:
        a.cycle += 1
        a.attempts = a.ticks = 0
        a.pings.clear()
        a.nick = b"x%dc%d" % (a.idx, a.cycle)
        user = b"NICK %s\r\nUSER x 0 * :abusive\r\n" % a.nick
        kind, odd = a.kind, a.cycle % 2 == 1
        first = user
        rcvbuf = 0
        if kind == "garbage" and odd:
            first = self.garbage()  # before registering; the blob follows
        elif kind == "stall":
            first = b"NICK %s\r\n" % a.nick if odd else b""
        elif kind == "slowread":
            rcvbuf = 4096
            first = b"CAP REQ :message-tags server-time\r\n" + user + b"CAP END\r\n"
        elif kind == "badlogin":
            if odd:
                first = b"CAP LS 302\r\n" + user + b"CAP REQ :sasl\r\n"
            else:
                first = b"PASS %s:wrong-password\r\n" % self.victim() + user
        if not self.open(a, first, a.ip, rcvbuf):
            return
        self.st.abuse_conns[kind] += 1
        if kind == "garbage" and odd:
            self.after(a, 0.3, "blob")
        self.after(a, 300.0 if kind == "slowread" else 90.0, "giveup")

    def victim(self) -> bytes:
        if self.rng.random() < 0.5:
            return self.rng.choice(DECOYS).encode()
        return b"ghost%d" % self.rng.randrange(1000)

    def garbage(self) -> bytes:
        junk = bytes(self.rng.randrange(14, 256) for _ in range(200))
        return b"".join((
            b"PRIVMSG #abuse :\xff\xfe not utf-8 \xc3\x28\r\n",
            b"PRIVMSG #abuse :a NUL \x00 byte\r\n",
            b"PRIVMSG #abuse :" + b"A" * 600 + b"\r\n",
            b"\x00\x01\x02\x03 binary\r\n",
            junk + b"\r\n",
            b"@" + b"t" * 5000 + b" PRIVMSG #abuse :huge tags\r\n",
        ))  # fmt: skip

    def abuser_registered(self, a: Abuser) -> None:
        kind = a.kind
        if kind == "flood":
            if a.cycle % 2:
                lines = b"JOIN #abuse\r\n" + b"".join(
                    b"PRIVMSG #abuse :flood %d\r\n" % i for i in range(300)
                )
            else:
                lines = b"".join(b"PING :flood%d\r\n" % i for i in range(300))
            self.send(a, lines)
        elif kind == "slowflood":
            self.send(a, b"JOIN #abuse\r\n")
            self.after(a, 0.125, "tick")
        elif kind == "garbage":
            self.send(a, self.garbage())
            self.after(a, 0.5, "blob")
        elif kind == "slowread":
            chans = b",".join(chan_name(j) for j in range(min(10, self.plan.channels)))
            self.send(a, b"JOIN #abuse,%s\r\n" % chans)
            a.reading = False
            self.update_interest(a)
            self.after(a, 0.3, "tick")
        elif kind == "badlogin":
            if a.cycle % 2:
                self.send(a, b"QUIT :done failing\r\n")
            else:
                self.abuser_identify(a)

    def abuser_identify(self, a: Abuser) -> None:
        a.attempts += 1
        victim = self.victim()
        self.send(a, b"PRIVMSG NickServ :IDENTIFY %s not-the-password\r\n" % victim)

    def abuser_tick(self, a: Abuser) -> None:
        if a.sock is None:
            return
        a.ticks += 1
        if a.kind == "slowflood":
            line = b"PRIVMSG #abuse :slow flood %d\r\n" % a.ticks
            if a.ticks % 8 == 0:
                token = b"lag%d" % a.ticks
                a.pings[token] = time.monotonic_ns()
                line += b"PING :%s\r\n" % token
            self.send(a, line)
            self.after(a, 0.125, "tick")
        elif a.kind == "slowread":
            j = a.ticks % min(10, self.plan.channels)
            self.send(a, b"HISTORY %s 100\r\n" % chan_name(j))
            self.after(a, 0.3, "tick")

    def abuser_line(self, a: Abuser, line: bytes) -> None:
        source, verb, params = parse(line)
        replies = self.st.abuse_replies
        if verb == b"PING":
            self.send(a, b"PONG :%s\r\n" % (params[-1] if params else b""))
        elif verb == b"PONG":
            sent = a.pings.pop(params[-1] if params else b"", 0)
            if sent:
                delay = (time.monotonic_ns() - sent) / NS
                self.st.fakelag_max_s = max(self.st.fakelag_max_s, delay)
        elif verb == b"ERROR":
            a.last_error = line
        elif verb in (b"376", b"422"):
            self.abuser_registered(a)
        elif verb == b"CAP" and len(params) >= 2 and params[1] == b"ACK":
            self.send(a, b"AUTHENTICATE PLAIN\r\n")
        elif verb == b"AUTHENTICATE" and params and params[0] == b"+":
            payload = base64.b64encode(b"\0%s\0wrong-password" % self.victim())
            self.send(a, b"AUTHENTICATE %s\r\n" % payload)
        elif verb == b"904":
            replies["904 SASL failed"] += 1
            a.attempts += 1
            self.send(a, b"AUTHENTICATE PLAIN\r\n" if a.attempts < 5 else b"CAP END\r\n")
        elif verb == b"903" or verb == b"900":
            replies["LOGGED IN (must not happen)"] += 1
        elif verb == b"NOTICE":
            text = params[-1] if params else b""
            if source == b"NickServ" and text.startswith(b"Invalid account"):
                replies["IDENTIFY refused"] += 1
                if a.attempts < 5:
                    self.abuser_identify(a)
                else:
                    self.send(a, b"QUIT :done failing\r\n")
            elif text.startswith(b"Login failed"):
                replies["PASS login refused"] += 1
        elif verb == b"FAIL" and len(params) >= 2:
            replies["FAIL " + params[1].decode("utf-8", "replace")] += 1
        elif verb in (b"400", b"417", b"421", b"451", b"404", b"461"):
            replies[verb.decode()] += 1

    def abuser_closed(self, a: Abuser, reason: str) -> None:
        why = error_reason(a.last_error) if a.last_error else f"no ERROR ({reason})"
        self.st.abuse_closed[f"{a.kind}: {why}"] += 1
        life = (time.monotonic_ns() - a.opened_at) / NS
        self.st.abuse_life.setdefault(a.kind, []).append(round(life, 1))
        if not self.stopping:
            self.after(a, self.rng.uniform(0.5, 2.0), "connect")


def worker_main(wid: int, plan: Plan, ctl: Pipe) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent cleans up
    Worker(wid, plan, ctl).run()


# -- the parent: server, phases, measurement, report ----------------------------------------


SOAK_CONFIG = (
    '[server]\nlog_level = "DEBUG"\n'
    "[timeouts]\nregistration_timeout = 20\n"
    "[limits]\nmax_connections_per_ip = 5000\n"
    "[flood]\nenabled = true\n"
)


def memory(pid: int) -> dict[str, int]:
    """What makes up the RSS (KiB): anonymous memory, mapped files, shared memory."""
    status = proc_status(pid)
    keys = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM")
    return {key: status[key] for key in keys if key in status}


def start_server(tmp: Path, pin: bool) -> ServerProcess:
    """The server under test, logging at DEBUG (a line per departure, with its reason)."""
    config = tmp / "soak.toml"
    config.write_text(SOAK_CONFIG)
    return ServerProcess("--config", str(config), tmp=tmp, pin=pin, name="soak.test")


def talk(port: int, lines: bytes, until: bytes, timeout: float = 30, ip: str = "") -> bytes:
    """A blocking client: send `lines`, read until `until` appears; return what was read."""
    with socket.create_connection(("127.0.0.1", port), timeout, (ip, 0) if ip else None) as s:
        s.sendall(lines)
        seen = b""
        deadline = time.monotonic() + timeout
        while until not in seen:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = s.recv(65536)
            if not chunk:
                break
            seen += chunk
        with contextlib.suppress(OSError):
            s.sendall(b"QUIT\r\n")
        return seen


def make_decoys(port: int) -> None:
    for name in DECOYS:
        lines = f"NICK {name}\r\nREGISTER * * {DECOY_PASSWORD}\r\nUSER d 0 * :d\r\n".encode()
        if b"REGISTER SUCCESS" not in talk(port, lines, b" 376 "):
            raise RuntimeError(f"could not register decoy account {name}")


def final_ping(port: int) -> float | None:
    """Round trip of a PING from a new client after the load, or None if none came."""
    try:
        started = time.monotonic()
        seen = talk(port, b"NICK soakcheck\r\nUSER c 0 * :c\r\nPING :final\r\n", b"final", 30)
    except OSError:
        return None
    return time.monotonic() - started if b"PONG" in seen and b"final" in seen else None


def slope_kib_per_min(samples: list[tuple[float, int]]) -> float | None:
    if len(samples) < 2:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_r = sum(r for _, r in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if not var:
        return None
    cov = sum((t - mean_t) * (r - mean_r) for t, r in samples)
    return cov / var * 60


def percentile_ms(hist: Counter[int], fraction: float) -> float | None:
    total = sum(hist.values())
    if not total:
        return None
    want = fraction * total
    running = 0
    for bucket in sorted(hist):
        running += hist[bucket]
        if running >= want:
            return bucket / 1000
    return max(hist) / 1000


def read_server_log(path: Path) -> dict[str, Any]:
    text = path.read_bytes().decode("utf-8", "replace")
    left_honest: Counter[str] = Counter()
    left_abusive: Counter[str] = Counter()
    for line in text.splitlines():
        if 'msg="client left"' not in line:
            continue
        found = re.search(r'reason=("(?:[^"\\]|\\.)*"|\S+)', line)
        reason = found.group(1).strip('"') if found else "?"
        if reason.startswith("Quit:") or reason == "Client Quit":
            reason = "Quit"
        found = re.search(r"nick=(\S+)", line)
        nick = found.group(1) if found else "*"
        if re.fullmatch(r"h\d+", nick):
            left_honest[reason] += 1
        elif not nick.startswith(("decoy", "soakcheck")):  # those are the harness's own
            left_abusive[reason] += 1
    return {
        "tracebacks": text.count("Traceback"),
        "errors": sum(" level=error " in line for line in text.splitlines()),
        "warnings": sum(" level=warning " in line for line in text.splitlines()),
        "left_honest": dict(left_honest),
        "left_abusive": dict(left_abusive),
        "error_lines": [ln[:300] for ln in text.splitlines() if " level=error " in ln][:5],
    }


def merge(results: list[dict[str, Any]], n: int) -> dict[str, Any]:
    exp_count = [0] * n
    exp_hash = [0] * n
    rx_count = [0] * n
    rx_hash = [0] * n
    out: dict[str, Any] = {"latency": Counter(), "ramp_latency": Counter(), "cpu_s": 0.0}
    out.update(fakelag_max_s=0.0, ramp_latency_max_us=0, latency_peaks=Counter())
    counters = (
        "sent", "rejected", "honest_disconnects", "honest_errors", "logins_ok", "logins_failed",
        "events", "abuse_conns", "abuse_closed", "abuse_replies",
    )  # fmt: skip
    for name in counters:
        out[name] = Counter()
    out.update(echoed=0, duplicates=0, echo_out_of_order=0, latency_max_us=0)
    out.update(never_joined=[], error_examples=[], abuse_life={}, trace_exp=[], trace_rx=[])
    for res in results:
        for i in range(n):
            exp_count[i] += res["exp_count"][i]
            exp_hash[i] = (exp_hash[i] + res["exp_hash"][i]) & MASK
            rx_count[i] += res["rx_count"][i]
            rx_hash[i] = (rx_hash[i] + res["rx_hash"][i]) & MASK
        for name in counters:
            out[name].update(res[name])
        for name in ("latency", "ramp_latency"):
            out[name].update({int(k): v for k, v in res[name].items()})
        for window, us in res["latency_peaks"].items():
            out["latency_peaks"][window] = max(out["latency_peaks"][window], us)
        out["ramp_latency_max_us"] = max(out["ramp_latency_max_us"], res["ramp_latency_max_us"])
        for name in ("echoed", "duplicates", "echo_out_of_order", "cpu_s"):
            out[name] += res[name]
        out["latency_max_us"] = max(out["latency_max_us"], res["latency_max_us"])
        out["fakelag_max_s"] = max(out["fakelag_max_s"], res["fakelag_max_s"])
        for name in ("never_joined", "error_examples", "trace_exp", "trace_rx"):
            out[name] += res[name]
        for kind, lives in res["abuse_life"].items():
            out["abuse_life"].setdefault(kind, []).extend(lives)
    lost = unexpected = mismatched = 0
    for i in range(n):
        if (exp_count[i], exp_hash[i]) != (rx_count[i], rx_hash[i]):
            mismatched += 1
            lost += max(0, exp_count[i] - rx_count[i])
            unexpected += max(0, rx_count[i] - exp_count[i])
    out.update(expected=sum(exp_count), delivered=sum(rx_count), lost=lost,
               unexpected=unexpected, mismatched_recipients=mismatched)  # fmt: skip
    return out


def run(args: argparse.Namespace) -> int:
    abusive = round(args.clients * args.abusive)
    honest = args.clients - abusive
    ncpu = os.cpu_count() or 1
    pin = ncpu >= 2 and not args.no_pin
    tmp = Path(tempfile.mkdtemp(prefix="miniircd-soak-"))
    server = start_server(tmp, pin)
    if pin:
        os.sched_setaffinity(0, set(range(1, ncpu)))
    raise_fd_limit(65536)
    print(f"server pid {server.pid} on port {server.port}, log {server.log_path}", file=sys.stderr)
    make_decoys(server.port)
    trace = args.trace or args.clients <= 300
    ramp = args.ramp if args.ramp is not None else max(10.0, honest / 40)
    plan = Plan(port=server.port, honest=honest, abusive=abusive, workers=args.workers,
                channels=args.channels, ramp=ramp, seed=args.seed, trace=trace,
                rotate_every=tuple(args.rotate_every),
                relogin_every=tuple(args.relogin_every))  # fmt: skip
    if args.abuse_ips:
        plan.abuse_ips = tuple(args.abuse_ips.split(","))
    plan.t0 = time.monotonic_ns() + NS // 2
    ctx = multiprocessing.get_context("fork")
    pipes: list[Pipe] = []
    procs = []
    for wid in range(args.workers):
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=worker_main, args=(wid, plan, theirs), daemon=True)
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    status: dict[int, dict[str, Any]] = {}
    results: dict[int, dict[str, Any]] = {}
    samples: list[tuple[float, float, int, float]] = []  # (t from start, phase, rss, cpu)
    started = time.monotonic()
    next_sample = started

    live = list(pipes)

    def poll(timeout: float) -> list[tuple[int, Any]]:
        got = []
        for pipe in wait_pipes(live, timeout):
            assert isinstance(pipe, Pipe)
            wid = pipes.index(pipe)
            try:
                kind, payload = pipe.recv()
            except EOFError:
                live.remove(pipe)
                if wid not in results:
                    raise RuntimeError(f"worker {wid} died") from None
                continue
            if kind == "status":
                status[wid] = payload
            else:
                got.append((wid, (kind, payload)))
        return got

    def sample(phase: float) -> None:
        nonlocal next_sample
        now = time.monotonic()
        if now >= next_sample:
            next_sample += SAMPLE_EVERY
            samples.append((round(now - started, 1), phase, server.rss_kib(), server.cpu_s()))

    def total(key: str) -> int:
        return sum(s.get(key, 0) for s in status.values())

    try:
        ready_by = started + ramp + 120
        while time.monotonic() < ready_by and total("joined") < honest:
            poll(0.5)
            sample(0)
        joined_all = total("joined")
        load_start = time.monotonic()
        rss_start, cpu_start = server.rss_kib(), server.cpu_s()
        memory_start = memory(server.pid)
        for pipe in pipes:
            pipe.send("load")
        print(
            f"{joined_all}/{honest} honest clients connected and joined after "
            f"{load_start - started:.0f} s; load for {args.minutes:g} min",
            file=sys.stderr,
        )
        load_end = load_start + args.minutes * 60
        next_report = load_start + 60
        next_sample = load_start
        while time.monotonic() < load_end:
            poll(min(1.0, max(0.0, load_end - time.monotonic())))
            sample(1)
            if time.monotonic() >= next_report:
                next_report += 60
                print(f"  {time.monotonic() - load_start:5.0f} s: rss {server.rss_kib()} KiB, "
                      f"active {total('active')}, sent {total('sent')}, received "
                      f"{total('received')}, honest disconnects {total('honest_disconnects')}, "
                      f"abusive drops {total('abuse_closed')}", file=sys.stderr)  # fmt: skip
        rss_end, cpu_end = server.rss_kib(), server.cpu_s()
        memory_end = memory(server.pid)
        samples.append((round(time.monotonic() - started, 1), 1, rss_end, cpu_end))
        for phase_cmd, phase in (("stop", 1), ("drain2", 2)):
            for pipe in pipes:
                pipe.send(phase_cmd)
            drained: set[int] = set()
            while len(drained) < len(pipes):
                for wid, (kind, payload) in poll(1.0):
                    if kind == "drained" and payload == phase:
                        drained.add(wid)
        ping_rtt = final_ping(server.port)
        for pipe in pipes:
            pipe.send("finish")
        while len(results) < len(pipes):
            for wid, (kind, payload) in poll(1.0):
                if kind == "result":
                    results[wid] = payload
        for proc in procs:
            proc.join(10)
        time.sleep(0.5)
        rss_after_quit = server.rss_kib()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        exit_code = server.stop()
    merged = merge(list(results.values()), honest)
    merged["memory"] = {"start": memory_start, "end": memory_end}
    merged["db_kib"] = sum(f.stat().st_size for f in (tmp / "data").iterdir()) // 1024
    log = read_server_log(server.log_path)
    report = build_report(args, plan, merged, log, samples, load_start, load_end, started,
                          rss_start, rss_end, rss_after_quit, cpu_start, cpu_end, ping_rtt,
                          exit_code, joined_all, tmp)  # fmt: skip
    print_report(report, merged)
    print(json.dumps(report))
    if report["passed"] and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if report["passed"] else 1


def build_report(
    args: argparse.Namespace, plan: Plan, m: dict[str, Any], log: dict[str, Any],
    samples: list[tuple[float, float, int, float]], load_start: float, load_end: float,
    started: float, rss_start: int, rss_end: int, rss_after_quit: int, cpu_start: float,
    cpu_end: float, ping_rtt: float | None, exit_code: int | None, joined_all: int, tmp: Path,
) -> dict[str, Any]:  # fmt: skip
    load_s = load_end - load_start
    half = load_start - started + load_s / 2
    second_half = [(t, rss) for t, phase, rss, _ in samples if phase == 1 and t >= half]
    slope = slope_kib_per_min(second_half)
    load_rss = [rss for _, phase, rss, _ in samples if phase == 1]
    lost = m["lost"]
    if plan.trace:
        expected_ids = set(m["trace_exp"])
        got_ids = set(m["trace_rx"])
        lost = len(expected_ids - got_ids)
        m["unexpected"] = len(got_ids - expected_ids)
        m["lost_examples"] = [describe(i) for i in sorted(expected_ids - got_ids)[:10]]
        m["unexpected_examples"] = [describe(i) for i in sorted(got_ids - expected_ids)[:10]]
    honest_disconnects = sum(m["honest_disconnects"].values())
    server_side_drops = {k: v for k, v in log["left_honest"].items() if k != "Quit"}
    checks: dict[str, bool | None] = {
        "no honest client disconnected": honest_disconnects == 0 and not server_side_drops,
        # with --trace the count is exact; without, a hash mismatch may hide a loss
        "no honest message lost": lost == 0 and (plan.trace or m["mismatched_recipients"] == 0),
        "no duplicate or unexpected delivery": m["duplicates"] == 0 and m["unexpected"] == 0,
        "every honest client registered and joined": joined_all == plan.honest,
        "no honest login or command refused": not m["honest_errors"],
        "server answers PING at the end": ping_rtt is not None,
        "server exits cleanly on SIGTERM": exit_code == 0,
        "no Traceback in the server log": log["tracebacks"] == 0,
        # judged from 5 minutes of load on: before that the second half is the warm-up's end
        "RSS flat (second-half slope)": (
            None if args.minutes < 5 or slope is None else slope <= args.max_slope
        ),
    }
    cpu_load = cpu_end - cpu_start
    lat, ramp_lat = m["latency"], m["ramp_latency"]
    return {
        "passed": all(ok is not False for ok in checks.values()),
        "checks": checks,
        "clients": args.clients, "honest": plan.honest, "abusive_clients": plan.abusive,
        "minutes": args.minutes, "workers": args.workers, "channels": plan.channels,
        "ramp_s": round(load_start - started, 1),
        "rss_kib": {"start": rss_start, "end": rss_end, "max": max(load_rss or [rss_end]),
                    "after_clients_left": rss_after_quit,
                    "breakdown": m["memory"], "database_kib": m["db_kib"],
                    "slope_second_half_kib_per_min": None if slope is None else round(slope, 1)},
        "server_cpu_s": {"load": round(cpu_load, 1), "total": round(cpu_end, 1),
                         "load_share_of_one_core": round(cpu_load / load_s, 3) if load_s else None},
        "generator_cpu_s": round(m["cpu_s"], 1),
        "honest_disconnects": honest_disconnects,
        "honest_disconnect_reasons": dict(m["honest_disconnects"]),
        "honest_server_side_leaves": log["left_honest"],
        "messages": {
            "sent": sum(m["sent"].values()), "sent_by_kind": dict(m["sent"]),
            "echoed": m["echoed"], "refused_by_server": dict(m["rejected"]),
            "expected_deliveries": m["expected"], "delivered": m["delivered"], "lost": lost,
            "duplicated": m["duplicates"], "unexpected": m["unexpected"],
            "mismatched_recipients": m["mismatched_recipients"],
            "echo_out_of_order": m["echo_out_of_order"],
        },
        "latency_ms": {"p50": percentile_ms(lat, 0.5), "p99": percentile_ms(lat, 0.99),
                       "max": m["latency_max_us"] / 1000},
        "ramp_latency_ms": {"p50": percentile_ms(ramp_lat, 0.5),
                            "p99": percentile_ms(ramp_lat, 0.99),
                            "max": m["ramp_latency_max_us"] / 1000},
        "latency_max_ms_per_10s": [(w * 10, m["latency_peaks"][w] / 1000)
                                   for w in sorted(m["latency_peaks"])],
        "logins_ok": dict(m["logins_ok"]), "logins_failed": dict(m["logins_failed"]),
        "honest_errors": dict(m["honest_errors"]), "events": dict(m["events"]),
        "abusive": {
            "connections": dict(m["abuse_conns"]),
            "server_log_reasons": log["left_abusive"],
            "client_seen": dict(m["abuse_closed"]),
            "replies": dict(m["abuse_replies"]),
            "median_life_s": {k: sorted(v)[len(v) // 2] for k, v in m["abuse_life"].items()},
            "fakelag_max_s": round(m["fakelag_max_s"], 2),
        },
        "final_ping_rtt_ms": None if ping_rtt is None else round(ping_rtt * 1000, 1),
        "server_exit_code": exit_code,
        "server_log": {"tracebacks": log["tracebacks"], "errors": log["errors"],
                       "warnings": log["warnings"], "error_lines": log["error_lines"]},
        "rss_samples": [(t, rss) for t, _, rss, _ in samples],
        "examples": {"errors": m["error_examples"][:10],
                     "lost": m.get("lost_examples", []),
                     "unexpected": m.get("unexpected_examples", [])},
        "tmp": str(tmp),
    }  # fmt: skip


def describe(delivery: tuple[int, int, int, int]) -> str:
    """(recipient, sender, target, seq) as `h3 <- h7 #soak5 #12`."""
    r, s, t, k = delivery
    target = f"h{t - PM_BASE}" if t >= PM_BASE else f"#soak{t}"
    return f"h{r} <- h{s} {target} #{k}"


def print_report(r: dict[str, Any], m: dict[str, Any]) -> None:
    msg, rss, lat, ab = r["messages"], r["rss_kib"], r["latency_ms"], r["abusive"]

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [
        "",
        f"soak: {r['clients']} clients ({r['honest']} honest, {r['abusive_clients']} abusive), "
        f"{r['minutes']:g} min of load after a {r['ramp_s']:.0f} s ramp",
        f"server RSS: start {rss['start']} KiB, end {rss['end']} KiB, max {rss['max']} KiB, "
        f"second-half slope {rss['slope_second_half_kib_per_min']} KiB/min "
        f"(after the clients left: {rss['after_clients_left']} KiB)",
        f"  RSS parts at start {rss['breakdown']['start']}, at end {rss['breakdown']['end']}; "
        f"database {rss['database_kib']} KiB",
        f"server CPU: {r['server_cpu_s']['load']} s during the load "
        f"({r['server_cpu_s']['load_share_of_one_core']} of a core), "
        f"{r['server_cpu_s']['total']} s in all; generator {r['generator_cpu_s']} s",
        f"honest disconnects: {r['honest_disconnects']} {r['honest_disconnect_reasons'] or ''}"
        f"; server-side leaves of honest clients: {r['honest_server_side_leaves']}",
        f"honest messages: sent {msg['sent']} {msg['sent_by_kind']}, refused by the server "
        f"{msg['refused_by_server'] or 0}",
        f"deliveries: expected {msg['expected_deliveries']}, delivered {msg['delivered']}, "
        f"lost {msg['lost']}, duplicated {msg['duplicated']}, unexpected {msg['unexpected']}, "
        f"recipients whose hash differs {msg['mismatched_recipients']}",
        f"latency during the load: p50 {fmt(lat['p50'])} ms, p99 {fmt(lat['p99'])} ms, "
        f"max {fmt(lat['max'])} ms (during the ramp: p99 {fmt(r['ramp_latency_ms']['p99'])} ms, "
        f"max {fmt(r['ramp_latency_ms']['max'])} ms)",
        f"logins ok {r['logins_ok']}, failed {r['logins_failed'] or 0}; events {r['events']}",
        f"honest errors: {r['honest_errors'] or 0}",
        f"abusive connections: {ab['connections']}",
        f"abusive disconnects (server log): {ab['server_log_reasons']}",
        f"abusive disconnects (as the client saw them): {ab['client_seen']}",
        f"abusive replies: {ab['replies']}; slowflood PING delay max {ab['fakelag_max_s']} s; "
        f"median connection life {ab['median_life_s']}",
        f"final PING from a new client: {r['final_ping_rtt_ms']} ms; server exit code "
        f"{r['server_exit_code']}; log: {r['server_log']['tracebacks']} Traceback, "
        f"{r['server_log']['errors']} errors, {r['server_log']['warnings']} warnings",
    ]
    for label, items in r["examples"].items():
        if items:
            lines.append(f"{label} examples: {items}")
    marks = {True: "ok", False: "FAIL", None: "skip"}
    lines += [f"  [{marks[ok]}] {name}" for name, ok in r["checks"].items()]
    lines.append(f"RESULT: {'PASS' if r['passed'] else 'FAIL'} (files in {r['tmp']})")
    print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--abusive", type=float, default=0.05, help="share of abusive clients")
    parser.add_argument("--workers", type=int, default=4, help="load generator processes")
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--ramp", type=float, help="seconds to connect the honest clients")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--max-slope", type=float, default=512.0,
        help="largest RSS growth allowed over the second half of the load, KiB/min",
    )  # fmt: skip
    parser.add_argument(
        "--rotate-every", type=float, nargs=2, metavar=("MIN", "MAX"), default=(30.0, 120.0),
        help="seconds between an honest client's channel changes",
    )  # fmt: skip
    parser.add_argument(
        "--relogin-every", type=float, nargs=2, metavar=("MIN", "MAX"), default=(120.0, 360.0),
        help="seconds an honest client stays before it QUITs and logs in again",
    )  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true",
        help="200 clients for 1 minute, channel changes every 10-30 s, relogins every 15-40 s",
    )  # fmt: skip
    parser.add_argument(
        "--abuse-ips", help="comma-separated source addresses of the abusive clients "
        "(default 127.0.0.2 to 127.0.0.9; 127.0.0.1 makes them share the honest one)",
    )  # fmt: skip
    parser.add_argument("--trace", action="store_true", help="keep every message id")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server to CPU 0")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.minutes = 200, 1.0
        args.rotate_every, args.relogin_every = (10.0, 30.0), (15.0, 40.0)
    if args.channels > PM_BASE:
        parser.error(f"at most {PM_BASE} channels")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
