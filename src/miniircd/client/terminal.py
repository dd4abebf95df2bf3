"""The terminal front: the socket (plain or TLS), readline, and the screen.

Two threads. The main thread reads the user's lines with readline (line editing, input
history, Tab completion) and hands them to the session. Each connection (`Link`) has a
thread that owns its socket: it waits on the socket and on a wake-up socket pair with
`selectors`, sends the lines queued for it, and hands every line received to the session.
One lock guards the session and the screen. A line that arrives while the user is typing
is printed above the input line: clear the line (`\\r` + `ESC[K`), print, then draw the
prompt and the half-typed text again.

After each command the main thread waits (at most `REPLY_WAIT` seconds) until the server
has answered it, so the next prompt already shows its effect (a login, a new room).
"""

from __future__ import annotations

import contextlib
import queue
import select
import selectors
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from miniircd.client.events import Close, Connect, Output, Quit, Send, format_event
from miniircd.client.session import ClientSession
from miniircd.protocol.message import decode

try:
    import readline
except ImportError:  # pragma: no cover - e.g. Windows: plain input() still works
    readline = None  # type: ignore[assignment]

__all__ = ["Link", "Terminal"]

CONNECT_TIMEOUT = 10.0
REPLY_WAIT = 8.0
CLOSE_WAIT = 2.0
SECRET_COMMANDS = ("/login ", "/register ")


class Link:
    """One connection, driven by its own thread. `send` and `close` may be called anywhere."""

    def __init__(
        self,
        sock: socket.socket,
        on_line: Callable[[Link, str], None],
        on_closed: Callable[[Link, str], None],
    ) -> None:
        self.sock = sock
        self.on_line = on_line
        self.on_closed = on_closed
        self.outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.wake_r, self.wake_w = socket.socketpair()
        self.thread = threading.Thread(target=self._run, name="irc-link", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def send(self, line: str) -> None:
        self.outbox.put(line.encode("utf-8", "replace") + b"\r\n")
        self._wake()

    def close(self) -> None:
        """Send what is queued, then close (waiting briefly for the server to close first)."""
        self.outbox.put(None)
        self._wake()

    def join(self, timeout: float) -> None:
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self.wake_w.send(b"x")

    def _run(self) -> None:
        reason: str | None = ""
        try:
            reason = self._loop()
        except OSError as exc:
            reason = exc.strerror or str(exc)
        finally:
            self._dispose()
        if reason is not None:
            self.on_closed(self, reason)

    def _loop(self) -> str | None:
        """Move bytes both ways until the peer closes ("") or we close (None)."""
        self.sock.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(self.sock, selectors.EVENT_READ)
        selector.register(self.wake_r, selectors.EVENT_READ)
        inbuf = outbuf = b""
        closing = False
        try:
            while True:
                interest = selectors.EVENT_READ | (selectors.EVENT_WRITE if outbuf else 0)
                selector.modify(self.sock, interest)
                # Decrypted TLS data may wait inside the SSL object: read it before sleeping.
                tls_pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0
                ready = {key.fileobj for key, _ in selector.select(0 if tls_pending else None)}
                if self.wake_r in ready:
                    more, closing = self._take_outbox(closing)
                    outbuf += more
                if outbuf:
                    with contextlib.suppress(BlockingIOError, ssl.SSLWantWriteError,
                                             ssl.SSLWantReadError):  # fmt: skip
                        outbuf = outbuf[self.sock.send(outbuf) :]
                if closing and not outbuf:
                    self._linger()
                    return None
                if self.sock in ready or tls_pending:
                    try:
                        data = self.sock.recv(65536)
                    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                        continue  # e.g. a TLS record with no application data
                    if not data:
                        return ""
                    *lines, inbuf = (inbuf + data).split(b"\n")
                    for raw in lines:
                        self.on_line(self, decode(raw.rstrip(b"\r")))
        finally:
            selector.close()

    def _take_outbox(self, closing: bool) -> tuple[bytes, bool]:
        """The queued lines, and whether a close was asked for."""
        self.wake_r.recv(4096)
        chunks: list[bytes] = []
        while True:
            try:
                item = self.outbox.get_nowait()
            except queue.Empty:
                return b"".join(chunks), closing
            if item is None:
                closing = True
            elif not closing:
                chunks.append(item)

    def _linger(self) -> None:
        """After QUIT: let the server close first (so the QUIT is not lost), but not for long."""
        with contextlib.suppress(OSError):
            if not isinstance(self.sock, ssl.SSLSocket):
                self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + CLOSE_WAIT
            while (left := deadline - time.monotonic()) > 0:
                select.select([self.sock], [], [], left)
                try:
                    if not self.sock.recv(65536):
                        return
                except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    continue

    def _dispose(self) -> None:
        for sock in (self.sock, self.wake_r, self.wake_w):
            with contextlib.suppress(OSError):
                sock.close()


def open_socket(action: Connect) -> socket.socket:
    sock = socket.create_connection((action.host, action.port), timeout=CONNECT_TIMEOUT)
    if action.tls:
        context = ssl.create_default_context()
        if action.insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            sock = context.wrap_socket(sock, server_hostname=action.host)
        except BaseException:
            sock.close()
            raise
    return sock


class Terminal:
    def __init__(
        self, session: ClientSession, out: TextIO = sys.stdout, interactive: bool | None = None
    ) -> None:
        self.session = session
        self.out = out
        self.interactive = sys.stdin.isatty() if interactive is None else interactive
        self.lock = threading.RLock()
        self.replied = threading.Condition(self.lock)
        self.link: Link | None = None
        self.old_links: list[Link] = []
        self.reading = False  # the main thread is inside input()
        self.shown_prompt = ""
        self.done = False

    # --- the main thread -----------------------------------------------------------------

    def run(self, first: list[str] | None = None) -> int:
        if self.interactive and readline is not None:
            readline.parse_and_bind("tab: complete")
            readline.set_completer_delims(" ,")
            readline.set_completer(self._complete)
        self.perform(self.session.welcome())
        for text in first or []:
            self.handle(text)
        while not self.done:
            self.handle(self._read())
        for link in [*self.old_links, *([self.link] if self.link else [])]:
            link.join(CLOSE_WAIT + 1)
        return 0

    def _read(self) -> str:
        with self.lock:
            self.shown_prompt = self.session.prompt()
            self.reading = True
        try:
            if not self.interactive:
                line = sys.stdin.readline()
                return line.rstrip("\n") if line else "/exit"
            line = input(self.shown_prompt)
        except (EOFError, KeyboardInterrupt):
            self._write("")
            return "/exit"
        finally:
            with self.lock:
                self.reading = False
        if readline is not None and line.lower().startswith(SECRET_COMMANDS):
            # Keep "/login alice" in the history, never the password.
            last = readline.get_current_history_length() - 1
            if last >= 0:
                readline.replace_history_item(last, " ".join(line.split()[:2]) + " ")
        return line

    def handle(self, text: str) -> None:
        """Run one command and wait until the server has answered it (or REPLY_WAIT)."""
        with self.lock:
            mark = self.session.mark()
            self.perform(self.session.command(text))
            self.replied.wait_for(lambda: not self.session.waiting(mark), REPLY_WAIT)

    def _complete(self, text: str, index: int) -> str | None:
        with self.lock:
            words = self.session.completions()
        matches = [word for word in words if word.lower().startswith(text.lower())]
        return matches[index] + " " if index < len(matches) else None

    # --- outputs, from either thread -----------------------------------------------------

    def perform(self, outputs: list[Output]) -> None:
        with self.lock:
            for output in outputs:
                if isinstance(output, Send):
                    if self.link is not None:
                        self.link.send(output.line)
                elif isinstance(output, Connect):
                    self._connect(output)
                elif isinstance(output, Close):
                    if self.link is not None:
                        self.link.close()
                        self.old_links.append(self.link)
                        self.link = None
                elif isinstance(output, Quit):
                    self.done = True
                else:
                    self._write(format_event(output))

    def _connect(self, action: Connect) -> None:
        try:
            sock = open_socket(action)
        except (OSError, ssl.SSLError) as exc:
            reason = str(exc) if isinstance(exc, ssl.SSLError) else exc.strerror or str(exc)
            self.perform(self.session.connection_failed(reason))
            return
        self.link = Link(sock, self._on_line, self._on_closed)
        self.link.start()
        self.perform(self.session.connected())

    def _write(self, text: str) -> None:
        """Print a line; above the prompt and the half-typed input while the user types."""
        with self.lock:
            if self.reading and self.interactive and readline is not None:
                typed = readline.get_line_buffer()
                self.out.write(f"\r\x1b[K{text}\n{self.shown_prompt}{typed}")
            else:
                self.out.write(text + "\n")
            self.out.flush()

    # --- the link's thread ---------------------------------------------------------------

    def _on_line(self, link: Link, line: str) -> None:
        with self.lock:
            if link is self.link:
                self.perform(self.session.receive(line))
                self.replied.notify_all()

    def _on_closed(self, link: Link, reason: str) -> None:
        with self.lock:
            if link is self.link:
                self.link = None
                self.perform(self.session.connection_lost(reason))
                self.replied.notify_all()
