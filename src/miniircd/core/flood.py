"""Flood control in the style of "fakelag": a token bucket per session.

Each line costs one token; a session holds at most `flood_burst` tokens and gains
`flood_rate` a second. A line that finds no token is not dropped but queued, and runs when
a token is there, so a fast client is slowed down rather than cut off. A client whose
queue grows past `flood_backlog` lines is disconnected ("Excess Flood"). PONG is never
held back (it only proves the client is alive), and operators are exempt.
"""

from __future__ import annotations

from collections import deque

from miniircd.config import Config
from miniircd.core.session import Session


class FloodControl:
    __slots__ = ("backlog_max", "burst", "enabled", "held", "rate")

    def __init__(self, config: Config) -> None:
        self.held: set[Session] = set()  # sessions with queued lines
        self.configure(config)

    def configure(self, config: Config) -> None:
        """Take (new) limits; queued lines stay queued."""
        self.enabled = config.flood_enabled
        self.burst = float(config.flood_burst)
        self.rate = config.flood_rate
        self.backlog_max = config.flood_backlog

    def _refill(self, session: Session, now: float) -> None:
        elapsed = now - session.flood_stamp
        session.flood_stamp = now
        session.flood_tokens = min(self.burst, session.flood_tokens + elapsed * self.rate)

    def admit(self, session: Session, raw: bytes, now: float) -> bool | None:
        """True: handle the line now. False: it was queued. None: the session must go."""
        if not self.enabled or "o" in session.modes or raw.startswith((b"PONG", b"pong")):
            return True
        self._refill(session, now)
        if session.backlog is None and session.flood_tokens >= 1:
            session.flood_tokens -= 1
            return True
        if session.backlog is None:
            session.backlog = deque()
            self.held.add(session)
        session.backlog.append(raw)
        return None if len(session.backlog) > self.backlog_max else False

    def due(self, now: float) -> list[tuple[Session, bytes]]:
        """The queued lines whose turn has come, in order, taking their tokens."""
        ready: list[tuple[Session, bytes]] = []
        for session in list(self.held):
            self._refill(session, now)
            backlog = session.backlog
            assert backlog is not None
            while backlog and session.flood_tokens >= 1:
                session.flood_tokens -= 1
                ready.append((session, backlog.popleft()))
            if not backlog:
                self.forget(session)
        return ready

    def next_due(self, now: float) -> float | None:
        """Seconds until the next queued line may run, or None if nothing is queued."""
        if not self.held:
            return None
        waits = (max(0.0, (1 - s.flood_tokens) / self.rate) for s in self.held)
        return min(waits)

    def forget(self, session: Session) -> None:
        session.backlog = None
        self.held.discard(session)
