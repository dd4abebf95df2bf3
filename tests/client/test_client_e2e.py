"""The real client in a pseudo-terminal against a real server: the spec's sixteen operations.

`miniircd-client` runs as a child process on a pty (so readline is really in use), typed
into like a user would, and its screen is read with a deadline. A second user, bob, is a
raw line client. The operations come in the spec's order (0 connect ... 15 exit); some
come back later where a session needs them (reconnecting, logging in again).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from liveserver import LineClient, LiveServer

DEADLINE = 10.0
# CSI and other escape sequences readline writes (bracketed paste, clear to end of line...).
_ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[()][0-9A-Za-z]|[=>])")


class PtyClient:
    """The client as a child process on a pseudo-terminal."""

    def __init__(self, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        env = {**os.environ, "TERM": "xterm", "INPUTRC": "/dev/null", "TZ": "UTC"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "miniircd.client", *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(slave)
        self.master = master
        self.screen = ""  # everything shown, escape sequences and CRs removed
        self.position = 0  # expect() searches from here

    def _read(self, deadline: float) -> bool:
        """Read what is there (waiting until the deadline); False once the child is gone."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return True
        ready, _, _ = select.select([self.master], [], [], min(remaining, 0.2))
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.screen += _ESCAPES.sub("", data.decode("utf-8", "replace")).replace("\r", "")
        return True

    def expect(self, pattern: str, timeout: float = DEADLINE) -> re.Match[str]:
        """Wait until the screen, from where the last match ended, matches the regex."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.screen, self.position)
            if match:
                self.position = match.end()
                return match
            alive = self._read(deadline)
            if time.monotonic() >= deadline or not alive:
                regex_now = regex.search(self.screen, self.position)
                if regex_now:
                    continue
                raise AssertionError(
                    f"{pattern!r} not shown after position {self.position}; the screen ends:\n"
                    + self.screen[-3000:]
                )

    def type(self, text: str, enter: bool = True) -> None:
        os.write(self.master, text.encode() + (b"\r" if enter else b""))

    def command(self, text: str, *expected: str) -> None:
        """Type a line, then wait for each expected pattern in turn."""
        self.type(text)
        for pattern in expected:
            self.expect(pattern)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(DEADLINE)
        os.close(self.master)


def wait_until_gone(watcher: LineClient, nick: str) -> None:
    """Ask ISON until the server no longer has `nick` online."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        watcher.send(f"ISON {nick}")
        if watcher.expect(r" 303 ").endswith(" :"):
            return
        time.sleep(0.05)
    raise AssertionError(f"{nick} is still online")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path)
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.mark.timeout(60)
def test_the_sixteen_operations_in_a_terminal(server: LiveServer) -> None:
    started = time.monotonic()
    here = f"127.0.0.1:{server.port}"
    bob = server.client("bob")
    client = PtyClient("--nick", "guest4242")
    try:
        client.expect(r"\(not connected\)> ")
        client.command("/join #lobby", r"! Not connected; use /connect")

        # 0. connect (and the error for connecting twice)
        connected = rf"\* Connected to {here} as guest4242 \(not logged in\)"
        client.command(f"/connect {here}", connected)
        client.expect(r"\(guest\)> ")
        client.command(f"/connect {here}", rf"! Already connected to {here}")

        # 1. disconnect (and the error for disconnecting twice)
        client.command("/disconnect", rf"\* Disconnected from {here}")
        client.command("/disconnect", r"! Not connected")
        client.command(f"/connect {here}", r"\* Connected to")

        # 2. create a user: errors, then alice; creating logs in
        client.command("/register alice short", r"! Invalid password: use 8 to 128 characters")
        client.command("/register 9lives secretpw1", r"! Invalid user name '9lives'")
        client.command("/register alice secretpw1", r"\* Created user alice; you are logged in")
        client.expect(r"alice> ")
        client.command("/register alice2 secretpw1", r"! You are already logged in as alice")

        # Alice leaves; bob writes to her while she is away.
        client.command("/disconnect", r"\* Disconnected")
        wait_until_gone(bob, "alice")
        bob.send("PRIVMSG alice :are you there?")
        assert "will be delivered when they log in" in bob.expect(r"NOTICE bob :alice is offline")
        client.command(f"/connect {here}", r"\* Connected to")

        # 3. log in: a wrong password, then the right one; the unread message is shown
        client.command("/login alice wrongpass", r"! Login failed: wrong user name or password")
        client.command("/login alice secretpw1", r"\* Logged in as alice")
        client.expect(r"\[PM from bob\] are you there\?")
        client.expect(r"alice> ")

        # 4. log out, and the error for logging out twice; then log in again
        client.command("/logout", r"\* Logged out", r"\(guest\)> ")
        client.command("/logout", r"! You are not logged in")
        client.command("/login alice secretpw1", r"\* Logged in as alice", r"alice> ")

        # 5. create rooms
        client.command("/create #lobby", r"\* Created #lobby; you are in it now", r"alice #lobby> ")
        client.command("/create #lobby", r"! Room #lobby already exists")
        client.command("/create #games", r"\* Created #games", r"alice #games> ")
        bob.send("JOIN #news", "PRIVMSG #news :news of the day")
        bob.expect(" 366 bob #news ")

        # 6. list the rooms
        client.command("/rooms", r"\* 3 room\(s\):", r"#games  1 member \(you are in it\)",
                       r"#lobby  1 member \(you are in it\)", r"#news  1 member\n")  # fmt: skip

        # 7. join: a room that does not exist, then #news (with its recent messages)
        client.command("/join #nowhere", r"! No room named #nowhere; create it with /create")
        client.command("/join #news", r"\* You joined #news \(2 members: @bob alice\)")
        client.expect(r"#news <bob> news of the day")
        client.command("/join #news", r"! You are already in #news")

        # 8. leave a room, and the error for a room one is not in
        client.command("/leave #games", r"\* You left #games")
        client.command("/leave #games", r"! You are not in #games")

        # 9. switch rooms
        client.command("/switch #games", r"! You are not in #games; /join it first")
        client.command("/switch #lobby", r"\* Now talking in #lobby", r"alice #lobby> ")

        # 10. send messages to rooms: the current one, then two at once
        bob.send("JOIN #lobby")
        client.expect(r"#lobby -- bob joined")
        client.command("hello lobby", r"#lobby <alice> hello lobby")
        bob.expect(r"PRIVMSG #lobby :hello lobby")
        client.command("/send #lobby,#news hello both", r"#news <alice> hello both")
        bob.expect(r"PRIVMSG #news :hello both")
        client.command("/send #lobby", r"! The message is empty")

        # A message arriving while alice types is printed above her half-typed line.
        client.type("half typ", enter=False)
        client.expect(r"alice #lobby> half typ")
        bob.send("PRIVMSG #lobby :interrupting")
        client.expect(r"#lobby <bob> interrupting\nalice #lobby> half typ")
        client.command("ed line", r"#lobby <alice> half typed line")
        bob.expect(r"PRIVMSG #lobby :half typed line")

        # 11. the room's history
        client.command("/history 10", r"\* History of #lobby:", r"#lobby <alice> hello lobby",
                       r"#lobby <alice> hello both", r"#lobby <bob> interrupting",
                       r"#lobby <alice> half typed line",
                       r"\* End of history of #lobby \(4 messages\)")  # fmt: skip

        # 12. the room's members
        client.command("/members", r"\* 2 members in #lobby: @alice bob")

        # 13. personal messages: to nobody, to bob, and from bob
        client.command("/msg nobody hi", r"! No user named nobody; the message was not delivered")
        client.command("/msg bob hi bob", r"\[PM to bob\] hi bob")
        bob.expect(r":alice!\S+ PRIVMSG bob :hi bob")
        bob.send("PRIVMSG alice :hi alice")
        client.expect(r"\[PM from bob\] hi alice")

        # 14. the inbox
        client.command("/inbox", r"\* Your inbox:", r"\[PM from bob\] are you there\?",
                       r"\[PM from bob\] hi alice",
                       r"\* End of your inbox \(2 messages\)")  # fmt: skip

        # 15. exit
        client.command("/exit", r"\* Bye")
        assert client.proc.wait(DEADLINE) == 0
        assert "QUIT" in bob.expect(r":alice!\S+ QUIT")
    finally:
        client.close()
        with contextlib.suppress(OSError):
            bob.close()
    assert time.monotonic() - started < 45


def test_help_flag_runs_without_a_terminal() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "miniircd.client", "--help"],
        capture_output=True, text=True, timeout=DEADLINE, check=False,
    )  # fmt: skip
    assert result.returncode == 0
    assert "usage: miniircd-client" in result.stdout and "--insecure" in result.stdout


def test_piped_commands_run_in_order(server: LiveServer) -> None:
    """Without a terminal the client reads commands line by line (no prompt, no readline)."""
    script = f"/connect 127.0.0.1:{server.port}\n/rooms\n/create #piped\n/members\n"
    result = subprocess.run(
        [sys.executable, "-m", "miniircd.client"],
        input=script, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "* No rooms yet; create one with /create #room" in lines
    assert "* Created #piped; you are in it now" in lines
    assert lines[-2:] == ["* 1 member in #piped: @" + lines[-2].split("@")[-1], "* Bye"]
