"""The soak test's parent process: the server, the workers, the phases, the measurements.

It owns one run of bench/soak.py from its parsed arguments: start the server (DEBUG log,
flood control on, `registration_timeout` 20 s, the per-IP cap raised) and register the
decoy accounts, fork the workers with their `Plan`, wait for every honest client to join,
send the load, stop and drain commands, sample the server's RSS and CPU every 10 s, PING
it from a new client at the end, stop it, and hand everything to the ledger's `merge` and
the report.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait as wait_pipes
from pathlib import Path
from typing import Any

from soak_abuse import DECOY_PASSWORD, DECOYS
from soak_ledger import merge
from soak_plan import NS, Plan
from soak_report import build_report, print_report, read_server_log
from soak_worker import worker_main
from sockloop import fork_workers

from common import ServerProcess, proc_status, raise_fd_limit

SAMPLE_EVERY = 10.0


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
    pipes, procs = fork_workers(args.workers, worker_main, plan)
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
