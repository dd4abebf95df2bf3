"""One soak worker process: its share of the honest and abusive clients on the shared
socket loop (bench/sockloop.py).

It owns the worker's side of the run: the timers that drive the clients (a heap of
(when, peer, socket generation, action)), handing each link's lines, timers and losses to
the honest users or the abusers, the status it reports every 2 s, the parent's commands
(load, stop, drain2, finish), the end-of-run barrier (every honest client PINGs and waits
for its PONG, twice, then QUITs) and the result it sends back.
"""

from __future__ import annotations

import heapq
import itertools
import random
import resource
import signal
import time
from collections import Counter
from multiprocessing.connection import Connection as Pipe
from typing import Any

from soak_abuse import Abuser, Abusers
from soak_honest import Honest, HonestUsers
from soak_ledger import Ledger, Stats
from soak_plan import NS, Peer, Plan
from sockloop import Loop

RECV_SIZE = 1 << 16


class Worker(Loop[Peer]):
    def __init__(self, wid: int, plan: Plan, ctl: Pipe) -> None:
        super().__init__(ctl, (plan.host, plan.port), RECV_SIZE)
        self.wid = wid
        self.plan = plan
        self.rng = random.Random(plan.seed * 1000 + wid)
        self.timers: list[tuple[int, int, Peer, int, str]] = []
        self.tick = itertools.count()
        self.st = Stats()
        self.ledger = Ledger(plan.honest, plan.t0, plan.trace, self.st)
        self.users = HonestUsers(self, wid, plan, self.rng, self.st, self.ledger)
        self.abusers = Abusers(self, wid, plan, self.rng, self.st)
        self.honest = self.users.clients
        self.stopping = False
        self.draining = 0
        self.drain_deadline = 0
        self.finishing = 0  # monotonic ns: the deadline of the final QUITs, while they run
        self.next_status = 0

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        plan = self.plan
        for h in self.honest:
            self.at(h, plan.t0 + int(plan.ramp * NS * h.idx / max(1, plan.honest)), "connect")
        abuse_start = plan.t0 + int(min(5.0, plan.ramp / 4) * NS)
        for a in self.abusers.clients:
            self.at(a, abuse_start + a.idx * NS // 20, "connect")
        super().run()

    def timeout(self) -> float:
        if self.timers:
            return min(0.05, max(0.0, (self.timers[0][0] - time.monotonic_ns()) / NS))
        return 0.05

    def step(self, now: int) -> None:
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

    def on_timer(self, peer: Peer, action: str) -> None:
        if isinstance(peer, Honest):
            self.users.on_timer(peer, action)
        elif isinstance(peer, Abuser):
            self.abusers.on_timer(peer, action)

    def status(self) -> dict[str, Any]:
        return {
            "active": sum(h.state == "active" for h in self.honest),
            "joined": sum(h.ever_joined for h in self.honest),
            "sent": sum(self.st.sent.values()),
            "received": sum(self.ledger.rx_count),
            "honest_disconnects": sum(self.st.honest_disconnects.values()),
            "honest_errors": sum(self.st.honest_errors.values()),
            "abuse_closed": sum(self.st.abuse_closed.values()),
        }

    def command(self) -> bool:
        name = self.ctl.recv()
        if name == "load":
            st = self.st
            st.ramp_latency, st.ramp_latency_max_us = st.latency, st.latency_max_us
            st.latency, st.latency_max_us = Counter(), 0
        elif name == "stop":
            self.stopping = True
            for a in self.abusers.clients:
                self.close(a)
            self.start_drain(1)
        elif name == "drain2":
            self.start_drain(2)
        elif name == "finish":
            self.finish()
        return True

    # -- links ---------------------------------------------------------------------------------

    def open(self, peer: Peer, first: bytes, src_ip: str | None = None, rcvbuf: int = 0) -> bool:
        why = self.dial(peer, first, src_ip, rcvbuf)
        if why is not None:
            if isinstance(peer, Honest):
                self.users.error(peer, f"connect failed: {why}", why.encode())
            elif isinstance(peer, Abuser):
                self.st.abuse_closed[f"{peer.kind}: connect failed {why}"] += 1
            self.after(peer, 1.0, "connect")
            return False
        peer.gen += 1
        peer.last_error = b""
        peer.opened_at = time.monotonic_ns()
        return True

    def received(self, peer: Peer, data: bytes, cut: int) -> None:
        sock = peer.sock
        handle = self.users.line if isinstance(peer, Honest) else self.abusers.line
        for raw in data[:cut].split(b"\n"):
            line = raw.rstrip(b"\r")
            if line:
                handle(peer, line)  # type: ignore[arg-type]
                if peer.sock is not sock:
                    return

    def close(self, peer: Peer) -> bool:
        """Close without counting it as a loss (the end of the run)."""
        if not super().close(peer):
            return False
        peer.gen += 1
        return True

    def broken(self, peer: Peer, stage: str, why: str) -> None:
        self.lost(peer, "closed" if stage == "eof" else f"{stage}: {why}")

    def lost(self, peer: Peer, reason: str) -> None:
        if not self.close(peer):
            return
        if isinstance(peer, Honest):
            self.users.closed(peer, reason)
        elif isinstance(peer, Abuser):
            self.abusers.closed(peer, reason)

    # -- the end of the run ------------------------------------------------------------------

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
                self.users.end_session(h)
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
            self.ledger.count_unechoed(h.book)
        self.ctl.send(("result", self.result()))
        self.finishing = 0
        self.done = True

    def result(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            **self.ledger.result(),
            "never_joined": [h.idx for h in self.honest if not h.ever_joined],
            "cpu_s": usage.ru_utime + usage.ru_stime,
        }


def worker_main(wid: int, ctl: Pipe, plan: Plan) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent cleans up
    Worker(wid, plan, ctl).run()
