"""A real miniircd process on an ephemeral loopback port, and a line-based test client.

Every wait has a deadline; nothing sleeps for a fixed time. The server's log goes to a
file in the test's temp dir so a full pipe can never stall it.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

DEADLINE = 10.0
SERVER_NAME = "irc.test"


def rss_kib(pid: int) -> int:
    """A process's resident memory in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def inject_fault(directory: Path, code: str) -> dict[str, str]:
    """The environment for a server that runs `code` at start-up, as a `sitecustomize`
    module: how the tests put a bug where no client input can."""
    inject = directory / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(code)
    return {"PYTHONPATH": str(inject)}


def unlimited_config(directory: Path, more: str = "") -> Path:
    """A config file that turns flood control off, for tests whose point is a flood;
    `more` is appended (TOML)."""
    path = directory / "unlimited.toml"
    path.write_text("[flood]\nenabled = false\n" + more)
    return path


class LiveServer:
    running: set[LiveServer] = set()  # stopped after every test by conftest's fixture

    def __init__(
        self, tmp_path: Path, *extra_args: str, host: str = "127.0.0.1", name: str = SERVER_NAME
    ) -> None:
        """A server on `host` (its own 127.0.0.x in a test network) named `name`."""
        self.host = host
        self.name = name
        self.tmp_path = tmp_path
        self.data_dir = tmp_path / "data"
        self.log_path = tmp_path / "server.log"
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.web_port = 0  # the web page's port; 0 if the server serves none
        self._offset = 0  # where this run's lines start in the log

    def start(self, *extra_args: str) -> None:
        args = [
            sys.executable, "-m", "miniircd", "--host", self.host, "--port", "0",
            "--data-dir", str(self.data_dir), "--server-name", self.name, "--web-port", "0",
            *self.extra_args, *extra_args,
        ]  # fmt: skip
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        offset = self._offset = self._log.tell()  # a restart appends to the same log
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=self._log)
        LiveServer.running.add(self)
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            written = self.log_path.read_bytes()[offset:]
            where = re.escape(self.host.encode())
            match = re.search(rb"listening on " + where + rb":(\d+)", written)
            if match:
                self.port = int(match.group(1))
                web = re.search(rb"web page on http://127\.0\.0\.1:(\d+)", written)
                self.web_port = int(web.group(1)) if web else 0
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()}")
            time.sleep(0.02)
        raise TimeoutError("server did not start listening")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def tls_port(self) -> int:
        """The TLS listener's port, from its log line (logged right after the plain one)."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            written = self.log_path.read_bytes()[self._offset :]
            match = re.search(rb"listening on 127\.0\.0\.1:(\d+) \(TLS\)", written)
            if match:
                return int(match.group(1))
            time.sleep(0.02)
        raise TimeoutError("no TLS listener in the log")

    def alive(self) -> bool:
        """The server process is running (started and not yet exited)."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, wait; SIGKILL if it does not exit. Returns the exit code."""
        if self.proc is None:
            return None
        code = self.proc.poll()
        if code is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                code = self.proc.wait(DEADLINE)
        self._log.close()
        self.proc = None
        LiveServer.running.discard(self)
        return code

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(DEADLINE)
        self._log.close()
        self.proc = None
        LiveServer.running.discard(self)

    def client(self, nick: str | None = None) -> LineClient:
        """A connected client; registered as `nick` when one is given."""
        client = LineClient(self.port, self.host)
        if nick is not None:
            client.register(nick)
        return client


class LineClient:
    def __init__(
        self, port: int, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
    ) -> None:
        """Connect; with `tls`, also complete a TLS handshake checked against "localhost"."""
        self.sock = socket.create_connection((host, port), timeout=DEADLINE)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname="localhost")
        self.buffer = b""
        self.seen: list[str] = []

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, *lines: str) -> None:
        self.sock.sendall(b"".join(line.encode() + b"\r\n" for line in lines))

    def read_line(self, deadline: float) -> str | None:
        """The next line, or None when the server closed the connection."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no line in time; seen: {self.seen[-20:]}")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\n", 1)
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        self.seen.append(line)
        return line

    def expect(self, pattern: str, timeout: float = DEADLINE) -> str:
        """Read until a line matches the regex; return it."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            line = self.read_line(deadline)
            if line is None:
                seen = self.seen[-20:]
                raise ConnectionError(f"closed while waiting for {pattern!r}; seen {seen}")
            if regex.search(line):
                return line

    def cap_ls(self, timeout: float = DEADLINE) -> list[str]:
        """The capabilities of a `CAP LS` reply, over as many lines as it takes (all but
        the last have `*` before the list)."""
        tokens: list[str] = []
        while True:
            head, _, caps = self.expect(r" CAP \S+ LS ", timeout).partition(" :")
            tokens += caps.split()
            if not head.endswith(" *"):
                return tokens

    def lines_until(self, pattern: str, timeout: float = DEADLINE) -> list[str]:
        """Every line up to and including the first that matches."""
        start = len(self.seen)
        self.expect(pattern, timeout)
        return self.seen[start:]

    def expect_closed(self, timeout: float = DEADLINE) -> list[str]:
        """Read until the server closes the connection; return the lines read."""
        deadline = time.monotonic() + timeout
        start = len(self.seen)
        while self.read_line(deadline) is not None:
            pass
        return self.seen[start:]

    def register(self, nick: str, user: str | None = None) -> list[str]:
        self.send(f"NICK {nick}", f"USER {user or nick} 0 * :{nick}")
        return self.lines_until(r" (376|422) ")

    def close(self) -> None:
        self.sock.close()


def sasl_login_works(port: int, account: str, password: str) -> bool:
    """Whether a new connection can log in to `account` with SASL PLAIN (903, not 904)."""
    client = LineClient(port)
    try:
        payload = base64.b64encode(f"\0{account}\0{password}".encode()).decode()
        client.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        client.expect("^AUTHENTICATE")
        client.send(f"AUTHENTICATE {payload}")
        return " 903 " in client.expect(" 90[34] ")
    finally:
        client.close()


def flood_until_cut(flooder: LineClient, channel: str, quit_line: str, batches: int) -> None:
    """Send `channel` batches of 100 long messages until `flooder` sees `quit_line` (a slow
    reader dropped), checking after each batch that the flooder itself is still served."""
    body = "x" * 400
    for batch in range(batches):  # at most batches * 100 * ~430 bytes
        flooder.send(*(f"PRIVMSG {channel} :{batch} {n} {body}" for n in range(100)))
        flooder.send(f"PING :batch-{batch}")
        flooder.expect(f"PONG .*:batch-{batch}")
        if quit_line in flooder.seen:
            return
    raise AssertionError(f"never seen: {quit_line}")
