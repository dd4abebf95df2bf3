"""Work the event loop must not do itself, such as scrypt hashing.

A handler calls `Server.defer(session, work, then)`: `work` is a pure function the network
layer runs on a worker thread; when it is done the loop hands the job back through
`Server.finish_job`, which calls `then(result)` on the loop, if the session still exists.
While a session has a job outstanding (`Session.busy`), its registration and its later
lines wait (core.flood), so a client's replies come in the order it sent its lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from miniircd.core.session import Session

T = TypeVar("T")


class Job(Generic[T]):
    __slots__ = ("result", "session", "then", "work")

    def __init__(self, session: Session, work: Callable[[], T], then: Callable[[T], None]) -> None:
        self.session = session
        self.work = work
        self.then = then
        self.result: Any = None

    def run(self) -> None:
        """On a worker thread: compute the result; touches no server state."""
        self.result = self.work()
