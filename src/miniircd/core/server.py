"""The server as a sans-IO object: the network layer's only way into the core.

Theory of operation: the network layer calls `connect` for each accepted socket, `receive`
for each complete line, `connection_lost` when a socket dies and `tick` about once a
second; every call takes the current time. Handlers change state and queue replies in
`outbox`; at the end of a loop turn the network layer drains the outbox and writes. A
session whose `closing` flag is set gets its queue flushed and its socket closed.

State invariants: every registered session with a nick is in `nicks` under its folded
nick, and unregistered ones that chose a nick are there too (nicks are claimed at NICK
time); `channels` holds every channel with at least one member, under its folded name.
"""

from __future__ import annotations

import functools
import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from miniircd import __version__
from miniircd.config import NOT_RELOADABLE, Config
from miniircd.core import dispatch
from miniircd.core.channel import Channel
from miniircd.core.commands import history, monitor, nickserv, registration
from miniircd.core.commands.accounts import LoginThrottle
from miniircd.core.flood import FloodControl
from miniircd.core.jobs import Job
from miniircd.core.outbox import Outbox
from miniircd.core.session import Session
from miniircd.logs import fields
from miniircd.protocol import isupport
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message, ParseError, decode, parse
from miniircd.protocol.numerics import ERR_INPUTTOOLONG, ERR_UNKNOWNERROR, RPL_REHASHING
from miniircd.store.base import Store

log = logging.getLogger("miniircd.core")
T = TypeVar("T")

MAX_BODY = 510  # 512 bytes less the CR-LF
PRUNE_EVERY = 3600.0  # seconds between history retention passes
MAX_CLIENT_TAGS = 4096  # '@' + tag data + ' ', as the message-tags spec counts it


class WhowasEntry:
    __slots__ = ("host", "nick", "realname", "time", "user")

    def __init__(self, session: Session, now: float) -> None:
        self.nick = session.name
        self.user = session.user or ""
        self.host = session.host
        self.realname = session.realname
        self.time = now


class Server:
    def __init__(self, config: Config, store: Store, now: float) -> None:
        self.config = config
        self.store = store
        self.jobs: list[Job[Any]] = []
        self.login_throttle = LoginThrottle(config)
        self.flood = FloodControl(config)
        self.nick_deadlines: set[Session] = set()
        self.rehash_requests: list[Session] = []  # REHASH by operators, for the loop
        self.next_prune = now
        self.name = config.server_name
        self.version = f"miniircd-{__version__}"
        self.created = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        self.outbox = Outbox(self.name)
        self.sessions: dict[int, Session] = {}
        self.nicks: dict[str, Session] = {}
        self.channels: dict[str, Channel] = {}
        self.watchers: dict[str, set[Session]] = {}  # folded nick -> who MONITORs it
        self.whowas: deque[WhowasEntry] = deque(maxlen=config.whowas_history)
        self.now = now
        self.registered_count = 0
        self.max_users = 0
        self.invisible_count = 0
        self.oper_count = 0
        self._next_id = 0
        for room in store.load_rooms():
            self.channels[fold(room.name)] = Channel.from_record(room)
        self.isupport_lines = list(isupport.chunks(isupport.format_tokens(self.isupport())))

    def isupport(self) -> dict[str, str | None]:
        c = self.config
        tokens: dict[str, str | None] = {
            "AWAYLEN": str(c.awaylen),
            "BOT": "B",
            "CASEMAPPING": "rfc1459",
            "CHANLIMIT": f"#:{c.chanlimit}",
            "CHANMODES": "b,k,l,imnst",
            "CHANNELLEN": str(c.channellen),
            "CHANTYPES": "#",
            "CHATHISTORY": str(c.chathistory_max),
            "KICKLEN": str(c.kicklen),
            "MAXLIST": f"b:{c.maxlist}",
            "MODES": str(c.modes),
            "MONITOR": str(c.monitor_max),
            "MSGREFTYPES": "msgid,timestamp",
            "NAMELEN": str(c.namelen),
            "NETWORK": c.network,
            "NICKLEN": str(c.nicklen),
            "PREFIX": "(ov)@+",
            "TARGMAX": f"JOIN:,KICK:1,NAMES:1,NOTICE:{c.targmax},PART:,PRIVMSG:{c.targmax},WHOIS:1",
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
        self._next_id += 1
        if host.startswith(":"):
            host = "0" + host  # an IPv6 host must not start with ':' inside a message
        session = Session(self._next_id, host, now)
        session.flood_tokens = float(self.config.flood_burst)
        self.sessions[session.id] = session
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
            self.quit(session, "Excess Flood")

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
            self._handle(session, session.quit_line)

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
        label = msg.tags.get("label") if "labeled-response" in session.caps else None
        if label is None and not refuse:
            dispatch.dispatch(self, session, msg)
            return
        start = len(session.outq)
        if refuse:
            self._refuse_non_utf8(session, msg.verb)
        else:
            dispatch.dispatch(self, session, msg)
        if label is not None:
            self._end_answer(session, start, label)

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
        """Work the session waited on is done: `answer` finishes the command, then the
        lines that queued up meanwhile run."""
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
            shown = verb if verb.isascii() and verb.isalnum() else "*"
            self.outbox.from_server(
                session, "FAIL", shown, "INVALID_UTF8",
                "Message rejected, your IRC software MUST use UTF-8 encoding on this network",
            )  # fmt: skip

    def connection_lost(self, session: Session, reason: str, now: float) -> None:
        """The socket is gone (or must go): remove the session and tell its peers."""
        self.now = now
        self.quit(session, reason)

    def tick(self, now: float) -> None:
        """Registration and ping timeouts; call about once a second."""
        self.now = now
        c = self.config
        for session in list(self.sessions.values()):
            if session.closing:
                continue
            if not session.registered:
                if now - session.connected_at >= c.registration_timeout:
                    self.quit(session, "Registration timed out")
                continue
            silent = now - session.last_seen
            # Only a client that was sent a PING can time out: with this once-a-second
            # tick, a short gap between the two settings could otherwise skip the PING.
            if session.ping_pending and silent >= c.ping_timeout:
                self.quit(session, f"Ping timeout: {int(c.ping_timeout)} seconds")
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

    def request_rehash(self, session: Session) -> None:
        """An operator's REHASH: the network layer rereads the configuration at the end of
        the turn (it is I/O) and calls `rehash`; the operator's later lines wait for it."""
        session.busy += 1
        self.rehash_requests.append(session)

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
            session.busy -= 1
            if session.id in self.sessions and not session.closing:
                self._resume(session, functools.partial(answer, session))

    def take_jobs(self) -> list[Job[Any]]:
        """The jobs queued this turn, for the network layer to run off the loop."""
        jobs, self.jobs = self.jobs, []
        return jobs

    def finish_job(self, job: Job[Any], now: float) -> None:
        """A job's work is done: run its continuation if its session is still here."""
        self.now = now
        session = job.session
        session.busy -= 1
        if session.id in self.sessions and not session.closing:
            answer = functools.partial(dispatch.guarded, self, session, "*", job.then, job.result)
            self._resume(session, answer)

    def shutdown(self, reason: str = "Server shutting down") -> None:
        for session in list(self.sessions.values()):
            self.outbox.error_and_close(session, reason)
            self._forget(session)

    # -- shared actions --------------------------------------------------------------------

    def find_nick(self, nick: str) -> Session | None:
        return self.nicks.get(fold(nick))

    def find_user(self, nick: str) -> Session | None:
        """A registered session by nick; one that has only claimed a nick does not count."""
        session = self.nicks.get(fold(nick))
        return session if session is not None and session.registered else None

    def find_channel(self, name: str) -> Channel | None:
        return self.channels.get(fold(name))

    def peers(self, session: Session) -> set[Session]:
        """Everyone who shares a channel with `session`, not `session` itself."""
        peers: set[Session] = set()
        for channel in session.channels.values():
            peers.update(channel.members)
        peers.discard(session)
        return peers

    def add_member(self, session: Session, channel: Channel, ranks: set[str]) -> None:
        channel.members[session] = ranks
        session.channels[fold(channel.name)] = channel

    def remove_member(self, session: Session, channel: Channel) -> None:
        """Take `session` out of `channel`; a channel left empty ceases to exist."""
        key = fold(channel.name)
        del channel.members[session]
        del session.channels[key]
        if not channel.members and channel.founder is None:
            del self.channels[key]

    def room_changed(self, channel: Channel) -> None:
        """Something stored about a registered room changed: write it."""
        if channel.founder is not None:
            self.store.save_room(channel.to_record())

    def quit(self, session: Session, reason: str) -> None:
        """Tell the session's peers it quit, send it ERROR and drop it from every table."""
        if session.id not in self.sessions:
            return
        log.debug(
            "client left", extra=fields(nick=session.name, host=session.host, reason=reason)
        )
        if session.registered:
            quit_msg = Message("QUIT", [reason], session.prefix)
            self.outbox.send_many(self.peers(session), quit_msg, session)
        self.outbox.error_and_close(
            session, f"Closing link: {session.name}[{session.host}] ({reason})"
        )
        self._forget(session)

    def defer(self, session: Session, work: Callable[[], T], then: Callable[[T], None]) -> None:
        """Have `work` run off the loop, then `then(result)` on it (see core.jobs)."""
        session.busy += 1
        self.jobs.append(Job(session, work, then))

    def change_nick(self, session: Session, new: str) -> None:
        """Take `new` (already checked to be valid and free) and tell whoever should know."""
        old = session.nick
        if old is not None:
            del self.nicks[fold(old)]
        self.nicks[fold(new)] = session
        if session.registered:
            nick_msg = Message("NICK", [new], session.prefix)
            self.outbox.send_many({session} | self.peers(session), nick_msg, session)
            self.remember_nick(session)
        session.nick = new
        nickserv.protect_nick(self, session)
        # A change of case only keeps the nick: MONITOR's watchers are told nothing.
        if session.registered and (old is None or fold(old) != fold(new)):
            if old is not None:
                monitor.signed_off(self, old)
            monitor.signed_on(self, session)

    def nick_owner_changed(self, name: str) -> None:
        """An account named `name` was created or dropped: whoever holds that nick may now
        have to identify, or no longer has to."""
        holder = self.find_nick(name)
        if holder is not None:
            nickserv.protect_nick(self, holder)

    def account_changed(self, session: Session) -> None:
        """The session logged in or out."""
        nickserv.protect_nick(self, session)
        history.deliver_unread(self, session)

    def remember_nick(self, session: Session) -> None:
        """Record the session's current nick for WHOWAS."""
        self.whowas.appendleft(WhowasEntry(session, self.now))

    def _forget(self, session: Session) -> None:
        self.flood.forget(session)
        monitor.forget(self, session)
        if session.registered and session.nick:
            monitor.signed_off(self, session.nick)
        if session.registered:
            self.remember_nick(session)
            self.registered_count -= 1
            self.invisible_count -= "i" in session.modes
            self.oper_count -= "o" in session.modes
        for channel in list(session.channels.values()):
            self.remove_member(session, channel)
        if session.nick and self.nicks.get(fold(session.nick)) is session:
            del self.nicks[fold(session.nick)]
        self.nick_deadlines.discard(session)
        self.sessions.pop(session.id, None)


def _is_quit(raw: bytes) -> bool:
    """Whether a raw line is a QUIT (tags and a source skipped), without parsing it."""
    words = raw.split()
    while words and words[0][:1] in (b"@", b":"):
        del words[0]
    return bool(words) and words[0].upper() == b"QUIT"
