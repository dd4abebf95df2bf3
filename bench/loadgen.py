"""Load generator for IRC servers: many sockets over several processes, raw bytes only.

Shape. The parent (`LoadGen`) forks `workers` processes; client i lives in worker
i % workers. Each worker runs one `selectors` (epoll) loop over all of its sockets and a
control pipe (bench/sockloop.py, shared with the soak test), and goes through phases on
command: connect + register, setup (server specific lines, JOIN), load, drain, close.
Timed phases start at one shared `time.monotonic_ns()` instant (CLOCK_MONOTONIC is
system-wide on Linux), so the workers act together, and the same clock stamps and times
every message across processes.

Why processes and not threads: the work is CPU-bound Python (a recv and a scan per
readable socket, formatting per batch) and the GIL lets one thread run bytecode at a time,
so threads would only add switching. Each process has its own interpreter and GIL and
uses a core of its own when it is given one (`cpus`). On the 2-core benchmark machine
the generator is pinned to one core, where its processes share that core; they still
keep each event loop's socket set small.

Why Python and not C: decided by measurement. Every load scenario reports the CPU time of
the server and of the generator over the measured window (compare.py prints both). A
figure is only the server's when the server's core is the busy one; where the generator
core is the saturated one the row says so and the figure is a lower bound for that
server (docs/performance.md has the numbers and the verdict).

No IRC parsing: every load message's text starts with `~M <send time in ns> `, receivers
cut the stream at the last LF and count `:~M ` in it (one C-level scan per recv), or for
latency pull all stamps with one regex. Lines are formatted once per batch, reads go into
one preallocated 256 KiB buffer per process (`recv_into`), writes are one `send` per
socket per turn.

Flat out is a closed loop: each sender keeps `window` batches of `batch` messages in
flight, each batch followed by a PING; its PONG says the server has handled the batch.
That bounds what a sender has queued at the server (about 1.5 KiB with the defaults),
which matters for ngIRCd: it handles at most 3 commands per client per loop turn (10 for
user mode +F) and drops a client whose unread input reaches 2 KiB. Paced load is an open
loop at a fixed total rate, used for latency.

CLI: python bench/loadgen.py --port 6667 fanout --clients 500 --senders 10 (see --help);
prints one JSON object.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import functools
import json
import os
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from sockloop import Link, Loop, fork_workers

from common import raise_fd_limit, rss_kib

NS = 1_000_000_000
SETUP_CONCURRENCY = 2  # registrations in flight per worker outside the storm scenario
MARK = b":~M "
# Paced load: the sender's nick and the send time, for latency and to see that each
# sender's messages arrive in order.
SENDER_STAMP = re.compile(rb":([^!\s]+)!\S* [A-Z]+ \S+ :~M (\d+) ")
PAD = b"abcdefghijklmnopqrstuvwxyz012345"  # 32 bytes of text after the stamp
RECV_SIZE = 1 << 18
MAX_OUT = 1 << 16  # paced load: skip a sender whose unsent bytes pass this


def nick_of(index: int) -> str:
    return f"c{index}"


class Conn(Link):
    __slots__ = (
        "batches", "channel", "failed", "index", "joined", "last_from", "nick", "pongs",
        "ready", "received", "registered", "reordered", "sent", "t_registered", "target",
        "wait",
    )  # fmt: skip

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index
        self.nick = nick_of(index).encode()
        self.registered = False
        self.ready = False
        self.joined = False
        self.failed: str | None = None
        self.t_registered = 0
        self.wait = b""  # what the current phase waits for: b"reg" or b"ready"
        self.channel: bytes | None = None
        self.target: bytes | None = None  # where this client sends load, if it does
        self.received = 0
        self.reordered = 0  # paced load: messages older than one seen before from their sender
        self.last_from: dict[bytes, int] = {}  # paced load: sender -> newest stamp seen
        self.sent = 0
        self.batches = 0
        self.pongs = 0


class Worker(Loop[Conn]):
    """One process: the phases the parent commands, over the shared socket loop."""

    def __init__(self, wid: int, servers: list[tuple[str, int]], spread: int, ctl: Pipe) -> None:
        super().__init__(ctl, servers[0], RECV_SIZE)
        self.wid = wid
        self.servers = servers  # client i talks to servers[(i // spread) % len(servers)]
        self.spread = spread
        self.conns: dict[int, Conn] = {}
        self.phase = "idle"
        self.args: dict[str, Any] = {}
        self.errors: Counter[str] = Counter()
        self.pending: list[int] = []  # connect phase: indices still to open, last first
        self.batch: list[Conn] = []  # the clients of the current connect or setup phase
        self.in_flight = 0  # connect phase: opened, neither registered nor failed
        self.unready = 0  # setup phase: clients still waiting for their PONG
        self.deadline = 0
        self.counting = False
        self.latency = False
        self.lat = array.array("q")
        self.lat_lo = self.lat_hi = 0
        self.senders: list[Conn] = []

    # -- the loop ----------------------------------------------------------------------------

    def timeout(self) -> float | None:
        phase = self.phase
        if phase == "idle":
            return None
        if phase == "load" and self.args["mode"] == "paced":
            return 0.002
        if phase == "connect" and self.args["start_at"] > time.monotonic_ns():
            return max(0.0, (self.args["start_at"] - time.monotonic_ns()) / NS)
        return 0.02

    def command(self) -> bool:
        name, args = self.ctl.recv()
        self.args = args
        self.deadline = time.monotonic_ns() + int(args.get("timeout", 60) * NS)
        if name == "exit":
            self.close_all()
            return False
        if name == "connect":
            self.pending = list(reversed(args["indices"]))
            self.batch = []
            self.in_flight = 0
            self.errors = Counter()
            self.phase = "connect"
        elif name == "setup":
            self.start_setup(args)
        elif name == "load":
            self.start_load(args)
        elif name == "close":
            self.close_all()
            self.ctl.send({"closed": True})
        return True

    # -- what the clients read ---------------------------------------------------------------

    def received(self, conn: Conn, data: bytes, cut: int) -> None:
        if self.counting:
            if self.latency:
                now = time.monotonic_ns()
                stamps = SENDER_STAMP.findall(data, 0, cut)
                conn.received += len(stamps)
                lo, hi, lat, last_from = self.lat_lo, self.lat_hi, self.lat, conn.last_from
                for sender, raw in stamps:
                    stamp = int(raw)
                    if lo <= stamp < hi:
                        lat.append(now - stamp)
                    if stamp < last_from.get(sender, 0):
                        conn.reordered += 1
                    else:
                        last_from[sender] = stamp
            else:
                conn.received += data.count(MARK, 0, cut)
            if conn.batches:
                conn.pongs += data.count(b" PONG ", 0, cut)
                self.refill(conn)
        if data.find(b"PING ", 0, cut) >= 0:
            self.answer_pings(conn, data[:cut])
        if conn.wait:
            self.check_wait(conn, data[:cut])

    def answer_pings(self, conn: Conn, text: bytes) -> None:
        for line in text.split(b"\n"):
            words = line.rstrip(b"\r").split(b" ")
            if words[0].startswith(b":"):
                words = words[1:]
            if words and words[0] == b"PING":
                self.send(conn, b"PONG " + b" ".join(words[1:]) + b"\r\n")

    def check_wait(self, conn: Conn, text: bytes) -> None:
        if conn.wait == b"reg":
            if b" 376 " in text or b" 422 " in text:
                conn.registered = True
                conn.t_registered = time.monotonic_ns()
                conn.wait = b""
                self.in_flight -= 1
            elif b" 433 " in text or b"ERROR " in text or b" 465 " in text:
                self.fail(conn, "refused at registration")
        elif conn.wait == b"ready":
            if b" 366 " in text:
                conn.joined = True
            if b" PONG " in text and b"ready" in text:
                conn.ready = True
                conn.wait = b""
                self.unready -= 1

    def fail(self, conn: Conn, reason: str) -> None:
        if conn.failed is not None:
            return
        conn.failed = reason
        if conn.wait == b"reg":
            self.in_flight -= 1
        elif conn.wait == b"ready":
            self.unready -= 1
        conn.wait = b""
        self.errors[reason] += 1
        self.close(conn)

    def broken(self, conn: Conn, stage: str, why: str) -> None:
        self.fail(conn, "closed by server" if stage == "eof" else why)

    def close_all(self) -> None:
        for conn in self.conns.values():
            self.close(conn)
        self.conns.clear()
        self.phase = "idle"

    # -- phases ------------------------------------------------------------------------------

    def step(self, now: int) -> None:
        phase = self.phase
        if phase == "connect":
            self.step_connect(now)
        elif phase == "setup":
            if self.unready <= 0 or now >= self.deadline:
                for conn in self.batch:
                    if conn.failed is None and not conn.ready:
                        self.fail(conn, "setup timed out")
                self.phase = "idle"
                self.ctl.send({
                    "ready": sum(c.ready for c in self.batch),
                    "joined": [c.index for c in self.batch if c.joined and c.failed is None],
                    "errors": dict(self.errors),
                })  # fmt: skip
        elif phase in ("load", "drain"):
            self.step_load(now)

    def step_connect(self, now: int) -> None:
        args = self.args
        if now < args["start_at"]:
            return
        limit = args["concurrency"] or len(self.pending)
        while self.pending and self.in_flight < limit:
            self.open(self.pending.pop())
        if (not self.pending and self.in_flight <= 0) or now >= self.deadline:
            for conn in self.batch:
                if conn.failed is None and not conn.registered:
                    self.fail(conn, "registration timed out")
            if self.pending:
                self.errors["not attempted"] += len(self.pending)
            self.pending = []
            self.phase = "idle"
            start = args["start_at"]
            self.ctl.send({
                "registered": [c.index for c in self.batch if c.registered and c.failed is None],
                "times": [(c.t_registered - start) / NS for c in self.batch if c.registered],
                "errors": dict(self.errors),
            })  # fmt: skip

    def open(self, index: int) -> None:
        conn = Conn(index)
        nick = conn.nick
        addr = self.servers[(index // self.spread) % len(self.servers)]
        why = self.dial(conn, b"NICK %s\r\nUSER %s 0 * :%s\r\n" % (nick, nick, nick), addr=addr)
        if why is not None:
            self.errors[why] += 1
            return
        self.conns[index] = conn
        self.batch.append(conn)
        conn.wait = b"reg"
        self.in_flight += 1

    def start_setup(self, args: dict[str, Any]) -> None:
        """Send each client its setup lines and JOIN, then a PING; ready at the PONG."""
        self.batch = []
        self.unready = 0
        for index, (channel, lines) in args["clients"].items():
            conn = self.conns.get(index)
            if conn is None or conn.failed is not None:
                continue
            out = [line.replace(b"{nick}", conn.nick) for line in lines]
            if channel:
                conn.channel = channel
                out.append(b"JOIN " + channel)
            out.append(b"PING :ready")
            conn.wait = b"ready"
            self.unready += 1
            self.batch.append(conn)
            self.send(conn, b"".join(line + b"\r\n" for line in out))
        self.phase = "setup"

    def start_load(self, args: dict[str, Any]) -> None:
        self.senders = []
        for conn in self.conns.values():
            conn.received = conn.sent = conn.batches = conn.pongs = conn.reordered = 0
            conn.last_from = {}
            conn.target = None
        for index, target in args["senders"].items():
            conn = self.conns.get(index)
            if conn is not None and conn.failed is None:
                conn.target = target
                self.senders.append(conn)
        self.errors = Counter()
        self.counting = True
        self.latency = args["latency"]
        self.lat = array.array("q")
        start = args["start_at"]
        self.lat_lo = start + int(args["warmup"] * NS)
        self.lat_hi = self.lat_lo + int(args["duration"] * NS)
        self.args["t_warm"], self.args["t_end"] = self.lat_lo, self.lat_hi
        self.args.update(started=False, emitted=0, cursor=0, skipped=0, snaps={}, last_change=0)
        self.args["last_total"] = -1
        self.phase = "load"

    def snapshot(self) -> dict[str, int | float]:
        return {
            "received": sum(c.received for c in self.conns.values()),
            "sent": sum(c.sent for c in self.senders),
            "cpu": time.process_time(),
        }

    def step_load(self, now: int) -> None:
        args = self.args
        if now < args["start_at"]:
            return
        snaps = args["snaps"]
        if not args["started"]:
            args["started"] = True
            if args["mode"] == "flat":
                for conn in self.senders:
                    self.refill(conn)
        if "warm" not in snaps and now >= args["t_warm"]:
            snaps["warm"] = self.snapshot()
        if self.phase == "load":
            if now < args["t_end"]:
                if args["mode"] == "paced":
                    self.emit_paced(now)
                return
            snaps["end"] = self.snapshot()
            self.phase = "drain"
            self.deadline = now + int(args["drain"] * NS)
        # drain: wait for outstanding batches, then for the counts to stop moving
        total = sum(c.received for c in self.conns.values())
        if total != args["last_total"]:
            args["last_total"], args["last_change"] = total, now
        outstanding = sum(
            c.batches - c.pongs for c in self.senders if c.failed is None and c.batches
        )
        settled = now - args["last_change"] >= int(args["settle"] * NS)
        if (outstanding <= 0 and settled) or now >= self.deadline:
            self.finish_load(outstanding, now < self.deadline)

    def refill(self, conn: Conn) -> None:
        args = self.args
        window = args["window"]
        if conn.batches - conn.pongs >= window or self.phase != "load":
            return
        now = time.monotonic_ns()
        if now >= args["t_end"]:
            return
        count = args["batch"]
        line = b"PRIVMSG %s :~M %d %s\r\n" % (conn.target, now, PAD)
        ping = b"PING :b\r\n"
        need = window - (conn.batches - conn.pongs)
        conn.batches += need
        conn.sent += need * count
        self.send(conn, (line * count + ping) * need)

    def emit_paced(self, now: int) -> None:
        args = self.args
        senders = self.senders
        if not senders:
            return
        due = (now - args["start_at"]) * args["rate"] // NS - args["emitted"]
        if due <= 0:
            return
        args["emitted"] += due
        cursor = args["cursor"]
        touched = []
        count = len(senders)
        for _ in range(due):
            conn = senders[cursor]
            cursor = (cursor + 1) % count
            if conn.failed is not None or len(conn.out) > MAX_OUT:
                args["skipped"] += 1
                continue
            if not conn.out:
                touched.append(conn)
            conn.out += b"PRIVMSG %s :~M %d %s\r\n" % (conn.target, now, PAD)
            conn.sent += 1
        args["cursor"] = cursor
        for conn in touched:
            self.flush(conn)

    def finish_load(self, outstanding: int, drained: bool) -> None:
        snaps = self.args["snaps"]
        end = snaps.get("end") or self.snapshot()
        warm = snaps.get("warm") or end
        sent_to: Counter[bytes] = Counter()
        for conn in self.senders:
            if conn.target is not None:
                sent_to[conn.target] += conn.sent
        self.counting = False
        self.phase = "idle"
        self.ctl.send({
            "sent": end["sent"],
            "sent_window": end["sent"] - warm["sent"],
            "received_window": end["received"] - warm["received"],
            "received_total": sum(c.received for c in self.conns.values()),
            "reordered": sum(c.reordered for c in self.conns.values()),
            "sent_to": dict(sent_to),
            "cpu": end["cpu"] - warm["cpu"],
            "skipped": self.args["skipped"],
            "outstanding": outstanding,
            "drained": drained,
            "errors": dict(self.errors),
            "latency": self.lat.tobytes(),
        })  # fmt: skip
        for conn in self.senders:
            conn.target = None


def _worker_main(
    wid: int, ctl: Pipe, servers: list[tuple[str, int]], spread: int, cpus: set[int] | None
) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
    raise_fd_limit()
    Worker(wid, servers, spread, ctl).run()


class LoadGen:
    """The parent: starts the workers and runs phases on all of them at once.

    With `servers` (linked servers, bench/linked.py) the clients are spread over them:
    client i connects to servers[(i // spread) % len(servers)], so spread 1 alternates
    and spread = the number of channels puts each channel's members on every server."""

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        workers: int = 4,
        cpus: set[int] | None = None,
        setup_concurrency: int = SETUP_CONCURRENCY,
        servers: list[tuple[str, int]] | None = None,
        spread: int = 1,
    ) -> None:
        raise_fd_limit()
        self.setup_concurrency = setup_concurrency  # registrations in flight per worker
        self.workers = workers
        addrs = servers or [(host, port)]
        self.pipes, self.procs = fork_workers(workers, _worker_main, addrs, spread, cpus)

    def worker_of(self, index: int) -> int:
        return index % self.workers

    def _call(self, name: str, per_worker: list[dict[str, Any]], wait: float) -> list[Any]:
        for pipe, args in zip(self.pipes, per_worker, strict=True):
            pipe.send((name, args))
        return self._collect(wait)

    def _collect(self, wait: float) -> list[Any]:
        results = []
        limit = time.monotonic() + wait
        for pipe in self.pipes:
            if not pipe.poll(max(0.0, limit - time.monotonic())):
                raise TimeoutError("a load generator worker did not answer")
            results.append(pipe.recv())
        return results

    def connect(
        self, indices: Iterable[int], concurrency: int | None = 64, timeout: float = 60
    ) -> dict[str, Any]:
        """Connect and register clients; concurrency None means all at once (a storm).

        Returns registered indices, per-client registration times (s from the common
        start) and failure reasons."""
        split: list[list[int]] = [[] for _ in range(self.workers)]
        for index in indices:
            split[self.worker_of(index)].append(index)
        start_at = time.monotonic_ns() + NS // 5
        args = [
            {"indices": part, "concurrency": concurrency, "start_at": start_at,
             "timeout": timeout + 0.2}
            for part in split
        ]  # fmt: skip
        results = self._call("connect", args, timeout + 30)
        errors: Counter[str] = Counter()
        for result in results:
            errors.update(result["errors"])
        times = sorted(t for result in results for t in result["times"])
        return {
            "registered": sorted(i for result in results for i in result["registered"]),
            "times": times,
            "errors": dict(errors),
        }

    def setup(
        self, clients: dict[int, tuple[str | None, list[str]]], timeout: float = 60
    ) -> dict[str, Any]:
        """Per client: a channel to JOIN (or None) and setup lines (`{nick}` is replaced)."""
        split: list[dict[int, tuple[bytes | None, list[bytes]]]] = [{} for _ in range(self.workers)]
        for index, (channel, lines) in clients.items():
            encoded = (channel.encode() if channel else None, [ln.encode() for ln in lines])
            split[self.worker_of(index)][index] = encoded
        results = self._call(
            "setup", [{"clients": part, "timeout": timeout} for part in split], timeout + 30
        )
        errors: Counter[str] = Counter()
        for result in results:
            errors.update(result["errors"])
        return {
            "ready": sum(r["ready"] for r in results),
            "joined": sorted(i for r in results for i in r["joined"]),
            "errors": dict(errors),
        }

    def load(
        self,
        senders: dict[int, str],
        mode: str = "flat",
        duration: float = 10,
        warmup: float = 1,
        rate: int = 0,
        batch: int = 8,
        window: int = 2,
        latency: bool = False,
        drain: float = 20,
        settle: float = 1.0,
        probe: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """Run load; `probe("warm")` and `probe("end")` are called at the window edges."""
        split: list[dict[int, bytes]] = [{} for _ in range(self.workers)]
        for index, target in senders.items():
            split[self.worker_of(index)][index] = target.encode()
        start_at = time.monotonic_ns() + NS // 5
        args = []
        for part in split:
            share = rate * len(part) // max(1, len(senders)) if mode == "paced" else 0
            args.append({
                "senders": part, "mode": mode, "start_at": start_at, "duration": duration,
                "warmup": warmup, "rate": share, "batch": batch, "window": window,
                "latency": latency, "drain": drain, "settle": settle,
            })  # fmt: skip
        for pipe, arg in zip(self.pipes, args, strict=True):
            pipe.send(("load", arg))
        warm_at = start_at + int(warmup * NS)
        for label, when in (("warm", warm_at), ("end", warm_at + int(duration * NS))):
            delay = (when - time.monotonic_ns()) / NS
            if delay > 0:
                time.sleep(delay)
            if probe is not None:
                probe(label)
        results = self._collect(drain + 60)
        merged: dict[str, Any] = {"sent_to": Counter(), "errors": Counter()}
        for key in ("sent", "sent_window", "received_window", "received_total", "cpu",
                    "skipped", "outstanding", "reordered"):  # fmt: skip
            merged[key] = sum(r[key] for r in results)
        merged["drained"] = all(r["drained"] for r in results)
        lat = array.array("q")
        for r in results:
            merged["sent_to"].update({k.decode(): v for k, v in r["sent_to"].items()})
            merged["errors"].update(r["errors"])
            part = array.array("q")
            part.frombytes(r["latency"])
            lat.extend(part)
        merged["latency_ns"] = lat
        merged["duration"] = duration
        return merged

    def close(self) -> None:
        """Close every client socket (the workers stay)."""
        self._call("close", [{} for _ in self.pipes], 60)

    def shutdown(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("exit", {}))
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()

    def __enter__(self) -> LoadGen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


# -- scenarios -------------------------------------------------------------------------------


def percentiles_ms(samples: array.array[int]) -> dict[str, float | None]:
    if not samples:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(samples)

    def pick(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1e6

    return {"p50": pick(0.5), "p99": pick(0.99), "max": ordered[-1] / 1e6}


def _summary(
    result: dict[str, Any], expected: int, registered: int, joined: int, extra: dict[str, Any]
) -> dict[str, Any]:
    duration = result["duration"]
    lost = max(0, expected - result["received_total"])
    duplicated = max(0, result["received_total"] - expected)
    return {
        "clients": registered,
        "joined": joined,
        "sent_per_s": result["sent_window"] / duration,
        "delivered_per_s": result["received_window"] / duration,
        "sent": result["sent"],
        "expected": expected,
        "received": result["received_total"],
        "lost": lost,
        "duplicated": duplicated,
        "reordered": result["reordered"],
        "drained": result["drained"],
        "disconnects": sum(result["errors"].values()),
        "errors": dict(result["errors"]),
        "gen_cpu": result["cpu"] / duration,
        "skipped": result["skipped"],
        **percentiles_ms(result["latency_ns"]),
        **extra,
    }


def _expected(sent_to: dict[str, int], members: Counter[str]) -> int:
    """Deliveries owed: a channel message to every other member, a private one to one."""
    return sum(
        count * (members[target] - 1 if target.startswith("#") else 1)
        for target, count in sent_to.items()
    )


def fanout(
    gen: LoadGen,
    clients: int = 500,
    senders: int = 10,
    sender_setup: Iterable[str] = (),
    settled: Callable[[int], None] | None = None,
    **load: Any,
) -> dict[str, Any]:
    """`clients` in one channel; the first `senders` of them send flat out.

    `settled(users)`, when given, is called before the load and returns once every server
    has seen all those users and their JOINs (linked servers, bench/linked.py)."""
    reg = gen.connect(range(clients), concurrency=gen.setup_concurrency)
    setup_lines = list(sender_setup)
    plan = {i: ("#fan", setup_lines if i < senders else []) for i in reg["registered"]}
    joined = gen.setup(plan)["joined"]
    if settled is not None:
        settled(len(reg["registered"]))
    time.sleep(1.0)  # let the JOIN echoes drain before measuring
    talkers = {i: "#fan" for i in joined if i < senders}
    result = gen.load(talkers, mode="flat", **load)
    members = Counter({"#fan": len(joined)})
    expected = _expected(result["sent_to"], members)
    return _summary(result, expected, len(reg["registered"]), len(joined), {})


def private(
    gen: LoadGen,
    pairs: int = 500,
    sender_setup: Iterable[str] = (),
    settled: Callable[[int], None] | None = None,
    **load: Any,
) -> dict[str, Any]:
    """2*pairs clients; client 2k and 2k+1 message each other flat out (`settled`: as for
    `fanout`)."""
    reg = gen.connect(range(2 * pairs), concurrency=gen.setup_concurrency)
    alive = set(reg["registered"])
    setup_lines = list(sender_setup)
    gen.setup({i: (None, setup_lines) for i in alive})
    if settled is not None:
        settled(len(alive))
    talkers = {i: nick_of(i ^ 1) for i in alive if (i ^ 1) in alive}
    result = gen.load(talkers, mode="flat", **load)
    expected = _expected(result["sent_to"], Counter())
    return _summary(result, expected, len(alive), len(alive), {})


def paced(
    gen: LoadGen,
    clients: int = 1000,
    channels: int = 100,
    rate: int = 10_000,
    sender_setup: Iterable[str] = (),
    settled: Callable[[int], None] | None = None,
    **load: Any,
) -> dict[str, Any]:
    """`clients` spread over `channels`; all of them send, `rate` messages/s in total
    (`settled`: as for `fanout`)."""
    reg = gen.connect(range(clients), concurrency=gen.setup_concurrency)
    setup_lines = list(sender_setup)
    plan = {i: (f"#ch{i % channels}", setup_lines) for i in reg["registered"]}
    joined = gen.setup(plan)["joined"]
    if settled is not None:
        settled(len(reg["registered"]))
    time.sleep(1.0)
    talkers = {i: f"#ch{i % channels}" for i in joined}
    result = gen.load(talkers, mode="paced", rate=rate, latency=True, **load)
    members = Counter(f"#ch{i % channels}" for i in joined)
    expected = _expected(result["sent_to"], members)
    return _summary(result, expected, len(reg["registered"]), len(joined), {"rate": rate})


def listen_drops() -> dict[str, int]:
    """TcpExtListenDrops / ListenOverflows, as `nstat -az` shows them (/proc/net/netstat)."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], map(int, values.split()[1:]), strict=False))
            return {k: table.get(k, 0) for k in ("ListenDrops", "ListenOverflows")}
    return {"ListenDrops": 0, "ListenOverflows": 0}


def storm(gen: LoadGen, clients: int = 1000, timeout: float = 30) -> dict[str, Any]:
    """All clients connect and register at once."""
    before = listen_drops()
    reg = gen.connect(range(clients), concurrency=None, timeout=timeout)
    after = listen_drops()
    times = reg["times"]
    return {
        "clients": clients,
        "registered": len(reg["registered"]),
        "failed": clients - len(reg["registered"]),
        "all_registered_s": times[-1] if times and len(times) == clients else None,
        "last_registered_s": times[-1] if times else None,
        "p50_s": statistics.median(times) if times else None,
        "errors": reg["errors"],
        "listen_drops": after["ListenDrops"] - before["ListenDrops"],
        "listen_overflows": after["ListenOverflows"] - before["ListenOverflows"],
    }


def memory(gen: LoadGen, clients: int, rss_kib: Callable[[], int]) -> dict[str, Any]:
    """RSS of the server before and after `clients` connect and register."""
    before = rss_kib()
    reg = gen.connect(range(clients), concurrency=gen.setup_concurrency, timeout=120)
    time.sleep(1.0)
    after = rss_kib()
    count = len(reg["registered"])
    return {
        "clients": clients,
        "registered": count,
        "failed": clients - count,
        "errors": reg["errors"],
        "rss_before_kib": before,
        "rss_after_kib": after,
        "bytes_per_conn": (after - before) * 1024 / count if count and after else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--cpus", help="pin the workers to these CPUs, e.g. 1 or 1,2")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--sender-setup", action="append", default=[],
                        help="a line each sender sends first ({nick} is replaced)")  # fmt: skip
    sub = parser.add_subparsers(dest="scenario", required=True)
    p = sub.add_parser("fanout")
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--senders", type=int, default=10)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--window", type=int, default=2)
    p = sub.add_parser("pm")
    p.add_argument("--pairs", type=int, default=500)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--window", type=int, default=2)
    p = sub.add_parser("paced")
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--channels", type=int, default=100)
    p.add_argument("--rate", type=int, default=10_000)
    p = sub.add_parser("storm")
    p.add_argument("--clients", type=int, default=1000)
    p = sub.add_parser("memory")
    p.add_argument("--clients", type=int, default=10_000)
    p.add_argument("--pid", type=int, required=True, help="the server's pid, to read its RSS")
    args = parser.parse_args()
    cpus = {int(c) for c in args.cpus.split(",")} if args.cpus else None
    if cpus:
        os.sched_setaffinity(0, cpus)
    timing = {"duration": args.duration, "warmup": args.warmup}
    with LoadGen(args.port, args.host, args.workers, cpus) as gen:
        if args.scenario == "fanout":
            result = fanout(gen, args.clients, args.senders, args.sender_setup,
                            batch=args.batch, window=args.window, **timing)  # fmt: skip
        elif args.scenario == "pm":
            result = private(gen, args.pairs, args.sender_setup,
                             batch=args.batch, window=args.window, **timing)  # fmt: skip
        elif args.scenario == "paced":
            result = paced(gen, args.clients, args.channels, args.rate, args.sender_setup,
                           **timing)  # fmt: skip
        elif args.scenario == "storm":
            result = storm(gen, args.clients)
        else:
            result = memory(gen, args.clients, functools.partial(rss_kib, args.pid))
        gen.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
