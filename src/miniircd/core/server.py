"""The server as a sans-IO object: the network layer's only way into the core.

It holds the core's parts (the state, the outbox, flood control, the jobs queue, the
store) and has the entry points the loop calls, each with the current time:
- `connect(host)`: a socket was accepted; returns its session.
- `receive(session, line)`: one complete line; it runs now, or waits its turn behind the
  session's earlier lines (core.flood).
- `release_held()`: every loop turn; runs the lines whose turn has come.
- `connection_lost(session, reason)`: the socket is gone; the session quits.
- `tick()`: about once a second; registration and ping timeouts, history retention.
- `link_open(block, host, outgoing)`, `link_receive(link, line)`, `link_lost(link,
  reason)`: the same for a connection to another server (core.s2s).
- `take_jobs()` / `finish_job(job)`: work to run off the loop, and its result coming back.
- `rehash(config or why not)`: the configuration was reread.
- `shutdown()`: every client is sent ERROR and forgotten.
Handlers that must wait for the loop queue work in `jobs` (core.jobs.defer) or ask for a
reload in `rehash_requests` (core.actions.request_rehash); operators' CONNECT and SQUIT
ask the network layer to dial or hold a link in `link_requests` (core.link_requests).
Handlers change the state through `state` (core.state, which owns every table) and queue
replies in `outbox`; at the end of a loop turn the network layer drains the outbox and
writes. A session whose `closing` flag is set gets its queue flushed and its socket closed.

On a bug: a handler, a job's work or its continuation that raises anything but a
refusal (core.errors) is logged with its traceback and answered `400 <verb> :Internal
server error` (dispatch.guarded, finish_job); the server and every other client go on. A
bug in an entry point itself propagates to the loop (net/loop.py), which logs it, drops
the client whose line it was handling ("Internal error"), and goes on with the next turn.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from miniircd import __version__
from miniircd.config import NOT_RELOADABLE, Config, LinkBlock
from miniircd.core import actions, channel, dispatch, masks, metadata, s2s
from miniircd.core.channel import Channel
from miniircd.core.commands import batch, chanlist, messages, modes, nickserv, registration
from miniircd.core.flood import FloodControl
from miniircd.core.ids import Ids
from miniircd.core.jobs import Job
from miniircd.core.link import Link
from miniircd.core.link_requests import LinkRequest
from miniircd.core.login_throttle import LoginThrottle
from miniircd.core.outbox import Outbox
from miniircd.core.params import echo
from miniircd.core.replica import Replica
from miniircd.core.services_link import ServicesRequest
from miniircd.core.session import Session
from miniircd.core.state import State
from miniircd.protocol import casemap, isupport
from miniircd.protocol.message import Message, ParseError, decode, parse
from miniircd.protocol.numerics import ERR_INPUTTOOLONG, ERR_UNKNOWNERROR, RPL_REHASHING
from miniircd.store.base import Store

log = logging.getLogger("miniircd.core")

MAX_BODY = 510  # 512 bytes less the CR-LF
PRUNE_EVERY = 3600.0  # seconds between history retention passes
MAX_CLIENT_TAGS = 4096  # '@' + tag data + ' ', as the message-tags spec counts it


class Server:
    def __init__(self, config: Config, store: Store, now: float, ids: Ids | None = None) -> None:
        self.config = config
        self.store = store
        self.jobs: list[Job[Any]] = []
        self.login_throttle = LoginThrottle(config)
        self.flood = FloodControl(config)
        self.nick_deadlines: set[Session] = set()
        self.rehash_requests: list[Session] = []  # REHASH by operators, for the loop
        self.adopted: dict[int, Link] = {}  # session id -> the link it turned into (core.s2s)
        self.link_requests: list[LinkRequest] = []  # CONNECT and SQUIT, for the dialer
        # requests to the services hub awaiting its answer, by id (core.services_link)
        self.services_requests: dict[str, ServicesRequest] = {}
        self.services_serial = 0
        self.replica = Replica()
        self.next_prune = now
        self.name = config.server_name
        self.version = f"miniircd-{__version__}"
        self.created = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        self.ids = ids or Ids()  # msgids, batch references, guest nicks (core.ids)
        self.outbox = Outbox(self.name, self.ids)
        self.state = State(config.whowas_history)
        self.now = now
        for room in store.load_rooms():
            self.state.load_channel(Channel.from_record(room))
        metadata.restore_rooms(self)
        self.isupport_lines = list(isupport.chunks(isupport.format_tokens(self.isupport())))

    def isupport(self) -> dict[str, str | None]:
        """The 005 tokens; mode letters and channel types come from the code that enforces
        them (core.commands.modes, core.channel, protocol.casemap)."""
        c = self.config
        tokens: dict[str, str | None] = {
            "ACCOUNTEXTBAN": masks.ACCOUNT,
            "AWAYLEN": str(c.awaylen),
            "BOT": modes.BOT_MODE,
            "CASEMAPPING": "rfc1459",
            "CHANLIMIT": f"{casemap.CHANNEL_TYPES}:{c.chanlimit}",
            "CHANMODES": isupport.chanmodes(
                modes.LIST_MODES, modes.KEY_MODES, modes.LIMIT_MODES, modes.FLAG_MODES
            ),
            "CHANNELLEN": str(c.channellen),
            "CHANTYPES": casemap.CHANNEL_TYPES,
            "CHATHISTORY": str(c.chathistory_max),
            "ELIST": chanlist.ELIST,
            "EXCEPTS": modes.EXCEPTS_MODE,
            "EXTBAN": f"{masks.EXTBAN_PREFIX},{masks.EXTBAN_TYPES}",
            "INVEX": modes.INVEX_MODE,
            "KICKLEN": str(c.kicklen),
            "MAXLIST": f"{modes.LIST_MODES}:{c.maxlist}",
            "MODES": str(c.modes),
            "MONITOR": str(c.monitor_max),
            "MSGREFTYPES": "msgid,timestamp",
            "NAMELEN": str(c.namelen),
            "NETWORK": c.network,
            "NICKLEN": str(c.nicklen),
            "PREFIX": isupport.prefix(channel.PREFIXES),
            "STATUSMSG": messages.STATUS_SYMBOLS,
            "TARGMAX": (
                f"JOIN:,KICK:{c.targmax},LIST:,NAMES:,NOTICE:{c.targmax},PART:,"
                f"PRIVMSG:{c.targmax},WHOIS:1"
            ),
            "TOPICLEN": str(c.topiclen),
            "USERLEN": str(c.userlen),
            "WHOX": None,
        }
        if c.utf8_only:
            tokens["UTF8ONLY"] = None
        return tokens

    # -- entry points for the network layer ------------------------------------------------

    def connect(self, host: str, now: float) -> Session:
        self.now = now
        if host.startswith(":"):
            host = "0" + host  # an IPv6 host must not start with ':' inside a message
        session = Session(self.state.next_id(), host, now)
        session.flood_tokens = float(self.config.flood_burst)
        self.state.add(session)
        return session

    def receive(self, session: Session, raw: bytes, now: float) -> None:
        """Take one complete line (without its line ending): handle it now, or queue it
        behind the session's earlier lines (see core.flood).

        A QUIT is never held by flood control: the lines flood control holds are dropped and
        the session ends at once. Behind work off the loop (a password check, a fraction of
        a second) it waits for the answer and the lines sent before it, so that a client
        that registers and quits gets its account; whatever comes after it is ignored."""
        if session.closing or session.quit_line is not None:
            return
        self.now = now
        session.last_seen = now
        session.ping_pending = False
        if (session.backlog is not None or session.busy) and _is_quit(raw):
            if session.busy:
                session.quit_line = raw  # see _run_backlog
            else:
                self._handle(session, raw)
            return
        admitted = self.flood.admit(session, raw, now)
        if admitted:
            self._handle(session, raw)
        elif admitted is None:
            actions.quit(self, session, "Excess Flood")

    def release_held(self, now: float) -> float | None:
        """Handle the queued lines whose turn has come; return the seconds until the next
        one is due (None: nothing waits, or only for a job). Call every loop turn."""
        self.now = now
        for session in self.flood.ready():
            self._run_backlog(session)
        return self.flood.next_due(now)

    def _run_backlog(self, session: Session) -> None:
        """Handle the session's queued lines, in order, until one must wait again; then a
        QUIT that waited for a job goes through, unless another job holds it still."""
        while not session.closing and (raw := self.flood.next_line(session, self.now)) is not None:
            self._handle(session, raw)
        if session.quit_line is not None and not session.busy and not session.closing:
            raw, session.quit_line = session.quit_line, None
            self._handle(session, raw)
            if not session.closing:  # refused as a line (a NUL byte, too long): it still ends
                actions.quit(self, session, "Client Quit")

    def _handle(self, session: Session, raw: bytes) -> None:
        body_start = 0
        if raw.startswith(b"@"):
            body_start = raw.find(b" ") + 1
            if body_start == 0 or body_start > MAX_CLIENT_TAGS:
                self.outbox.numeric(session, ERR_INPUTTOOLONG, "Input line was too long")
                return
        if len(raw) - body_start > MAX_BODY:
            self.outbox.numeric(session, ERR_INPUTTOOLONG, "Input line was too long")
            return
        refuse = False  # UTF8ONLY and not UTF-8: parsed only to be answered, never run
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = decode(raw)  # the latin-1 fallback
            refuse = self.config.utf8_only
        if not refuse and "\x00" in text:
            self.outbox.numeric(session, ERR_UNKNOWNERROR, "*", "Line contains a NUL byte")
            return
        try:
            msg = parse(text)
        except ParseError:
            return
        if session.multiline is not None and not refuse and batch.collect(self, session, msg):
            return  # a line of an open multiline batch, answered when the batch ends
        label = msg.tags.get("label") if "labeled-response" in session.caps else None
        if label is None and not refuse:
            dispatch.dispatch(self, session, msg)
            return
        start = len(session.outq)
        if refuse:
            self._refuse_non_utf8(session, msg.verb)
        else:
            dispatch.dispatch(self, session, msg)
        if label is not None and not (msg.verb == "BATCH" and session.multiline is not None):
            self._end_answer(session, start, label)  # (a batch it opened answers when it ends)

    def _end_answer(self, session: Session, start: int, label: str) -> None:
        """labeled-response: the lines queued since `start` answer the command labelled
        `label`; while the session waits on work, the answer is not complete, so they are
        held back with the label until it is (`_resume`)."""
        if session.busy:
            session.answer_label = label
            session.answer_lines = session.outq[start:]
            del session.outq[start:]
        else:
            self.outbox.label(session, start, label)

    def _resume(self, session: Session, answer: Callable[[], None]) -> None:
        """Work the session waited on is done: unless it has left meanwhile, `answer`
        finishes the command, then the lines that queued up meanwhile run."""
        session.busy -= 1
        if session.id not in self.state.users or session.closing:
            return
        label, held = session.answer_label, session.answer_lines
        session.answer_label, session.answer_lines = None, []
        start = len(session.outq)
        for line in held:
            self.outbox.raw(session, line)
        answer()
        if label is not None:
            self._end_answer(session, start, label)
        if not session.registered and not session.closing:
            # registration may have waited for this work (a PASS login)
            registration.try_register(self, session)
        self._run_backlog(session)

    def _refuse_non_utf8(self, session: Session, verb: str) -> None:
        """UTF8ONLY: a line that is not UTF-8 is refused, never relayed (IRCv3 utf8only)."""
        if verb not in ("NOTICE", "PONG"):
            # the command itself may be the undecodable part: never echo that back
            self.outbox.from_server(
                session, "FAIL", echo(verb, command=True), "INVALID_UTF8",
                "Message rejected, your IRC software MUST use UTF-8 encoding on this network",
            )  # fmt: skip

    def connection_lost(self, session: Session, reason: str, now: float) -> None:
        """The socket is gone (or must go): remove the session and tell its peers."""
        self.now = now
        actions.quit(self, session, reason)

    def link_open(self, block: LinkBlock, host: str, outgoing: bool, now: float) -> Link:
        """A connection with the server of `block` is open: dialed by us (`outgoing`),
        or one that dialed us and named it. Returns the link the core knows it by."""
        self.now = now
        return s2s.open_link(self, block, host, outgoing)

    def link_receive(self, link: Link, raw: bytes, now: float) -> None:
        """One complete line from a linked server."""
        self.now = now
        s2s.receive(self, link, raw)

    def link_lost(self, link: Link, reason: str, now: float) -> None:
        """The link's socket is gone: everything behind it leaves (a netsplit)."""
        self.now = now
        s2s.lost(self, link, reason)

    def tick(self, now: float) -> None:
        """Registration and ping timeouts; call about once a second."""
        self.now = now
        c = self.config
        s2s.tick(self, now)
        for session in self._sessions():
            if session.closing:
                continue
            if not session.registered:
                if now - session.connected_at >= c.registration_timeout:
                    actions.quit(self, session, "Registration timed out")
                continue
            silent = now - session.last_seen
            # Only a client that was sent a PING can time out: with this once-a-second
            # tick, a short gap between the two settings could otherwise skip the PING.
            if session.ping_pending and silent >= c.ping_timeout:
                actions.quit(self, session, f"Ping timeout: {int(c.ping_timeout)} seconds")
            elif silent >= c.ping_interval and not session.ping_pending:
                session.ping_pending = True
                self.outbox.send(session, Message("PING", [self.name]))
        if self.nick_deadlines:
            nickserv.enforce(self)
        if now >= self.next_prune:
            self.next_prune = now + PRUNE_EVERY
            self.login_throttle.forget_stale(now)
            cutoff_ms = int((now - c.history_days * 86400) * 1000)
            dropped = self.store.prune(c.history_max, cutoff_ms)
            if dropped:
                log.info("history retention dropped %d messages", dropped)

    def rehash(self, new: Config | str, source: str, now: float) -> None:
        """The network layer reloaded the configuration (SIGHUP or REHASH): `new` is the
        result, or why it could not be read. Settings apply at once, but for those in
        NOT_RELOADABLE, which need a restart; operators who asked are told either way."""
        self.now = now
        requesters, self.rehash_requests = self.rehash_requests, []
        if isinstance(new, str):
            log.error("configuration not reloaded: %s", new)
        else:
            kept = {name: getattr(self.config, name) for name in NOT_RELOADABLE}
            stuck = [name for name, value in kept.items() if getattr(new, name) != value]
            self.config = new.replace(**kept)
            self.flood.configure(self.config)
            self.login_throttle.configure(self.config)
            self.isupport_lines = list(isupport.chunks(isupport.format_tokens(self.isupport())))
            s2s.reconfigure(self)
            note = "needs a restart: " + ", ".join(stuck) if stuck else "all settings applied"
            log.info("configuration reloaded from %s; %s", source, note)

        def answer(session: Session) -> None:
            out = self.outbox
            out.numeric(session, RPL_REHASHING, source, "Rehashing")
            if isinstance(new, str):
                out.from_server(session, "FAIL", "REHASH", "CONFIG_BAD", new)
            else:
                out.from_server(session, "NOTICE", session.name, f"Configuration reloaded; {note}")

        for session in requesters:
            self._resume(session, functools.partial(answer, session))

    def take_jobs(self) -> list[Job[Any]]:
        """The jobs queued this turn, for the network layer to run off the loop."""
        jobs, self.jobs = self.jobs, []
        return jobs

    def finish_job(self, job: Job[Any], now: float) -> None:
        """A job's work is done: run its continuation if its session is still here. Work
        that raised is a bug: logged with its traceback, and the client gets the 400 of a
        failed command instead of the continuation."""
        self.now = now
        session = job.session
        if session is None:  # work for another server's request (core.s2s_services)
            if job.error is not None:
                log.error("job for %s failed", job.verb, exc_info=job.error)
                return
            try:
                job.then(job.result)
            except Exception:
                log.exception("job continuation for %s failed", job.verb)
            return
        if job.error is not None:
            log.error("job for %s failed for %r", job.verb, session, exc_info=job.error)
            answer = functools.partial(dispatch.internal_error, self, session, job.verb)
        else:
            answer = functools.partial(
                dispatch.guarded, self, session, job.verb, job.then, job.result
            )
        self._resume(session, answer)

    def shutdown(self, reason: str = "Server shutting down") -> None:
        for session in self._sessions():
            self.outbox.error_and_close(session, reason)
            actions.forget(self, session)

    def _sessions(self) -> list[Session]:
        """The users connected here (a copy: the caller may remove some)."""
        return [user for user in self.state.users.values() if isinstance(user, Session)]


def _is_quit(raw: bytes) -> bool:
    """Whether a raw line is a QUIT (tags and a source skipped), without parsing it."""
    words = raw.split()
    while words and words[0][:1] in (b"@", b":"):
        del words[0]
    return bool(words) and words[0].upper() == b"QUIT"
