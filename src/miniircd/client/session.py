"""`ClientSession`: the whole client without any I/O, in the way h11 is HTTP without sockets.

Commands in, IRC lines out; IRC lines in, display events out::

    session = ClientSession(nick="guest1234")
    session.command("/connect irc.example:6667")   # -> [Info(...), Connect(...)]
    session.connected()                             # -> [Send("CAP LS 302"), Send("NICK ..."), ...]
    session.receive(":irc.example 001 guest1234 :Welcome")  # -> events and replies (PONG, ...)

Every call returns a list of outputs (see `events.py`): `Send` lines for the server, display
events, and `Connect`/`Close`/`Quit` requests for the front. The front (`terminal.py`) owns
the socket, the clock and the screen, and tells the session when the connection opens,
fails or drops. The user commands are in `commands.py`, the handling of server lines in
`replies.py` and `messages.py`, the state they share in `state.py`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from miniircd.client import commands, replies
from miniircd.client.events import Error, Info, Output, Send
from miniircd.client.state import ClientState, Phase
from miniircd.protocol.message import ParseError, parse

__all__ = ["ClientSession", "guest_nick"]

REAL_NAME = "miniircd client"


def guest_nick() -> str:
    """The nick used until the user logs in."""
    return f"guest{random.randrange(1000, 10000)}"


class ClientSession:
    def __init__(self, nick: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.state = ClientState(nick or guest_nick(), clock)

    # --- the user ------------------------------------------------------------------------

    def command(self, text: str) -> list[Output]:
        """A line the user typed (a /command, or text for the current room)."""
        return commands.run(self.state, text)

    # --- the connection ------------------------------------------------------------------

    def connected(self) -> list[Output]:
        """The connection asked for by `Connect` is open: register with the server."""
        nick = self.state.nick
        return [Send("CAP LS 302"), Send(f"NICK {nick}"), Send(f"USER {nick} 0 * :{REAL_NAME}")]

    def connection_failed(self, reason: str) -> list[Output]:
        server = self.state.server
        self.state.reset()
        return [Error(f"Could not connect to {server}: {reason}")]

    def connection_lost(self, reason: str = "") -> list[Output]:
        """The server closed the connection (nothing happens if we had already closed it)."""
        if self.state.phase is Phase.DISCONNECTED:
            return []
        server = self.state.server
        self.state.reset()
        return [Error(f"Disconnected from {server}" + (f": {reason}" if reason else ""))]

    def receive(self, line: str) -> list[Output]:
        """One line from the server, without its line ending."""
        if self.state.phase is Phase.DISCONNECTED:
            return []
        try:
            message = parse(line)
        except ParseError:
            return []
        return replies.dispatch(self.state, message)

    # --- for the front -------------------------------------------------------------------

    def prompt(self) -> str:
        return self.state.prompt()

    def mark(self) -> int:
        """A point in time for `waiting()`: take it before `command()`."""
        return self.state.seq

    def waiting(self, mark: int) -> bool:
        """Whether a reply to a command given after `mark` is still awaited."""
        return any(op.seq > mark for op in self.state.pending)

    def completions(self) -> list[str]:
        """Words worth completing with Tab: the commands and the rooms we know."""
        names = [f"/{name}" for name in commands.COMMANDS if name != "say"]
        rooms = [*self.state.joined.values(), *(r.name for r in self.state.rooms.values())]
        return names + list(dict.fromkeys(rooms))

    @property
    def connected_to(self) -> str | None:
        return self.state.server if self.state.phase is not Phase.DISCONNECTED else None

    @property
    def nick(self) -> str:
        return self.state.nick

    @property
    def account(self) -> str | None:
        return self.state.account

    @property
    def current_room(self) -> str | None:
        return self.state.current

    @property
    def rooms(self) -> list[str]:
        return list(self.state.joined.values())

    def welcome(self) -> list[Output]:
        return [Info("miniircd client. /help lists the commands; /connect host[:port] to start.")]
