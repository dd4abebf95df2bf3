"""Work the event loop must not do itself, such as scrypt hashing.

A handler calls `jobs.defer(server, session, work, then)`: `work` is a pure function the network
layer runs on a worker thread; when it is done the loop hands the job back through
`Server.finish_job`, which calls `then(result)` on the loop, if the session still exists.
If `work` raised, the job keeps the exception as `error` instead of a result, and
`then` is never called: the client gets the 400 a failed command gets (with `verb`, the
command that started the job), and the log gets the traceback.
While a session has a job outstanding (`Session.busy`), its registration and its later
lines wait (core.flood), so a client's replies come in the order it sent its lines.
Work done for another server (a login the services hub checks for a user of a leaf,
core.s2s_services) has no session: nothing waits on it here, and its continuation runs
unless it raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from miniircd.core.session import Session

if TYPE_CHECKING:
    from miniircd.core.server import Server

T = TypeVar("T")


class Job(Generic[T]):
    __slots__ = ("error", "result", "session", "then", "verb", "work")

    def __init__(
        self, session: Session | None, work: Callable[[], T], then: Callable[[T], None]
    ) -> None:
        self.session = session
        self.work = work
        self.then = then
        self.verb = "*"  # the command that started the job, set by dispatch.guarded
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """On a worker thread: compute the result, or keep what `work` raised (with its
        traceback) for the loop to report; touches no server state."""
        try:
            self.result = self.work()
        except Exception as exc:
            self.error = exc


def defer(
    server: Server, session: Session | None, work: Callable[[], T], then: Callable[[T], None]
) -> None:
    """Have `work` run off the loop, then `then(result)` on it; until then the session's
    later lines wait (`Session.busy`)."""
    if session is not None:
        session.busy += 1
    server.jobs.append(Job(session, work, then))
