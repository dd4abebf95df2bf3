"""The bundled client and the sans-IO server core back to back, with no sockets.

As h11's tests wire a client and a server connection together, `Pair` wires
`ClientSession`s (src/miniircd/client/) to one `CoreHarness` (the real `Server` on an
in-memory SQLite store): each line a session would write to its socket goes to
`Server.receive`, each line the core queues for that session goes to the session's
`receive`, and `pump` repeats that (running the core's jobs, password hashing included)
until neither side has anything left to say.

This module owns only that wiring and the user's view of it: `Terminal.type` is a line
the user types, and returns what the client then shows, formatted as the terminal prints
it (times in UTC). What the client and the server say is theirs; nothing here rewrites it.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from harness import CoreClient, CoreHarness
from miniircd.client.events import Close, Connect, Output, Quit, Send, format_event
from miniircd.client.session import ClientSession

__all__ = ["Pair", "Terminal"]

MAX_ROUNDS = 100  # a pump that has not gone quiet by then is a ping-pong bug


class Terminal:
    """One user's client: a `ClientSession`, its link to the core (while connected) and
    the screen, every line it showed."""

    def __init__(self, pair: Pair, nick: str) -> None:
        self.pair = pair
        self.session = ClientSession(nick, clock=lambda: pair.core.clock.now)
        self.link: CoreClient | None = None
        self.screen: list[str] = []
        self.wire: list[str] = []  # "> line" sent to the core, "< line" received from it
        self.unread = 0  # screen[unread:] is what `take` returns next
        self.quit = False

    def type(self, text: str) -> list[str]:
        """The user types `text`: run it, pump, return what this terminal showed since."""
        self.handle(self.session.command(text))
        self.pair.pump()
        return self.take()

    def take(self) -> list[str]:
        """The lines shown since the last `type` or `take` (what arrived meanwhile)."""
        lines, self.unread = self.screen[self.unread :], len(self.screen)
        return lines

    def handle(self, outputs: list[Output]) -> bool:
        """Carry out the session's outputs; True if a line went to the server."""
        sent = False
        for output in outputs:
            if isinstance(output, Send):
                if self.link is not None:  # else the socket is gone: the line is lost
                    self.wire.append(f"> {output.line}")
                    now = self.pair.core.clock.now
                    self.pair.core.server.receive(self.link.session, output.line.encode(), now)
                    sent = True
            elif isinstance(output, Connect):
                self.link = self.pair.core.connect()
                self.handle(self.session.connected())
                sent = True
            elif isinstance(output, Close):
                self.hang_up()
                sent = True  # the core tells the user's peers it quit
            elif isinstance(output, Quit):
                self.quit = True
            else:
                self.screen.append(format_event(output, UTC))
        return sent

    def hang_up(self) -> None:
        """Our end closes the socket: the core sees the connection drop."""
        link, self.link = self.link, None
        if link is not None and not link.closed:
            core = self.pair.core
            core.server.connection_lost(link.session, "Connection closed", core.clock.now)

    def feed(self) -> bool:
        """Hand the session what the core queued for it; True if that made it send."""
        link = self.link
        if link is None:
            return False
        sent = False
        for line in link.take():
            self.wire.append(f"< {line}")
            sent |= self.handle(self.session.receive(line))
        if link.closed and self.link is link:  # the core closed the link after those lines
            self.link = None
            self.handle(self.session.connection_lost())
        return sent


class Pair:
    """Any number of client sessions on one sans-IO server core."""

    def __init__(self, core: CoreHarness | None = None, **config: Any) -> None:
        self.core = core or CoreHarness(**config)
        self.terminals: list[Terminal] = []

    def terminal(self, nick: str | None = None) -> Terminal:
        """A new client, not connected (type `/connect irc.test`); by default its guest
        nick is `guest1000`, `guest1001`... in the order the terminals were made."""
        terminal = Terminal(self, nick or f"guest{1000 + len(self.terminals)}")
        terminal.handle(terminal.session.welcome())
        terminal.take()
        self.terminals.append(terminal)
        return terminal

    def pump(self) -> None:
        """Deliver both ways until neither side has anything left to send."""
        for _ in range(MAX_ROUNDS):
            self.core.deliver()  # jobs run, lines handed out to each link
            sent = [terminal.feed() for terminal in self.terminals]  # every one, no short cut
            if not any(sent):
                return
        raise AssertionError(f"still talking after {MAX_ROUNDS} rounds")

    def tick(self, seconds: float) -> None:
        """Time passes on the server (PINGs, nick grace periods...); pump what follows."""
        self.core.tick(seconds)
        self.pump()
