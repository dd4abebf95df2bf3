"""The socket loop the load generators share (bench/loadgen.py and the soak test).

It owns the bytes and the processes: many non-blocking client sockets in one `selectors`
(epoll) loop per worker process, the control pipe from the parent in the same loop, and
the forking of those workers (`fork_workers`). A `Loop` connects (`dial`), queues and
writes (`send`, `flush`: one `send` per socket per turn, write interest only while there
is something to write or a connect is in progress), reads into one preallocated buffer
per process (`recv_into`), cuts the stream at the last LF and closes.

What the bytes mean is the subclass's: it gets the complete lines of each read through
`received`, a link that broke through `broken`, the parent's messages through
`command`, and a turn of its own after every `select` through `step`.
"""

from __future__ import annotations

import errno
import multiprocessing
import selectors
import socket
import time
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar

READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE


class Link:
    """One client socket and its buffers; `sock` is None while it is closed."""

    __slots__ = ("connected", "interest", "out", "reading", "sock", "tail")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.out = bytearray()  # queued, not yet written
        self.tail = b""  # read, not yet ended by a LF
        self.connected = False
        self.reading = True  # False: the loop stops reading it (the server's queue fills)
        self.interest = 0  # the events the selector watches it for; 0: not registered


L = TypeVar("L", bound=Link)


class Loop(Generic[L]):
    """One worker process's event loop over its links and its control pipe."""

    def __init__(self, ctl: Pipe, addr: tuple[str, int], recv_size: int) -> None:
        self.ctl = ctl
        self.addr = addr
        self.sel = selectors.DefaultSelector()
        self.sel.register(ctl.fileno(), READ, None)
        self.buf = bytearray(recv_size)
        self.view = memoryview(self.buf)
        self.done = False  # set by the subclass to leave `run`

    # -- what the subclass provides -----------------------------------------------------------

    def timeout(self) -> float | None:
        """How long the next `select` may wait (None: until something happens)."""
        raise NotImplementedError

    def command(self) -> bool:
        """Read and act on one message from the parent; False leaves `run` at once."""
        raise NotImplementedError

    def step(self, now: int) -> None:
        """The subclass's turn after every `select` (`now`: monotonic ns)."""
        raise NotImplementedError

    def received(self, link: L, data: bytes, cut: int) -> None:
        """`data[:cut]` is one or more complete lines (the last one ends with LF)."""
        raise NotImplementedError

    def broken(self, link: L, stage: str, why: str) -> None:
        """The link failed and is still open: `stage` is connect, send, recv or eof (the
        server closed it; `why` is empty then), `why` the errno name."""
        raise NotImplementedError

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        while not self.done:
            for key, mask in self.sel.select(self.timeout()):
                link = key.data
                if link is None:
                    if not self.command():
                        return
                    continue
                if mask & WRITE:
                    self.on_writable(link)
                if mask & READ and link.sock is key.fileobj:
                    self.on_readable(link)
            self.step(time.monotonic_ns())

    # -- sockets -------------------------------------------------------------------------------

    def dial(
        self,
        link: L,
        first: bytes,
        src_ip: str | None = None,
        rcvbuf: int = 0,
        addr: tuple[str, int] | None = None,
    ) -> str | None:
        """Start a non-blocking connect for `link` (closed) to `addr` (default: the loop's)
        with `first` queued for when it is up; None, or the errno name of why it could not
        start (the link stays closed)."""
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        except OSError as exc:
            return errno.errorcode.get(exc.errno or 0, str(exc))
        sock.setblocking(False)
        try:
            if rcvbuf:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            if src_ip:
                sock.bind((src_ip, 0))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            code = sock.connect_ex(addr or self.addr)
        except OSError as exc:
            sock.close()
            return errno.errorcode.get(exc.errno or 0, str(exc))
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            return errno.errorcode.get(code, str(code))
        link.sock = sock
        link.connected = False
        link.reading = True
        link.out = bytearray(first)
        link.tail = b""
        link.interest = 0
        self.update_interest(link)
        return None

    def update_interest(self, link: L) -> None:
        """Watch for reads while `reading`, for writes while there is output or a connect."""
        sock = link.sock
        if sock is None:
            return
        want = (READ if link.reading else 0) | (WRITE if link.out or not link.connected else 0)
        if want == link.interest:
            return
        if link.interest == 0:
            self.sel.register(sock, want, link)
        elif want == 0:
            self.sel.unregister(sock)
        else:
            self.sel.modify(sock, want, link)
        link.interest = want

    def send(self, link: L, data: bytes) -> None:
        if link.sock is not None:
            link.out += data
            self.flush(link)

    def flush(self, link: L) -> None:
        """Write what the kernel takes now; the rest waits for the socket to be writable."""
        sock = link.sock
        if sock is None:
            return
        if link.out and link.connected:
            try:
                sent = sock.send(link.out)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as exc:
                self.broken(link, "send", errno.errorcode.get(exc.errno or 0, str(exc)))
                return
            del link.out[:sent]
        self.update_interest(link)

    def on_writable(self, link: L) -> None:
        sock = link.sock
        if sock is None:
            return
        if not link.connected:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self.broken(link, "connect", errno.errorcode.get(err, str(err)))
                return
            link.connected = True
        self.flush(link)

    def on_readable(self, link: L) -> None:
        sock = link.sock
        assert sock is not None  # `run` calls it only for the link's current socket
        try:
            n = sock.recv_into(self.buf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.broken(link, "recv", errno.errorcode.get(exc.errno or 0, str(exc)))
            return
        if n == 0:
            self.broken(link, "eof", "")
            return
        data = link.tail + self.view[:n]
        cut = data.rfind(b"\n") + 1
        link.tail = data[cut:] if cut < len(data) else b""
        if cut:
            self.received(link, data, cut)

    def close(self, link: L) -> bool:
        """Close the link's socket; False if it was not open."""
        sock = link.sock
        if sock is None:
            return False
        if link.interest:
            self.sel.unregister(sock)
        sock.close()
        link.sock = None
        link.interest = 0
        return True


def fork_workers(
    count: int, target: Callable[..., None], *args: Any
) -> tuple[list[Pipe], list[BaseProcess]]:
    """Fork `count` daemon processes, worker i running `target(i, its end of a pipe,
    *args)`; the parent's ends of the pipes and the processes."""
    ctx = multiprocessing.get_context("fork")
    pipes: list[Pipe] = []
    procs: list[BaseProcess] = []
    for wid in range(count):
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=target, args=(wid, theirs, *args), daemon=True)
        proc.start()
        theirs.close()  # the worker's end: the parent reads EOF once the worker is gone
        pipes.append(mine)
        procs.append(proc)
    return pipes, procs
