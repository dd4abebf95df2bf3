"""Debian's ngIRCd as the hub of a test network, and what the link tests share: free
ports, the configurations of docs/linking.md, a leaf that waits until it is linked.

Each server gets its own 127.0.0.x (all of 127.0.0.0/8 reaches `lo`). ngIRCd runs in the
foreground with its log in the test's temp dir; `NgircdHub.running` is stopped after every
test by conftest's fixture, as `LiveServer.running` is.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from liveserver import DEADLINE, LiveServer

NGIRCD = shutil.which("ngircd") or (
    "/usr/sbin/ngircd" if Path("/usr/sbin/ngircd").exists() else None
)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "linking.md"


def free_port(host: str) -> int:
    """A port nobody listens on at `host` now (bound once, then let go)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def doc_block(marker: str) -> str:
    """The fenced block that follows `<!-- marker: ... -->` in docs/linking.md."""
    text = DOCS.read_text()
    match = re.search(r"<!-- " + marker + r":.*?-->\s*```\w*\n(.*?)```", text, re.S)
    assert match is not None, f"no {marker} block in {DOCS}"
    return match.group(1)


def leaf_block(name: str, password: str = "leaf-to-hub") -> str:
    """A `[Server]` block of the hub for one more leaf."""
    return f"[Server]\n\tName = {name}\n\tMyPassword = {password}\n\tPeerPassword = hub-to-leaf\n"


class NgircdHub:
    running: set[NgircdHub] = set()

    def __init__(self, directory: Path, config: str, host: str = "127.0.0.1") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = free_port(host)
        self.config_path = directory / "ngircd.conf"
        self.config_path.write_text(re.sub(r"Ports = \d+", f"Ports = {self.port}", config))
        self.log_path = directory / "ngircd.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert NGIRCD is not None
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it; closed with it
        offset = log.tell()
        self.proc = subprocess.Popen(
            [NGIRCD, "--nodaemon", "--config", str(self.config_path)], stdout=log, stderr=log
        )
        log.close()
        NgircdHub.running.add(self)
        self.wait_for(rf"Now listening on \[{re.escape(self.host)}\]:{self.port}", offset)

    def wait_for(self, pattern: str, offset: int = 0) -> None:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if re.search(pattern, self.log_path.read_text(errors="replace")[offset:]):
                return
            assert self.proc is not None and self.proc.poll() is None, self.log()
            time.sleep(0.05)
        raise AssertionError(f"ngircd never logged {pattern!r}:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        NgircdHub.running.discard(self)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_leaf(tmp_path: Path, name: str, host: str, hub: NgircdHub, toml: str) -> LiveServer:
    """A miniircd leaf with `toml` as its config file (the hub's port put in), linked."""
    directory = tmp_path / name
    directory.mkdir()
    config = directory / "leaf.toml"
    # the hub's port for the link; the listener's is the command line's (--port 0)
    config.write_text(toml.replace("port = 6667", f"port = {hub.port}"))
    leaf = LiveServer(directory, "--config", str(config), host=host, name=name)
    leaf.start()
    wait_linked(leaf)
    return leaf


def wait_linked(leaf: LiveServer, count: int = 1) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if leaf.log().count("linked with ") >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{leaf.name} never linked:\n{leaf.log()}")
