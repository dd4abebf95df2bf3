"""Shared pieces of the benchmarks: start a server on a free port, talk IRC with asyncio."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class ServerProcess:
    """`python -m miniircd` on 127.0.0.1 with a fresh data dir; the port is read from its log."""

    def __init__(self, *args: str) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="miniircd-bench-")
        self.log_path = Path(self.tmp.name) / "server.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "miniircd", "--host", "127.0.0.1", "--port", "0",
             "--data-dir", str(Path(self.tmp.name) / "data"), "--server-name", "bench.test",
             *args],
            stdout=self.log, stderr=self.log,
        )  # fmt: skip
        self.port = self._wait_for_port()

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = re.search(rb"listening on 127\.0\.0\.1:(\d+)", self.log_path.read_bytes())
            if found:
                return int(found.group(1))
            time.sleep(0.02)
        raise TimeoutError("server did not start")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()
        self.tmp.cleanup()


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
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
