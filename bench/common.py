"""Shared pieces of the benchmarks: start a server on a free port, talk IRC with asyncio."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class ServerProcess:
    """`python -m miniircd` on 127.0.0.1 with a fresh data dir; the port is read from its log.

    `tmp` is the folder for the data dir and the log (default: a temporary one, removed by
    `stop`); with `pin` the server runs on CPU 0 (`taskset -c 0`) when there is taskset."""

    def __init__(
        self, *args: str, tmp: Path | None = None, pin: bool = False, name: str = "bench.test"
    ) -> None:
        self._own_tmp = None if tmp else tempfile.TemporaryDirectory(prefix="miniircd-bench-")
        self.tmp = tmp or Path(self._own_tmp.name)  # type: ignore[union-attr]
        self.log_path = self.tmp / "server.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "miniircd", "--host", "127.0.0.1", "--port", "0",
               "--data-dir", str(self.tmp / "data"), "--server-name", name,
               "--web-port", "0", *args]  # fmt: skip
        taskset = shutil.which("taskset")
        if pin and taskset:
            cmd = [taskset, "-c", "0", *cmd]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, cwd=self.tmp)
        self.pid = self.proc.pid
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = re.search(rb"listening on 127\.0\.0\.1:(\d+)", self.log_path.read_bytes())
            if found:
                return int(found.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"server did not start; see {self.log_path}")

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def cpu_s(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it has not exited within 20 s; the exit code (None if
        it had to be killed)."""
        code: int | None = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        else:
            code = self.proc.returncode
        self.log.close()
        if self._own_tmp is not None:
            self._own_tmp.cleanup()
        return code


def proc_status(pid: int) -> dict[str, int]:
    """The kB figures of /proc/<pid>/status (VmRSS, RssAnon, ...); empty once it is gone."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if value.endswith(" kB"):
                found[name] = int(value.split()[0])
    return found


def rss_kib(pid: int) -> int:
    return proc_status(pid).get("VmRSS", 0)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_fd_limit(want: int = 200_000) -> int:
    """Raise RLIMIT_NOFILE as far as allowed (root may raise the hard limit too)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limits in ((max(soft, want), max(hard, want)), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> Client:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        return cls(reader, writer)

    def send(self, *lines: str) -> None:
        self.writer.write(b"".join(line.encode() + b"\r\n" for line in lines))

    async def expect(self, pattern: str, timeout: float = 30) -> str:
        regex = re.compile(pattern)
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.reader.readline()
                if not raw:
                    raise ConnectionError(f"closed while waiting for {pattern!r}")
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if regex.search(line):
                    return line

    async def register(self, nick: str) -> None:
        self.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}")
        await self.expect(r" (376|422) ")

    def close(self) -> None:
        self.writer.close()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
