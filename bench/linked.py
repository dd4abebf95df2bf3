"""Linked servers: the load of compare.py with the clients spread over one, two or three
linked servers, and the cost of a 10,000-user burst, for miniircd, ngIRCd and InspIRCd
(whichever are installed) in one run.

Topologies: all on one server (a); two linked (a - b); three in a chain (a - b - c, b the
hub that a and c dial). Each server has its own 127.0.0.x; all of them run on CPU 0, as
compare.py's one server does, so the table shows what linking costs on the same core;
the load generator runs on CPU 1. miniircd links with `[[links]]` blocks, ngIRCd with
`[Server]` blocks (on their client ports), InspIRCd with m_spanningtree (`<link>`, on a
port for servers).
  fanout  clients in one channel, spread evenly over the servers, the first few (some on
          every server) sending flat out: deliveries/s, lost/duplicated/reordered
  pm      pairs messaging each other flat out, the two of a pair on different servers
          (each sender waits for its own server's PONG: that bounds what it has queued
          there, not what waits on a link)
  paced   clients in channels, each channel's members on every server, all sending at a
          fixed total rate: delivery latency p50/p99/max
Before the load, a probe client on each server messages the probes on the others until
each has heard from all (the events of one server reach another in order, so all JOINs
have arrived), and LUSERS must then count every user everywhere. ngIRCd makes that wait
long: it handles at most users/5 + 10 lines from a server link per turn and then holds
the link back a second (Handle_Buffer in its conn.c).

  burst   N users in N/10 channels on server a; then b (empty) links to a through a relay
          held shut until both are measured: the time until a knows b's users (the link
          is up both ways) and until b has seen the whole burst (a message sent on a after
          the link came up reaches b, behind the burst on the same stream; LUSERS on b
          must then count every user and channel), CPU seconds and RSS growth of both.

Usage:
  python bench/linked.py                          # everything, one run each (~20 min)
  python bench/linked.py --quick                  # tiny sizes: a smoke test (~5 min)
  python bench/linked.py --only fanout,burst --servers miniircd
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import compare
import loadgen
from compare import Inspircd, Miniircd, Ngircd, Target, free_port, num

from common import Client, raise_fd_limit

HOSTS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
NAMES = ("a.bench", "b.bench", "c.bench")
RELAY_HOST = "127.0.0.5"
HUB = 1  # b: a and c dial it
PASSWORD = "bench-link"
TOPOLOGIES = {1: "1 server", 2: "2 linked", 3: "3 in a chain"}
DEADLINE = 120.0  # for a network to link and settle


@dataclass
class Column:
    """One column of the table: a server kind on one topology."""

    kind: str
    servers: int

    @property
    def label(self) -> str:
        return f"{self.kind}, {TOPOLOGIES[self.servers]}"


# -- starting linked servers -----------------------------------------------------------------


class LinkedInspircd(Inspircd):
    """InspIRCd with m_spanningtree and a listener for servers (`link_port`) when it
    has links: it takes them on a port of their own."""

    def __init__(self, binary: str) -> None:
        super().__init__(binary)
        self.link_port = 0

    def command(self, tmp: Path) -> tuple[list[str], dict[str, str]]:
        argv, env = super().command(tmp)
        if self.extra:
            self.link_port = free_port(self.host)
            with open(tmp / "inspircd.conf", "a") as conf:
                conf.write(f'<module name="spanningtree">\n<bind address="{self.host}" '
                           f'port="{self.link_port}" type="servers">\n')  # fmt: skip
        return argv, env


@functools.cache
def make_target(kind: str, index: int) -> Target:
    """The server of `kind` for position `index` (a, b, c) of a network (each run starts
    it afresh; made once, as miniircd's reads its configuration keys from the tree)."""
    binary = shutil.which(kind) or shutil.which(kind, path="/usr/sbin") or kind
    target: Target
    if kind == "miniircd":
        target = Miniircd("miniircd", compare.REPO / "src")
    elif kind == "inspircd":
        target = LinkedInspircd(binary)
    else:
        target = Ngircd(binary)
    target.host, target.name = HOSTS[index], NAMES[index]
    return target


def link_addr(target: Target) -> tuple[str, int]:
    """Where a server takes links: its client port, but InspIRCd's port for servers."""
    return target.host, getattr(target, "link_port", 0) or target.port


def link_config(kind: str, peer: int, dial: tuple[str, int] | None) -> str:
    """The configuration of one link to server `peer`: dialing `dial`, or waiting."""
    name = NAMES[peer]
    if kind == "inspircd":
        # a port even where it waits: InspIRCd ignores a link block without one
        host, port = dial or (HOSTS[peer], 7000)
        text = (f'<link name="{name}" ipaddr="{host}" port="{port}" allowmask="127.0.0.0/8" '
                f'sendpass="{PASSWORD}" recvpass="{PASSWORD}">\n')  # fmt: skip
        return text + (f'<autoconnect period="1s" server="{name}">\n' if dial else "")
    if kind == "miniircd":
        text = (f'\n[[links]]\nname = "{name}"\nsend_password = "{PASSWORD}"\n'
                f'accept_password = "{PASSWORD}"\n')  # fmt: skip
        if dial:
            text += f'host = "{dial[0]}"\nport = {dial[1]}\nconnect = true\nretry = 1\n'
        return text
    text = f"[Server]\n\tName = {name}\n\tMyPassword = {PASSWORD}\n\tPeerPassword = {PASSWORD}\n"
    if dial:
        text += f"\tHost = {dial[0]}\n\tPort = {dial[1]}\n"
    return text


@contextlib.contextmanager
def network(kind: str, servers: int) -> Iterator[list[Target]]:
    """`servers` linked servers of `kind` (a, or a - b, or a - b - c with b the hub),
    started and linked; stopped afterwards."""
    targets = [make_target(kind, index) for index in range(servers)]
    try:
        if servers == 1:
            targets[0].extra = ""
            targets[0].start()
        else:
            hub, leaves = targets[HUB], [t for i, t in enumerate(targets) if i != HUB]
            hub.extra = "".join(link_config(kind, NAMES.index(t.name), None) for t in leaves)
            hub.start()
            for leaf in leaves:
                leaf.extra = link_config(kind, HUB, link_addr(hub))
                leaf.start()
            settle([(t.host, t.port) for t in targets], 0)
        yield targets
    finally:
        for target in targets:
            target.stop()


# -- probes: has every server seen everything? -----------------------------------------------


def settle(addrs: list[tuple[str, int]], users: int, timeout: float = DEADLINE) -> None:
    """Return once every server has heard from every other since now and LUSERS counts
    `users` (plus the probes) and all the servers on each; raise if not in `timeout`."""
    asyncio.run(asyncio.wait_for(_settle(addrs, users), timeout))


async def _settle(addrs: list[tuple[str, int]], users: int) -> None:
    probes = [await Client.connect(port, host) for host, port in addrs]
    try:
        for index, probe in enumerate(probes):
            await probe.register(f"probe{index}")
        await asyncio.gather(*(_sync(probes, index) for index in range(len(probes))))
        for probe in probes:
            counted = await _lusers(probe)
            if counted != (users + len(probes), len(probes)):
                raise RuntimeError(f"LUSERS counts {counted}, not {users + len(probes)} users "
                                   f"on {len(probes)} servers")  # fmt: skip
    finally:
        for probe in probes:
            probe.close()


async def _sync(probes: list[Client], me: int) -> None:
    """Message every other probe until none answers 401 and all have written to this one."""
    others = set(range(len(probes))) - {me}
    told: set[int] = set()
    heard: set[int] = set()
    probe = probes[me]
    rounds = 0
    while told != others or heard != others:
        rounds += 1
        for other in others - told:
            probe.send(f"PRIVMSG probe{other} :sync {me}")
        probe.send(f"PING :round{rounds}")
        missing = set()
        while True:
            line = await probe.expect(rf"( 401 | PRIVMSG probe{me} :sync | PONG .*round{rounds})")
            if " 401 " in line:
                missing.add(int(line.split()[3].removeprefix("probe")))
            elif " PRIVMSG " in line:
                heard.add(int(line.rsplit(" ", 1)[1]))
            else:
                break
        told |= (others - told) - missing
        if told != others or heard != others:
            await asyncio.sleep(0.05)


async def _lusers(probe: Client, channels: list[int] | None = None) -> tuple[int, int]:
    """(global users, servers) from LUSERS: 266's first number, 251's "on N servers";
    254's channel count is appended to `channels` (0 without a 254)."""
    probe.send("LUSERS")
    servers = int(re.findall(r"on (\d+) servers?", await probe.expect(r" 251 "))[0])
    formed = 0
    while " 266 " not in (line := await probe.expect(r" (254|266) ")):
        formed = int(line.split()[3])
    if channels is not None:
        channels.append(formed)
    found = re.search(r" 266 \S+ (\d+)", line) or re.search(r"global users:? (\d+)", line)
    users = int(found.group(1)) if found else -1
    return users, servers


# -- the load scenarios ----------------------------------------------------------------------


def run_load(column: Column, spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    with network(column.kind, column.servers) as targets:
        addrs = [(t.host, t.port) for t in targets]
        spread = spec.get("channels", 1) if spec["kind"] == "paced" else 1
        cpu: dict[str, float] = {}

        def probe(label: str) -> None:
            cpu[label] = sum(t.cpu_s() for t in targets)

        def settled(users: int) -> None:
            if len(targets) > 1:
                settle(addrs, users)

        # counts still for 3 s (not 1) end the drain: a link may hold lines back a second
        timing = {"duration": args.duration, "warmup": args.warmup, "probe": probe, "settle": 3.0}
        setup = targets[0].sender_setup
        with loadgen.LoadGen(
            0, workers=args.workers, cpus=compare.GEN_CPUS, servers=addrs, spread=spread,
            setup_concurrency=targets[0].setup_concurrency,
        ) as gen:  # fmt: skip
            if spec["kind"] == "fanout":
                result = loadgen.fanout(gen, spec["clients"], spec["senders"], setup,
                                        settled, **timing)  # fmt: skip
            elif spec["kind"] == "pm":
                result = loadgen.private(gen, spec["pairs"], setup, settled, **timing)
            else:
                result = loadgen.paced(gen, spec["clients"], spec["channels"], spec["rate"],
                                       setup, settled, **timing)  # fmt: skip
            result["server_cpu"] = (cpu.get("end", 0) - cpu.get("warm", 0)) / args.duration
            result["rss_kib"] = [t.rss_kib() for t in targets]
            result["server_alive"] = all(t.alive() for t in targets)
            gen.close()
        return result


def scenario_table(quick: bool) -> dict[str, dict[str, Any]]:
    if quick:
        return {
            "fanout": {"kind": "fanout", "clients": 60, "senders": 6},
            "pm": {"kind": "pm", "pairs": 30},
            "paced": {"kind": "paced", "clients": 60, "channels": 6, "rate": 300},
            "burst": {"kind": "burst", "users": 300},
        }
    return {
        "fanout": {"kind": "fanout", "clients": 500, "senders": 12},
        "pm": {"kind": "pm", "pairs": 500},
        "paced": {"kind": "paced", "clients": 1000, "channels": 100, "rate": 2000},
        "burst": {"kind": "burst", "users": 10_000},
    }


# -- the burst -------------------------------------------------------------------------------


class Relay:
    """A TCP relay on RELAY_HOST that holds the connections it takes until `open`, then
    joins each to `upstream`: b dials it, so the link starts when the bench says."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.dialed = asyncio.Event()
        self.held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._held, RELAY_HOST, 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _held(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.held.append((reader, writer))
        self.dialed.set()

    async def open(self) -> None:
        for reader, writer in self.held:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self.tasks += [asyncio.create_task(self._pump(reader, up_writer)),
                           asyncio.create_task(self._pump(up_reader, writer))]  # fmt: skip

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(1 << 16):
                writer.write(data)
                await writer.drain()
        writer.close()

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for _, writer in self.held:
            writer.close()
        if self.server is not None:
            self.server.close()


def run_burst(kind: str, spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """`users` on a in users/10 channels, then b links to a (see the module's docstring)."""
    users = spec["users"]
    a, b = make_target(kind, 0), make_target(kind, 1)
    a.extra = link_config(kind, 1, None)
    try:
        a.start()
        with loadgen.LoadGen(a.port, a.host, args.workers, compare.GEN_CPUS) as gen:
            started = time.monotonic()
            reg = gen.connect(range(users), concurrency=a.setup_concurrency, timeout=240)
            if len(reg["registered"]) < users:
                raise RuntimeError(
                    f"only {len(reg['registered'])} of {users} registered on a: {reg['errors']}"
                )
            registered = time.monotonic() - started
            channels = max(1, users // 10)
            gen.setup({i: (f"#b{i % channels}", []) for i in reg["registered"]}, timeout=240)
            joined = time.monotonic() - started - registered
            result = asyncio.run(_burst(a, b, kind, users))
            result.update(users=users, channels=channels, connect_s=registered, join_s=joined)
            result["server_alive"] = a.alive() and b.alive()
            gen.close()
        return result
    finally:
        b.stop()
        a.stop()


async def _burst(a: Target, b: Target, kind: str, users: int) -> dict[str, Any]:
    relay = Relay(link_addr(a))
    await relay.start()
    b.extra = link_config(kind, 0, (RELAY_HOST, relay.port))
    try:
        await asyncio.to_thread(b.start)
        await asyncio.wait_for(relay.dialed.wait(), 30)
        watcher = await Client.connect(b.port, b.host)
        await watcher.register("watcher")
        sentinel = await Client.connect(a.port, a.host)
        await sentinel.register("sentinel")
        await asyncio.sleep(0.5)  # both idle: the baselines
        formed: list[int] = []  # the channels b counts, before and after (ngIRCd has &SERVER)
        await _lusers(watcher, formed)
        before = {"a": (a.cpu_s(), a.rss_kib()), "b": (b.cpu_s(), b.rss_kib())}
        t0 = time.monotonic()
        await relay.open()
        seen = asyncio.create_task(watcher.expect(r"PRIVMSG watcher :burst", DEADLINE))
        tries = 0
        while True:  # until a knows the watcher: the link is up and b's burst is in
            tries += 1
            sentinel.send("PRIVMSG watcher :burst", f"PING :try{tries}")
            line = await sentinel.expect(rf"( 401 |PONG .*try{tries})", DEADLINE)
            if " 401 " not in line:
                break
            await asyncio.sleep(0.01)
        up = time.monotonic() - t0
        await seen
        done = time.monotonic() - t0
        counted = await _lusers(watcher, formed)
        await asyncio.sleep(0.5)  # a's last writes and b's last lines settle
        after = {"a": (a.cpu_s(), a.rss_kib()), "b": (b.cpu_s(), b.rss_kib())}
        if counted != (users + 2, 2) or formed[1] - formed[0] != max(1, users // 10):
            raise RuntimeError(
                f"b's LUSERS counts {counted} and {formed} channels, not "
                f"{users + 2} users on 2 servers and {max(1, users // 10)} more channels"
            )
        watcher.close()
        sentinel.close()
    finally:
        relay.close()
    result: dict[str, Any] = {"up_s": up, "seen_s": done}
    for side in ("a", "b"):
        result[f"cpu_{side}"] = after[side][0] - before[side][0]
        result[f"rss_{side}_before_kib"] = before[side][1]
        result[f"rss_{side}_kib"] = after[side][1]
    return result


# -- the tables ------------------------------------------------------------------------------


def load_rows(scenarios: dict[str, dict[str, Any]]) -> list[compare.Row]:
    """compare.py's rows (its latency row only for paced), then each server's RSS."""
    rows = compare.rows_for({k: v for k, v in scenarios.items() if v["kind"] != "burst"})
    for name, spec in scenarios.items():
        if spec["kind"] in ("fanout", "pm"):  # what the servers took in, beside what came out
            rows.append((f"{name}: sent per s", name, lambda r: num(r.get("sent_per_s")),
                         compare._none))  # fmt: skip
        if spec["kind"] != "burst":
            rows.append((f"{name}: RSS after, MiB per server", name, _rss_cell, compare._none))
    return rows


def _rss_cell(r: dict[str, Any]) -> str:
    return " + ".join(num(kib / 1024, 1) for kib in r.get("rss_kib", []))


def render_burst(kinds: list[str], spec: dict[str, Any], results: dict[str, Any]) -> str:
    users = spec["users"]
    title = f"{users:,} users in {max(1, users // 10):,} channels on a, then b links"
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("set-up on a (not the burst): users registered / joined in s",
         lambda r: f"{num(r.get('connect_s'), 1)} / {num(r.get('join_s'), 1)}"),
        ("link up both ways after, s", lambda r: num(r.get("up_s"), 2)),
        ("whole burst seen on b after, s", lambda r: num(r.get("seen_s"), 2)),
        ("CPU s, a / b", lambda r: f"{num(r.get('cpu_a'), 2)} / {num(r.get('cpu_b'), 2)}"),
        ("RSS a, MiB before → after", lambda r: _mib_pair(r, "a")),
        ("RSS b, MiB before → after", lambda r: _mib_pair(r, "b")),
    ]  # fmt: skip
    lines = [f"| {title} | " + " | ".join(kinds) + " |", "|" + " --- |" * (len(kinds) + 1)]
    for label, cell in rows:
        cells = []
        for kind in kinds:
            r = results.get(kind, {})
            cells.append("failed: " + r["error"][:80] if "error" in r else cell(r))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _mib_pair(r: dict[str, Any], side: str) -> str:
    before, after = r.get(f"rss_{side}_before_kib"), r.get(f"rss_{side}_kib")
    return f"{num(compare._mib(before), 1)} → {num(compare._mib(after), 1)}"


def _attempt(what: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        result = run()
    except Exception as exc:  # a server that fails is a result, not a stop
        result = {"error": f"{type(exc).__name__}: {exc}", "failures": [f"{exc}"]}
    print(f"  {what:<34} {time.monotonic() - started:5.1f} s  {compare.brief(result)} "
          f"{_brief_burst(result)}", file=sys.stderr, flush=True)  # fmt: skip
    return result


def _brief_burst(r: dict[str, Any]) -> str:
    keys = ("up_s", "seen_s", "cpu_a", "cpu_b", "disconnects", "duplicated", "reordered")
    return " ".join(f"{k}={r[k]:,.3g}" for k in keys if isinstance(r.get(k), int | float))


def main() -> int:
    parser = compare.parser_for(__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 s of load")
    parser.add_argument("--only", help="comma-separated: fanout,pm,paced,burst")
    parser.add_argument(
        "--servers",
        default="miniircd,ngircd,inspircd",
        help="any of miniircd,ngircd,inspircd (default: all installed)",
    )
    parser.add_argument("--topologies", default="1,2,3", help="server counts: 1,2,3")
    parser.add_argument("--duration", type=float, help="seconds of measured load (default 5)")
    parser.add_argument("--warmup", type=float, help="seconds of load before measuring (1)")
    parser.add_argument("--workers", type=int, default=4, help="load generator processes")
    args = parser.parse_args()
    args.duration = args.duration or (1.0 if args.quick else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.3 if args.quick else 1.0)
    raise_fd_limit()
    os.sched_setaffinity(0, compare.GEN_CPUS)
    kinds = [k for k in args.servers.split(",") if _installed(k)]
    scenarios = scenario_table(args.quick)
    if args.only:
        scenarios = {k: v for k, v in scenarios.items() if k in args.only.split(",")}
    columns = [Column(kind, int(n)) for kind in kinds for n in args.topologies.split(",")]
    results: dict[str, dict[str, dict[str, Any]]] = {c.label: {} for c in columns}
    bursts: dict[str, dict[str, Any]] = {}
    for name, spec in scenarios.items():
        if spec["kind"] == "burst":
            for kind in kinds:
                bursts[kind] = _attempt(
                    f"{name} {kind}", functools.partial(run_burst, kind, spec, args)
                )
            continue
        for column in columns:
            results[column.label][name] = _attempt(
                f"{name} {column.label}", functools.partial(run_load, column, spec, args)
            )
    output = [f"Measured {compare.machine()}.",
              f"One run per figure; {args.duration:g} s of load after {args.warmup:g} s of "
              f"warm-up; every server on CPU {compare.SERVER_CPU}, {args.workers} generator "
              f"processes on CPU {','.join(map(str, compare.GEN_CPUS))}. CPU is the sum of "
              f"the servers' over the window.", ""]  # fmt: skip
    loads = {k: v for k, v in scenarios.items() if v["kind"] != "burst"}
    if loads:
        table = compare.render(columns, loads, results, rows=load_rows(loads))  # type: ignore[arg-type]
        output += [table, ""]
    if "burst" in scenarios:
        output += [render_burst(kinds, scenarios["burst"], bursts), ""]
    print("\n".join(output))
    return 0


def _installed(kind: str) -> bool:
    if kind == "miniircd" or shutil.which(kind) or shutil.which(kind, path="/usr/sbin"):
        return True
    print(f"{kind} is not installed: skipped", file=sys.stderr)
    return False


if __name__ == "__main__":
    sys.exit(main())
