"""Run the load scenarios against miniircd and, when installed, ngIRCd, InspIRCd and the
PyPI miniircd.

Prints one Markdown table (medians of --reps runs; every run on a fresh server), then the
goals of docs/performance.md, met or not, each with its ratio to the C servers:
  fanout  500 clients in one channel, 10 of them sending flat out: deliveries/s, lost
  pm      500 pairs messaging each other flat out: messages/s, lost
  paced   1,000 clients in 100 channels, 10,000 messages/s in all: latency p50/p99/max
  paced2k the same at 2,000 messages/s: server CPU per delivered message
  memory  1,000 and 10,000 clients connected and registered: RSS, bytes per connection
  storm   1,000 and 5,000 clients connecting at once: time until all registered, failures,
          SYN drops (TcpExtListenDrops/ListenOverflows from /proc/net/netstat, as nstat)
The server runs on CPU 0 (taskset -c 0), the load generator (bench/loadgen.py) on CPU 1.
Our server runs with its defaults (history and accounts on: every channel message is
stored in SQLite) plus bench/unlimited.toml (no flood control, no connection caps);
ngIRCd gets its limits lifted as far as its config allows (see NGIRCD_CONF) and its
senders become operators with user mode +F (relaxed flood protection); InspIRCd gets
fakelag off, huge send/receive queues, and senders that are operators with
users/flood/no-throttle (INSPIRCD_CONF).

Usage:
  python bench/compare.py                     # everything, 3 runs each (about 15 minutes)
  python bench/compare.py --quick             # small sizes, 1 run, 2 s of load: a smoke test
  python bench/compare.py --only fanout,pm    # some scenarios
  python bench/compare.py --scaling --charts docs/charts   # also: cost vs rate and clients
  python bench/compare.py --commits HEAD~1 HEAD   # our server at two commits (git worktrees)
  python bench/compare.py --against 1234abc   # that commit against this work tree
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import charts
import loadgen

from common import cpu_seconds, raise_fd_limit, rss_kib

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SERVER_CPU = "0"
GEN_CPUS = {1}
OLD_VENV = Path("/tmp/oldminiircd")

NGIRCD_CONF = """\
[Global]
	Name = {name}
	Info = benchmark
	Listen = {host}
	Ports = {port}
	MotdPhrase = bench
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 0
	MaxNickLength = 30
	MaxPenaltyTime = 0
	PingTimeout = 600
	PongTimeout = 600
[Options]
	DNS = no
	Ident = no
	PAM = no
	IncludeDir = {dir}/conf.d
[Operator]
	Name = bench
	Password = benchpass
"""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class Target:
    """A server under test: started fresh for every run, pinned to SERVER_CPU.

    `host` and `name` are its address and server name; `extra` is more of its
    configuration (bench/linked.py puts the links to other servers there)."""

    label = "server"
    sender_setup: tuple[str, ...] = ()
    setup_concurrency = loadgen.SETUP_CONCURRENCY

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.host = "127.0.0.1"
        self.name = "bench.test"
        self.extra = ""
        self.port = 0
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.notes: list[str] = []

    def command(self, tmp: Path) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def start(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-server-")
        tmp = Path(self.tmp.name)
        argv, env = self.command(tmp)
        log = open(tmp / "server.log", "wb")  # noqa: SIM115 - the child holds it
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *argv], stdout=log, stderr=log, cwd=tmp,
            env={**os.environ, **env}, preexec_fn=raise_fd_limit,
        )  # fmt: skip
        log.close()
        self.port = self.wait_ready(tmp / "server.log")

    def wait_ready(self, log: Path) -> int:
        """Wait until the port takes connections."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            self._check_alive(log)
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port)):
                return self.port
            time.sleep(0.05)
        raise TimeoutError(f"{self.label} did not start")

    def _check_alive(self, log: Path) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = log.read_text(errors="replace")[-600:]
            raise RuntimeError(f"{self.label} exited at start: {tail}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_kib(self) -> int:
        return rss_kib(self.proc.pid) if self.proc else 0

    def cpu_s(self) -> float:
        return cpu_seconds(self.proc.pid) if self.proc else 0.0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.tmp is not None:
            self.tmp.cleanup()
            self.tmp = None

    def version(self) -> str:
        return self.label


class Miniircd(Target):
    """Our server from a source tree, with bench/unlimited.toml cut to the keys it knows."""

    def __init__(self, label: str, src: Path, compiled: bool = False) -> None:
        super().__init__()
        self.label = label
        self.src = src
        self.compiled = compiled
        # the compiled build is installed in a venv of its own; the plain one runs from src
        self.python = compiled_build(src.parent) if compiled else sys.executable
        self.config_text: str | None = None
        self._prepare_config()

    def _env(self) -> dict[str, str]:
        return {} if self.compiled else {"PYTHONPATH": str(self.src)}

    def _run_python(self, code: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.python, "-c", code, *args], env={**os.environ, **self._env()},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def _prepare_config(self) -> None:
        """Keep the unlimited.toml keys this tree's config.SECTIONS has (an older commit may
        not know them all) and check the result with the tree's own validation."""
        helps = self._run_python("from miniircd import cli; cli.build_parser().print_help()")
        if "--config" not in helps.stdout:
            self.notes.append("no --config flag: limits left at their defaults")
            return
        sections = self._run_python(
            "import json; from miniircd import config; "
            "print(json.dumps({k: sorted(v) for k, v in getattr(config, 'SECTIONS', {}).items()}))"
        )
        known: dict[str, list[str]] = json.loads(sections.stdout or "{}")
        wanted = tomllib.loads((BENCH / "unlimited.toml").read_text())
        kept = {
            section: {key: value for key, value in table.items() if key in known.get(section, [])}
            for section, table in wanted.items()
        }
        dropped = [
            f"{section}.{key}"
            for section, table in wanted.items()
            for key in table
            if key not in kept[section]
        ]
        kept = {section: table for section, table in kept.items() if table}  # no empty [x]
        if dropped:
            self.notes.append("unknown here, left out: " + ", ".join(dropped))
        check = (
            "import sys; from pathlib import Path; from miniircd import config as c\n"
            "try:\n"
            "    c.validate(c.Config().replace(**c.from_toml(Path(sys.argv[1]))))\n"
            "except c.ConfigError as e:\n"
            "    print(e)\n"
        )
        text = to_toml(kept)
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as handle:
            handle.write(text)
        try:
            error = self._run_python(check, handle.name).stdout.strip()
        finally:
            os.unlink(handle.name)
        if not error:
            self.config_text = text
            return
        self.notes.append(f"config refused ({error}); limits left at their defaults")

    def command(self, tmp: Path) -> tuple[list[str], dict[str, str]]:
        argv = [self.python, "-m", "miniircd", "--host", self.host, "--port", "0",
                "--data-dir", str(tmp / "data"), "--server-name", self.name]  # fmt: skip
        if self.config_text is not None or self.extra:
            (tmp / "unlimited.toml").write_text((self.config_text or "") + self.extra)
            argv += ["--config", str(tmp / "unlimited.toml")]
        return argv, self._env()

    def wait_ready(self, log: Path) -> int:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = re.search(rb"listening on %s:(\d+)" % re.escape(self.host.encode()),
                              log.read_bytes())  # fmt: skip
            if found:
                self.port = int(found.group(1))
                return super().wait_ready(log)
            self._check_alive(log)
            time.sleep(0.05)
        raise TimeoutError(f"{self.label} did not start")

    def version(self) -> str:
        described = subprocess.run(
            ["git", "-C", str(self.src), "describe", "--always", "--dirty"],
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        build = "compiled with mypyc" if self.compiled else "plain Python"
        return f"{self.label} (git {described or '?'}, {build})"


def compiled_build(tree: Path) -> str:
    """The python of a venv holding `tree`'s compiled build (setup.py, MINIIRCD_COMPILE=1),
    made once per content of the tree's tracked files and kept in /tmp."""
    files = subprocess.run(["git", "-C", str(tree), "ls-files", "-z"], check=True,
                           capture_output=True).stdout.split(b"\0")  # fmt: skip
    digest = hashlib.sha256()
    for name in sorted(f for f in files if f):
        path = tree / name.decode()
        if path.is_file():
            digest.update(name + b"\0" + path.read_bytes())
    venv = Path(tempfile.gettempdir()) / f"miniircd-compiled-{digest.hexdigest()[:12]}"
    python = venv / "bin" / "python"
    if not (venv / "ok").exists():
        print(f"building the compiled miniircd in {venv} (a minute or two)", file=sys.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(tree)], check=True,
                       env={**os.environ, "MINIIRCD_COMPILE": "1"})  # fmt: skip
        (venv / "ok").touch()
    return str(python)


class Ngircd(Target):
    label = "ngircd"
    sender_setup = ("OPER bench benchpass", "MODE {nick} +F")

    def __init__(self, binary: str) -> None:
        super().__init__()
        self.binary = binary

    def command(self, tmp: Path) -> tuple[list[str], dict[str, str]]:
        self.port = free_port(self.host)
        (tmp / "conf.d").mkdir()
        (tmp / "conf.d" / "extra.conf").write_text(self.extra)
        (tmp / "ngircd.conf").write_text(
            NGIRCD_CONF.format(port=self.port, dir=tmp, name=self.name, host=self.host)
        )
        return [self.binary, "-n", "-f", str(tmp / "ngircd.conf")], {}

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0].split("-")[0] if out else "ngIRCd"


INSPIRCD_CONF = """\
<server name="{name}" description="benchmark" network="bench">
<admin name="bench" nick="bench" email="bench@bench.test">
<bind address="{host}" port="{port}" type="clients">
<connect allow="*" timeout="600" pingfreq="600" threshold="1000000" commandrate="1000000000"
         fakelag="no" hardsendq="67108864" softsendq="67108864" recvq="67108864"
         localmax="100000" globalmax="100000" maxconnwarn="no" limit="100000"
         maxchans="1000" resolvehostnames="no" useident="no">
<class name="bench" commands="*" privs="users/flood/no-throttle users/flood/increased-buffers"
       usermodes="*" chanmodes="*">
<type name="bench" classes="bench">
<oper name="bench" password="benchpass" host="*@*" type="bench">
<performance somaxconn="4096" softlimit="100000" clonesonconnect="no" quietbursts="yes">
<limits maxnick="30" maxchan="64">
<pid file="{dir}/inspircd.pid">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="{dir}/ircd.log">
"""


class Inspircd(Target):
    label = "inspircd"
    sender_setup = ("OPER bench benchpass",)  # opers with users/flood/no-throttle
    # InspIRCd completes registrations on its once-a-second timer, by design: with a few
    # in flight at a time, setting up 10,000 clients would take over 20 minutes.
    setup_concurrency = 256

    def __init__(self, binary: str) -> None:
        super().__init__()
        self.binary = binary

    def command(self, tmp: Path) -> tuple[list[str], dict[str, str]]:
        self.port = free_port(self.host)
        conf = INSPIRCD_CONF.format(port=self.port, dir=tmp, name=self.name, host=self.host)
        (tmp / "inspircd.conf").write_text(conf + self.extra)
        return [self.binary, "--nofork", "--runasroot", f"--config={tmp / 'inspircd.conf'}"], {}

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True).stdout
        return out.strip().split("-debian")[0] or "InspIRCd"


class OldMiniircd(Target):
    label = "miniircd-pypi"

    def command(self, tmp: Path) -> tuple[list[str], dict[str, str]]:
        self.port = free_port()
        argv = [str(OLD_VENV / "bin" / "python"), str(OLD_VENV / "bin" / "miniircd"),
                "--listen", "127.0.0.1", "--ports", str(self.port)]  # fmt: skip
        if os.geteuid() == 0:
            argv += ["--setuid", "root"]  # it refuses to run as root otherwise
        return argv, {}

    def version(self) -> str:
        out = subprocess.run(
            [str(OLD_VENV / "bin" / "python"), "-m", "pip", "show", "miniircd"],
            capture_output=True, text=True,
        ).stdout  # fmt: skip
        found = re.search(r"Version: (\S+)", out)
        return f"miniircd {found.group(1) if found else '?'} (PyPI)"


def to_toml(tables: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, table in tables.items():
        lines.append(f"[{section}]")
        for key, value in table.items():
            lines.append(f"{key} = {json.dumps(value)}")  # ints and booleans only
    return "\n".join(lines) + "\n"


# -- scenarios -------------------------------------------------------------------------------


def scenario_table(quick: bool) -> dict[str, dict[str, Any]]:
    if quick:
        return {
            "fanout": {"kind": "fanout", "clients": 100, "senders": 10},
            "pm": {"kind": "pm", "pairs": 100},
            "paced": {"kind": "paced", "clients": 200, "channels": 20, "rate": 2000},
            "paced2k": {"kind": "paced", "clients": 200, "channels": 20, "rate": 400},
            "memory1k": {"kind": "memory", "clients": 200},
            "memory": {"kind": "memory", "clients": 1000},
            "storm1k": {"kind": "storm", "clients": 500},
            "storm5k": {"kind": "storm", "clients": 1000},
        }
    return {
        "fanout": {"kind": "fanout", "clients": 500, "senders": 10},
        "pm": {"kind": "pm", "pairs": 500},
        "paced": {"kind": "paced", "clients": 1000, "channels": 100, "rate": 10_000},
        "paced2k": {"kind": "paced", "clients": 1000, "channels": 100, "rate": 2000},
        "memory1k": {"kind": "memory", "clients": 1000},
        "memory": {"kind": "memory", "clients": 10_000},
        "storm1k": {"kind": "storm", "clients": 1000},
        "storm5k": {"kind": "storm", "clients": 5000},
        # the descriptor limit here is 20,000: leave room for the server's own files
        "memory20k": {"kind": "memory", "clients": 19_900},
    }


RATES = (1000, 2000, 5000, 10_000, 15_000, 20_000)
CLIENTS = (1000, 2000, 5000, 10_000, 19_900)  # the descriptor limit here is 20,000
CLIENTS_RATE = 5000  # msg/s offered in the clients sweep; 10 clients to a channel


def scaling_table(quick: bool) -> dict[str, dict[str, Any]]:
    """How cost grows: the offered rate (1,000 clients in 100 channels) and the number of
    clients (at CLIENTS_RATE msg/s, 10 to a channel). --charts draws both."""
    k = 10 if quick else 1
    table: dict[str, dict[str, Any]] = {}
    for rate in RATES:
        table[f"rate-{rate}"] = {
            "kind": "paced", "clients": 1000 // k, "channels": 100 // k, "rate": rate // k
        }  # fmt: skip
    for clients in CLIENTS:
        table[f"clients-{clients}"] = {
            "kind": "paced", "clients": clients // k, "channels": clients // 10 // k,
            "rate": CLIENTS_RATE // k,
        }  # fmt: skip
    return table


def run_once(target: Target, spec: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    target.start()
    try:
        with loadgen.LoadGen(
            target.port, workers=args.workers, cpus=GEN_CPUS,
            setup_concurrency=target.setup_concurrency,
        ) as gen:
            result = _run_scenario(gen, target, spec, args)
            result["server_alive"] = target.alive()
            result["rss_end_kib"] = target.rss_kib()
            gen.close()
        return result
    finally:
        target.stop()


def _run_scenario(
    gen: loadgen.LoadGen, target: Target, spec: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    kind = spec["kind"]
    if kind == "memory":
        return loadgen.memory(gen, spec["clients"], target.rss_kib)
    if kind == "storm":
        return loadgen.storm(gen, spec["clients"])
    cpu: dict[str, float] = {}

    def probe(label: str) -> None:
        cpu[label] = target.cpu_s()

    timing = {"duration": args.duration, "warmup": args.warmup, "probe": probe}
    setup = target.sender_setup
    if kind == "fanout":
        result = loadgen.fanout(gen, spec["clients"], spec["senders"], setup, **timing)
    elif kind == "pm":
        result = loadgen.private(gen, spec["pairs"], setup, **timing)
    else:
        result = loadgen.paced(
            gen, spec["clients"], spec["channels"], spec["rate"], setup, **timing
        )
    result["server_cpu"] = (cpu.get("end", 0) - cpu.get("warm", 0)) / args.duration
    return result


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per numeric field, the median over the runs that have it."""
    merged: dict[str, Any] = {"runs": len(runs)}
    keys = {key for run in runs for key in run}
    for key in keys:
        values = [run[key] for run in runs if isinstance(run.get(key), int | float)]
        values = [v for v in values if not isinstance(v, bool)]
        if values:
            merged[key] = statistics.median(values)
    merged["errors"] = [run.get("errors") for run in runs if run.get("errors")]
    merged["failures"] = [run["error"] for run in runs if "error" in run]
    merged["server_died"] = any(run.get("server_alive") is False for run in runs)
    return merged


def run_all(
    targets: list[Target], scenarios: dict[str, dict[str, Any]], args: argparse.Namespace
) -> dict[str, dict[str, dict[str, Any]]]:
    results: dict[str, dict[str, dict[str, Any]]] = {t.label: {} for t in targets}
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {t.label: {} for t in targets}
    for name, spec in scenarios.items():
        for target in targets:
            runs = []
            for rep in range(args.reps):
                started = time.monotonic()
                try:
                    run = run_once(target, spec, args)
                except Exception as exc:  # a server that crashes is a result, not a stop
                    run = {"error": f"{type(exc).__name__}: {exc}"}
                runs.append(run)
                print(f"  {name:<14} {target.label:<16} run {rep + 1}/{args.reps} "
                      f"{time.monotonic() - started:5.1f} s  {brief(run)}",
                      file=sys.stderr, flush=True)  # fmt: skip
            raw[target.label][name] = runs
            results[target.label][name] = median_of(runs)
    if args.json:
        with open(args.json, "a") as handle:
            json.dump({"scenarios": scenarios, "raw": raw}, handle, default=str)
            handle.write("\n")
    return results


def brief(run: dict[str, Any]) -> str:
    if "error" in run:
        return "ERROR " + run["error"][:100]
    parts = []
    keys = ("delivered_per_s", "p50", "p99", "lost", "server_cpu", "gen_cpu", "bytes_per_conn",
            "registered", "all_registered_s", "listen_overflows")  # fmt: skip
    for key in keys:
        value = run.get(key)
        if isinstance(value, float):
            parts.append(f"{key}={value:,.3g}")
        elif value is not None:
            parts.append(f"{key}={value}")
    return " ".join(parts)


# -- the table -------------------------------------------------------------------------------


def num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def cpu_cell(r: dict[str, Any]) -> str:
    server, gen = r.get("server_cpu"), r.get("gen_cpu")
    cell = f"{pct(server)} / {pct(gen)}"
    if server is not None and gen is not None and gen > 0.9 and server < 0.85:
        cell += " (generator-bound)"
    return cell


Row = tuple[str, str, Callable[[dict[str, Any]], str], Callable[[dict[str, Any]], Any]]


def _none(r: dict[str, Any]) -> None:
    return None


def cpu_per_delivery_us(r: dict[str, Any]) -> float | None:
    """Server CPU time per message delivered to a client, in microseconds."""
    cpu, delivered = r.get("server_cpu"), r.get("delivered_per_s")
    return cpu / delivered * 1e6 if cpu and delivered else None


def load_rows(name: str, title: str, throughput: str) -> list[Row]:
    return [
        (f"{title}: {throughput}", name, lambda r: num(r.get("delivered_per_s")),
         lambda r: r.get("delivered_per_s")),
        (f"{title}: lost / duplicated / reordered / disconnected", name,
         lambda r: f"{num(r.get('lost'))} / {num(r.get('duplicated'))} / "
                   f"{num(r.get('reordered'))} / {num(r.get('disconnects'))}", _none),
        (f"{title}: CPU server / generator", name, cpu_cell, lambda r: r.get("server_cpu")),
        (f"{title}: server CPU per delivery µs", name,
         lambda r: num(cpu_per_delivery_us(r), 2), cpu_per_delivery_us),
    ]  # fmt: skip


def rows_for(scenarios: dict[str, dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    for name, spec in scenarios.items():
        kind = spec["kind"]
        if kind == "fanout":
            title = f"Fan-out, {spec['clients']} in 1 channel, {spec['senders']} senders"
            rows += load_rows(name, title, "deliveries/s")
        elif kind == "pm":
            rows += load_rows(name, f"Private, {spec['pairs']} pairs", "messages/s")
        elif kind == "paced":
            title = (f"Paced, {spec['clients']} clients / {spec['channels']} channels "
                     f"at {spec['rate']:,} msg/s")  # fmt: skip
            rows += [
                (f"{title}: sent / delivered per s", name,
                 lambda r: f"{num(r.get('sent_per_s'))} / {num(r.get('delivered_per_s'))}",
                 _none),
                (f"{title}: latency p50 / p99 / max ms", name,
                 lambda r: f"{num(r.get('p50'), 2)} / {num(r.get('p99'), 2)} / "
                           f"{num(r.get('max'), 1)}", lambda r: r.get("p50")),
            ]  # fmt: skip
            rows += load_rows(name, title, "deliveries/s")[1:]
        elif kind == "memory":
            title = f"{spec['clients']:,} registered clients"
            rows += [
                (f"{title}: RSS idle → loaded MiB", name,
                 lambda r: f"{num(_mib(r.get('rss_before_kib')), 1)} → "
                           f"{num(_mib(r.get('rss_after_kib')), 1)}",
                 lambda r: r.get("rss_after_kib")),
                (f"{title}: bytes per connection", name,
                 lambda r: num(r.get("bytes_per_conn")), lambda r: r.get("bytes_per_conn")),
                (f"{title}: registered / failed", name,
                 lambda r: f"{num(r.get('registered'))} / {num(r.get('failed'))}", _none),
            ]  # fmt: skip
        elif kind == "storm":
            title = f"{spec['clients']:,} connecting at once"
            rows += [
                (f"{title}: all registered after s", name, _storm_time,
                 lambda r: r.get("all_registered_s")),
                (f"{title}: failed", name, lambda r: num(r.get("failed")), _none),
                (f"{title}: ListenDrops / ListenOverflows", name,
                 lambda r: f"{num(r.get('listen_drops'))} / {num(r.get('listen_overflows'))}",
                 _none),
            ]  # fmt: skip
    return rows


def _mib(kib: float | None) -> float | None:
    return None if kib is None else kib / 1024


def _storm_time(r: dict[str, Any]) -> str:
    if r.get("failed"):
        return f"not all (last after {num(r.get('last_registered_s'), 2)})"
    return num(r.get("all_registered_s"), 2)


def render(
    targets: list[Target],
    scenarios: dict[str, dict[str, Any]],
    results: dict[str, dict[str, dict[str, Any]]],
    ratio: bool = False,
    rows: list[Row] | None = None,
) -> str:
    """The table; with `ratio` (--against, --commits) a last column: last / first target.
    `rows` (default `rows_for(scenarios)`) are its rows; `targets` need only a `label`."""
    head = "| scenario · metric | " + " | ".join(t.label for t in targets)
    head += f" | {targets[-1].label} / {targets[0].label} |" if ratio else " |"
    lines = [head, "|" + " --- |" * (len(targets) + 1 + ratio)]
    for title, name, cell, figure in rows if rows is not None else rows_for(scenarios):
        cells = []
        for target in targets:
            r = results[target.label].get(name)
            if r is None:
                cells.append("")
            elif "delivered_per_s" not in r and "registered" not in r and r.get("failures"):
                cells.append("failed: " + r["failures"][0][:60])
            else:
                text = cell(r)
                if r.get("server_died"):
                    text += " (server died)"
                cells.append(text)
        if ratio:
            before, after = (figure(results[t.label].get(name) or {})
                             for t in (targets[0], targets[-1]))  # fmt: skip
            cells.append(f"{after / before:.2f} x" if before and after is not None else "")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_goals(results: dict[str, dict[str, dict[str, Any]]], ours: str) -> str:
    """The goals of docs/performance.md, each met or not, with its ratio, from one run
    beside InspIRCd and ngIRCd."""
    us, insp, ng = (results.get(label, {}) for label in (ours, "inspircd", "ngircd"))

    def get(side: dict[str, dict[str, Any]], name: str, key: str) -> float | None:
        value = side.get(name, {}).get(key)
        return float(value) if isinstance(value, int | float) else None

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:.2f} x" if a is not None and b else "n/a"

    rows: list[tuple[str, bool | None, str]] = []

    def goal(title: str, check: Callable[..., bool], figures: str, *values: float | None) -> None:
        known = all(value is not None for value in values)
        rows.append((title, check(*values) if known else None, figures))

    pm, pm_i = get(us, "pm", "delivered_per_s"), get(insp, "pm", "delivered_per_s")
    goal("private messages/s ≥ InspIRCd's", lambda a, b: a >= b,
         f"{num(pm)} / {num(pm_i)} = {ratio(pm, pm_i)}", pm, pm_i)
    p50, p99, cpu = (get(us, "paced", key) for key in ("p50", "p99", "server_cpu"))
    p99_i = get(insp, "paced", "p99")
    goal("10,000 msg/s: p50 < 1 ms, p99 ≤ InspIRCd's, server CPU < 80 %",
         lambda a, b, c, d: a < 1 and b <= d and c < 0.8,
         f"p50 {num(p50, 2)} ms; p99 {num(p99, 2)} / {num(p99_i, 2)} ms = "
         f"{ratio(p99, p99_i)}; CPU {pct(cpu)}", p50, p99, cpu, p99_i)
    per, per_i = (cpu_per_delivery_us(side.get("paced2k", {})) for side in (us, insp))
    goal("2,000 msg/s: server CPU per delivery ≤ InspIRCd's x 1.5", lambda a, b: a <= 1.5 * b,
         f"{num(per, 2)} / {num(per_i, 2)} µs = {ratio(per, per_i)}", per, per_i)
    fan = get(us, "fanout", "delivered_per_s")
    others = [get(side, "fanout", "delivered_per_s") for side in (insp, ng)]
    best = max((v for v in others if v is not None), default=None)
    goal("fan-out deliveries/s above both", lambda a, b: a > b,
         f"{num(fan)} / {num(best)} = {ratio(fan, best)}", fan, best)
    mem, mem_n = get(us, "memory", "bytes_per_conn"), get(ng, "memory", "bytes_per_conn")
    goal("bytes per connection (10,000 clients) ≤ ngIRCd's", lambda a, b: a <= b,
         f"{num(mem)} / {num(mem_n)} B = {ratio(mem, mem_n)}", mem, mem_n)
    rss = [_mib(get(side, "memory1k", "rss_after_kib")) for side in (us, insp, ng)]
    goal("RSS with 1,000 clients < 16 MiB", lambda a: a < 16,
         f"{num(rss[0], 1)} MiB (InspIRCd {num(rss[1], 1)}, ngIRCd {num(rss[2], 1)})", rss[0])
    lines = ["| goal | status | figures |", "| --- | --- | --- |"]
    for title, met, figures in rows:
        status = "n/a" if met is None else ("**met**" if met else "not met")
        lines.append(f"| {title} | {status} | {figures} |")
    return "\n".join(lines)


def machine() -> str:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{now}; {os.cpu_count()} CPUs ({model}); Linux {platform.release()}; "
            f"Python {platform.python_version()}")  # fmt: skip


@contextlib.contextmanager
def worktrees(commits: list[str]) -> Any:
    """Check each commit out into a temporary git worktree; remove them afterwards."""
    base = Path(tempfile.mkdtemp(prefix="bench-worktrees-"))
    made = []
    try:
        for index, commit in enumerate(commits):
            path = base / f"{index}-{re.sub(r'[^A-Za-z0-9_.-]', '_', commit)}"
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), commit],
                check=True, capture_output=True,
            )  # fmt: skip
            made.append(path)
        yield made
    finally:
        for path in made:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
                           capture_output=True)  # fmt: skip
        subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def available_targets(names: list[str]) -> list[Target]:
    targets: list[Target] = []
    for name in names:
        if name == "miniircd":
            targets.append(Miniircd("miniircd", REPO / "src"))
        elif name == "ngircd":
            binary = shutil.which("ngircd") or shutil.which("ngircd", path="/usr/sbin")
            if binary:
                targets.append(Ngircd(binary))
            else:
                print("ngircd is not installed (apt-get install ngircd): skipped", file=sys.stderr)
        elif name == "inspircd":
            binary = shutil.which("inspircd") or shutil.which("inspircd", path="/usr/sbin")
            if binary:
                targets.append(Inspircd(binary))
            else:
                print("inspircd is not installed (apt-get install inspircd): skipped",
                      file=sys.stderr)  # fmt: skip
        elif name == "pypi":
            if (OLD_VENV / "bin" / "miniircd").exists():
                targets.append(OldMiniircd())
            else:
                print(f"no {OLD_VENV}: PyPI miniircd skipped", file=sys.stderr)
    return targets


def parser_for(doc: str) -> argparse.ArgumentParser:
    """An argument parser showing a script's docstring: its first paragraph, then the rest."""
    return argparse.ArgumentParser(
        description=doc.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=doc.split("\n\n", 1)[1],
    )  # fmt: skip


def main() -> int:
    parser = parser_for(__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 run, 2 s of load")
    parser.add_argument("--only", help="comma-separated: fanout,pm,paced,memory,storm")
    parser.add_argument("--servers", default="miniircd,ngircd,inspircd,pypi",
                        help="any of miniircd,ngircd,inspircd,pypi (default: all installed)")
    parser.add_argument("--commits", nargs=2, metavar=("A", "B"),
                        help="compare our server at two commits instead")  # fmt: skip
    parser.add_argument("--against", metavar="COMMIT",
                        help="compare our server at COMMIT with this work tree (a regression "
                             "check: the last column is this tree / COMMIT)")  # fmt: skip
    parser.add_argument("--compiled", action="store_true",
                        help="also run this tree's compiled build (setup.py, mypyc)")
    parser.add_argument("--charts", metavar="DIR",
                        help="with --scaling: draw its results as SVG charts into DIR")
    parser.add_argument("--scaling", action="store_true", help="also print the scaling table")
    parser.add_argument("--no-main", action="store_true", help="only the scaling table")
    parser.add_argument("--reps", type=int, help="runs per figure (default 3, --quick 1)")
    parser.add_argument("--duration", type=float, help="seconds of measured load (default 10)")
    parser.add_argument("--warmup", type=float, help="seconds of load before measuring (1)")
    parser.add_argument("--workers", type=int, default=4, help="load generator processes")
    parser.add_argument("--json", help="append the raw results of every run to this file")
    args = parser.parse_args()
    args.reps = args.reps or (1 if args.quick else 3)
    args.duration = args.duration or (2.0 if args.quick else 10.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 1.0)
    raise_fd_limit()
    os.sched_setaffinity(0, GEN_CPUS)  # keep this process off the server's core

    scenarios = scenario_table(args.quick)
    if args.only:
        wanted = args.only.split(",")
        scenarios = {
            name: spec for name, spec in scenarios.items()
            if name in wanted or spec["kind"] in wanted
        }  # fmt: skip
    with contextlib.ExitStack() as stack:
        if args.commits:
            trees = stack.enter_context(worktrees(args.commits))
            targets: list[Target] = [
                Miniircd(f"miniircd@{commit}", tree / "src")
                for commit, tree in zip(args.commits, trees, strict=True)
            ]
        elif args.against:
            (tree,) = stack.enter_context(worktrees([args.against]))
            targets = [Miniircd(f"miniircd@{args.against}", tree / "src"),
                       Miniircd("miniircd (this tree)", REPO / "src")]  # fmt: skip
        else:
            targets = available_targets(args.servers.split(","))
        if args.compiled:  # after the plain build; last with --against, for its ratio
            targets.insert(len(targets) if args.against else 1,
                           Miniircd("miniircd compiled", REPO / "src", compiled=True))  # fmt: skip
        print(f"# {machine()}", file=sys.stderr)
        header = [f"Measured {machine()}.",
                  "Servers: " + "; ".join(t.version() for t in targets) + "."]  # fmt: skip
        for target in targets:
            header += [f"{target.label}: {note}." for note in target.notes]
        header.append(
            f"Medians of {args.reps} run(s); {args.duration:g} s of load after "
            f"{args.warmup:g} s of warm-up; server on CPU {SERVER_CPU}, "
            f"{args.workers} generator processes on CPU {','.join(map(str, GEN_CPUS))}."
        )
        output = ["\n".join(header), ""]
        if not args.no_main:
            results = run_all(targets, scenarios, args)
            two = bool(args.commits or args.against)
            output += [render(targets, scenarios, results, ratio=two), ""]
            for target in targets if not two else []:
                if isinstance(target, Miniircd):
                    output += [f"Goals, {target.label}:", "",
                               render_goals(results, target.label), ""]  # fmt: skip
        if args.scaling:
            sweep = scaling_table(args.quick)
            results = run_all(targets, sweep, args)
            output += ["Scaling:", "", render_scaling(targets, sweep, results), ""]
            if args.charts:
                written = charts.draw(Path(args.charts), targets, sweep, results)
                output += ["Charts: " + ", ".join(str(path) for path in written), ""]
    print("\n".join(output))
    return 0


def render_scaling(
    targets: list[Target],
    sweep: dict[str, dict[str, Any]],
    results: dict[str, dict[str, dict[str, Any]]],
) -> str:
    """One row per sweep point (all paced): what each server delivered, at what latency
    and CPU, and whether anything went missing."""
    head = "| clients / channels / msg/s | " + " | ".join(t.label for t in targets) + " |"
    lines = [head, "|" + " --- |" * (len(targets) + 1)]
    for name, spec in sweep.items():
        title = f"{spec['clients']:,} / {spec['channels']:,} / {spec['rate']:,}"
        cells = []
        for target in targets:
            r = results[target.label].get(name, {})
            cell = (f"{num(r.get('delivered_per_s'))}/s, {num(r.get('p50'), 2)} / "
                    f"{num(r.get('p99'), 1)} ms, CPU {cpu_cell(r)}")  # fmt: skip
            missing = [f"{r[key]:,.0f} {key}" for key in ("lost", "duplicated", "reordered")
                       if r.get(key)]  # fmt: skip
            if missing or r.get("disconnects"):
                cell += " (" + ", ".join([*missing, f"{num(r.get('disconnects'))} cut"]) + ")"
            if r.get("server_died"):
                cell += " (server died)"
            cells.append(cell)
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
