"""The soak test's ledger: what each honest message was owed and what arrived.

It owns the accounting of bench/soak.py's expectation rule (its docstring has the why):
per sender and target a running count and 64-bit hash sum of the echoed messages
(`Book`); a recipient's share of them while it is in the sender's view, added to what
that recipient is owed when it leaves it; what every recipient received, with repeats
(duplicates) and latency; with --trace every message id as well. A worker keeps one
`Ledger` and its `Stats` (every other tally the report prints); the parent `merge`s the
workers' results and compares owed with received.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from soak_plan import NS, PM_BASE

MASK = (1 << 64) - 1


def mix(sender: int, target: int, seq: int) -> int:
    """A 64-bit hash of one message id (splitmix64)."""
    z = (((sender << 40) ^ (target << 24) ^ seq) + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def latency_bucket(us: int) -> int:
    """Latency in microseconds, rounded to 2-3 significant digits."""
    if us < 1000:
        return us // 10 * 10
    if us < 10_000:
        return us // 100 * 100
    if us < 100_000:
        return us // 1000 * 1000
    return us // 10_000 * 10_000


def kind_of(t: int) -> str:
    return "private" if t >= PM_BASE else "channel"


def describe(delivery: tuple[int, int, int, int]) -> str:
    """(recipient, sender, target, seq) as `h3 <- h7 #soak5 #12`."""
    r, s, t, k = delivery
    target = f"h{t - PM_BASE}" if t >= PM_BASE else f"#soak{t}"
    return f"h{r} <- h{s} {target} #{k}"


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


class Book:
    """One honest client's accounts, all keyed by target id."""

    def __init__(self) -> None:
        # sender side
        self.seq: dict[int, int] = {}  # the last message sent
        self.echoed: dict[int, int] = {}  # the last one echoed
        self.count: dict[int, int] = {}  # echoed messages, and the sum of their hashes
        self.hash: dict[int, int] = {}
        self.open: dict[int, dict[int, tuple[int, int]]] = {}  # member -> (count, hash) at entry
        self.echo_list: dict[int, list[int]] = {}  # --trace only
        # receiver side: sender -> last seq seen
        self.last_rx: dict[int, dict[int, int]] = {}


class Ledger:
    """One worker's accounts: what each honest recipient is owed and what it received."""

    def __init__(self, honest: int, t0: int, trace: bool, st: Stats) -> None:
        self.t0 = t0
        self.trace = trace
        self.st = st
        self.exp_count = [0] * honest
        self.exp_hash = [0] * honest
        self.rx_count = [0] * honest
        self.rx_hash = [0] * honest
        self.trace_exp: list[tuple[int, int, int, int]] = []
        self.trace_rx: list[tuple[int, int, int, int]] = []

    def open_view(self, me: int, book: Book, t: int, r: int) -> None:
        """Honest client `r` enters sender `me`'s view of target `t`."""
        if r < 0 or r == me:
            return
        book.open.setdefault(t, {})[r] = (book.count.get(t, 0), book.hash.get(t, 0))

    def close_view(self, me: int, book: Book, t: int, r: int) -> None:
        """`r` leaves the view: it is owed what `me` had echoed to `t` meanwhile."""
        members = book.open.get(t)
        if not members or r not in members:
            return
        c0, p0 = members.pop(r)
        c1 = book.count.get(t, 0)
        if c1 == c0:
            return
        self.exp_count[r] += c1 - c0
        self.exp_hash[r] = (self.exp_hash[r] + book.hash.get(t, 0) - p0) & MASK
        if self.trace:
            for k in book.echo_list[t][c0:c1]:
                self.trace_exp.append((r, me, t, k))

    def leave(self, me: int, book: Book, t: int) -> None:
        """`me` left target `t`: everyone leaves its view of it."""
        for r in list(book.open.get(t, {})):
            self.close_view(me, book, t, r)
        book.last_rx.pop(t, None)

    def end_session(self, me: int, book: Book) -> None:
        """`me`'s link is gone: everyone leaves every view."""
        for t, members in book.open.items():
            for r in list(members):
                self.close_view(me, book, t, r)
        book.open.clear()
        book.last_rx.clear()

    def next_seq(self, book: Book, t: int) -> int:
        k = book.seq.get(t, 0) + 1
        book.seq[t] = k
        return k

    def received(self, me: int, book: Book, text: bytes) -> bool:
        """A marked message `me` received (`text` after `~S `); False if malformed."""
        try:
            s_raw, t_raw, k_raw, ns_raw = text.split(b" ", 4)[:4]
            s, t, k, ns = int(s_raw), int(t_raw), int(k_raw), int(ns_raw)
        except ValueError:
            return False
        if s == me:
            self.echo(me, book, t, k)
            return True
        seen = book.last_rx.get(t)
        if seen is None:
            seen = book.last_rx[t] = {}
        if k <= seen.get(s, 0):
            self.st.duplicates += 1
            return True
        seen[s] = k
        self.rx_count[me] += 1
        self.rx_hash[me] = (self.rx_hash[me] + mix(s, t, k)) & MASK
        now = time.monotonic_ns()
        us = (now - ns) // 1000
        st = self.st
        st.latency[latency_bucket(us)] += 1
        if us > st.latency_max_us:
            st.latency_max_us = us
        window = (now - self.t0) // (10 * NS)
        if us > st.latency_peaks.get(window, 0):
            st.latency_peaks[window] = us
        if self.trace:
            self.trace_rx.append((me, s, t, k))
        return True

    def echo(self, me: int, book: Book, t: int, k: int) -> None:
        """The echo of `me`'s own message k to `t`; a gap is a message the server refused."""
        last = book.echoed.get(t, 0)
        if k <= last:
            self.st.echo_out_of_order += 1
            return
        if k > last + 1:
            self.st.rejected[kind_of(t)] += k - last - 1
        book.echoed[t] = k
        book.count[t] = book.count.get(t, 0) + 1
        book.hash[t] = (book.hash.get(t, 0) + mix(me, t, k)) & MASK
        self.st.echoed += 1
        if self.trace:
            book.echo_list.setdefault(t, []).append(k)

    def count_unechoed(self, book: Book) -> None:
        """At the end: messages never echoed were refused by the server."""
        for t, k in book.seq.items():
            unechoed = k - book.echoed.get(t, 0)
            if unechoed:
                self.st.rejected[kind_of(t)] += unechoed

    def result(self) -> dict[str, Any]:
        """The ledger and the stats, as the worker sends them to the parent."""
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
            "abuse_conns": dict(st.abuse_conns), "abuse_closed": dict(st.abuse_closed),
            "abuse_replies": dict(st.abuse_replies), "abuse_life": st.abuse_life,
            "fakelag_max_s": st.fakelag_max_s,
            "trace_exp": self.trace_exp, "trace_rx": self.trace_rx,
        }  # fmt: skip


def merge(results: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """The workers' results as one, with expected, delivered, lost, unexpected and the
    number of recipients whose (count, hash) received differs from the one owed."""
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
