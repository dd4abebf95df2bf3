"""When a client's next line may run: one client's lines in order, at a fair rate.

Two things hold a line back, and both queue it in the session's `backlog`, in arrival order:
- **Work off the loop.** While a session waits on a job (`Session.busy`: a password check,
  a REHASH), its later lines wait too, so replies come in the order the lines were sent.
- **Flood control** in the style of "fakelag": a token bucket per session. Each line costs
  one token; a session holds at most `flood_burst` tokens and gains `flood_rate` a second.
  A line that finds no token is not dropped but waits for one, so a fast client is slowed
  down rather than cut off. PONG costs no token (it only proves the client is alive), and
  operators are exempt. The lines inside a client's open `draft/multiline` batch pass
  free, so that a batch is never held back half-way; when the batch ends they are charged
  all at once (`charge`), and the client's next lines wait until the bucket refills.

Once a session has a backlog, every later line joins it behind the others. A backlog
longer than `flood_backlog` lines disconnects the client ("Excess Flood"), whichever of
the two reasons holds it, so a client that keeps sending while it waits holds bounded
memory. `FloodControl` only decides; the server handles the lines it releases.
"""

from __future__ import annotations

from collections import deque

from miniircd.config import Config
from miniircd.core.session import Session


class FloodControl:
    __slots__ = ("backlog_max", "burst", "enabled", "held", "rate")

    def __init__(self, config: Config) -> None:
        self.held: set[Session] = set()  # sessions with a backlog
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

    def _free(self, session: Session, raw: bytes) -> bool:
        """Whether `raw` may run without a token."""
        return (
            not self.enabled
            or "o" in session.modes
            or raw.startswith((b"PONG", b"pong"))
            or (session.multiline is not None and not session.multiline.failed and _batched(raw))
        )

    def _take_token(self, session: Session, raw: bytes, now: float) -> bool:
        if self._free(session, raw):
            return True
        self._refill(session, now)
        if session.flood_tokens >= 1:
            session.flood_tokens -= 1
            return True
        return False

    def charge(self, session: Session, lines: int, now: float) -> None:
        """Take the tokens of `lines` lines that came in free (a multiline batch's); the
        bucket may go below zero, and the session's next lines wait until it refills."""
        if self.enabled and "o" not in session.modes:
            self._refill(session, now)
            session.flood_tokens -= lines

    def admit(self, session: Session, raw: bytes, now: float) -> bool | None:
        """True: handle the line now. False: it was queued. None: the session must go."""
        if session.backlog is None and not session.busy and self._take_token(session, raw, now):
            return True
        if session.backlog is None:
            session.backlog = deque()
            self.held.add(session)
        session.backlog.append(raw)
        return None if len(session.backlog) > self.backlog_max else False

    def next_line(self, session: Session, now: float) -> bytes | None:
        """The session's next queued line if it may run now (taking its token), else None.
        A session whose backlog is used up is forgotten."""
        backlog = session.backlog
        if backlog is None or session.busy:
            return None
        ready = bool(backlog) and self._take_token(session, backlog[0], now)
        line = backlog.popleft() if ready else None
        if not backlog:
            self.forget(session)
        return line

    def ready(self) -> list[Session]:
        """The sessions with a backlog that no job holds up, for `next_line`."""
        return [session for session in self.held if not session.busy]

    def next_due(self, now: float) -> float | None:
        """Seconds until a queued line may run, or None if only a job can release one."""
        waits = [
            0.0 if self._free(s, s.backlog[0]) else max(0.0, (1 - s.flood_tokens) / self.rate)
            for s in self.held
            if not s.busy and s.backlog
        ]
        return min(waits, default=None)

    def forget(self, session: Session) -> None:
        session.backlog = None
        self.held.discard(session)


def _batched(raw: bytes) -> bool:
    """Whether the line's tags name a batch: a line of the open multiline batch. Its end
    (`BATCH -<ref>`, or a line outside it) pays as any line does."""
    return raw.startswith(b"@") and b"batch=" in raw.split(b" ", 1)[0]
