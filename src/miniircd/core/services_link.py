"""Asking the services hub (docs/linking.md, "Services hub"): on a server whose
`services_hub` names another server, checking a login and creating an account are the
hub's work, against its store (and so are a SASL SCRAM-SHA-256 exchange's record and the
verdict on its proof: core.commands.sasl_scram). This module sends such a request toward
the hub over the tags links (`SVCREQ`, passed on by server name through other miniircd
servers), keeps it in `Server.services_requests` until the hub's `SVCANS` comes back,
then completes the client's command as a job's continuation: the request is a `Job` whose
work is done on the hub, so the session waits meanwhile (`Session.busy`) and its later
lines and its labeled-response answer keep their order (core.jobs, `Server.finish_job`).

A request never hangs: it ends as UNAVAILABLE when no tags link leads to the hub, when
the link it went out on is lost or the hub leaves the network, or after
`services_timeout` seconds. The hub's side, and the passing on, are core.s2s_services.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from miniircd.core.jobs import Job
from miniircd.core.link import Link
from miniircd.core.links import server_line
from miniircd.core.session import Session

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")

REQUEST, ANSWER = "SVCREQ", "SVCANS"
# Answers: OK (with the account's name), DENIED (a wrong account or password), TAKEN (the
# account name is in use), UNAVAILABLE (the hub could not be asked, or cannot answer).
OK, DENIED, TAKEN, UNAVAILABLE = "OK", "DENIED", "TAKEN", "UNAVAILABLE"

Answer = Callable[[str, str], None]  # (answer, account name or "")


class ServicesRequest:
    """A request on its way to the hub: the job its answer completes, the link it went
    out on, and when it is given up."""

    __slots__ = ("deadline", "job", "link_id")

    def __init__(self, job: Job[tuple[str, str]], link_id: int, deadline: float) -> None:
        self.job = job
        self.link_id = link_id
        self.deadline = deadline


def route(server: Server, name: str) -> Link | None:
    """The tags link that leads toward the server `name`, if it is in the network and one
    does (requests and answers cross only links between miniircd servers)."""
    remote = server.state.find_server(name)
    link = server.state.links.get(remote.link_id) if remote is not None else None
    if link is None or not link.up or not link.tagged or link.closing:
        return None
    return link


def fits(word: str) -> bool:
    """Whether `word` can travel as a middle parameter of a request."""
    return bool(word) and not word.startswith(":") and not any(c in word for c in " \r\n\0")


def ask(
    server: Server, session: Session, verb: str, operation: list[str], secret: str, then: Answer
) -> None:
    """Send `operation` (its words, then `secret` last) to the hub for `session`'s command
    `verb`; `then(answer, account)` once it answers or the request fails. With no way to
    the hub, `then` runs at once with UNAVAILABLE."""
    hub = server.config.remote_services
    link = route(server, hub) if hub is not None else None
    if hub is None or link is None:
        log.info("services hub %s unreachable for %s", hub, verb)
        then(UNAVAILABLE, "")
        return

    def complete(answer: tuple[str, str]) -> None:
        then(answer[0], answer[1])

    job: Job[tuple[str, str]] = Job(session, _hub_work, complete)
    job.verb = verb
    server.services_serial += 1
    request_id = str(server.services_serial)
    deadline = server.now + server.config.services_timeout
    server.services_requests[request_id] = ServicesRequest(job, link.id, deadline)
    session.busy += 1
    params = [hub, request_id, *operation, secret]
    server.outbox.raw(link, server_line(server.name, REQUEST, params, text=True))


def _hub_work() -> tuple[str, str]:
    """A request's work is the hub's; this side never runs it."""
    return (UNAVAILABLE, "")


def answered(server: Server, request_id: str, answer: str, account: str) -> None:
    """The hub answered request `request_id` (one given up already is forgotten)."""
    request = server.services_requests.pop(request_id, None)
    if request is None:
        return
    if answer not in (OK, DENIED, TAKEN):
        answer = UNAVAILABLE
    if answer == OK and not fits(account):
        answer = UNAVAILABLE  # a hub's bug must not make a broken account name here
    _finish(server, request, answer, account)


def _finish(server: Server, request: ServicesRequest, answer: str, account: str) -> None:
    request.job.result = (answer, account)
    server.finish_job(request.job, server.now)


def _give_up(server: Server, request_ids: list[str], why: str) -> None:
    for request_id in request_ids:
        request = server.services_requests.pop(request_id)
        log.info("services request %s for %s failed: %s", request_id, request.job.verb, why)
        _finish(server, request, UNAVAILABLE, "")


def link_lost(server: Server, link: Link) -> None:
    """The requests that went out on `link` will get no answer."""
    lost = [rid for rid, req in server.services_requests.items() if req.link_id == link.id]
    if lost:
        _give_up(server, lost, f"link {link.name} lost")


def tick(server: Server) -> None:
    """Give up the requests that waited too long, or whose hub is no longer behind the
    link they went out on (it split off further away, or the configuration changed)."""
    if not server.services_requests:
        return
    hub = server.config.remote_services
    link = route(server, hub) if hub is not None else None
    late = [
        rid
        for rid, req in server.services_requests.items()
        if server.now >= req.deadline or link is None or link.id != req.link_id
    ]
    if late:
        _give_up(server, late, "no answer from the services hub")
