"""The one command table: verb -> handler, minimum parameters, registration, privilege.

`dispatch` checks the preconditions in one place (421, 451, 461, 481) and turns the
refusals handlers raise (`IrcError`, `Fail`) into replies. Any other exception is a bug:
it is logged with its traceback and the client gets `400`, never "unknown command".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from miniircd.core import s2s
from miniircd.core.commands import (
    accounts,
    batch,
    chanlist,
    channels,
    chathistory,
    history,
    messages,
    metadata,
    modes,
    monitor,
    network,
    oper,
    readmarker,
    redact,
    registration,
    rename,
    sasl,
    server_queries,
    user_queries,
)
from miniircd.core.errors import Refusal, need_more_params
from miniircd.core.session import Session
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_NOPRIVILEGES,
    ERR_NOTREGISTERED,
    ERR_UNKNOWNCOMMAND,
    ERR_UNKNOWNERROR,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.core")

Handler = Callable[["Server", Session, Message], None]


@dataclass(frozen=True, slots=True)
class Command:
    handler: Handler
    min_params: int = 0
    before_registration: bool = False
    oper_only: bool = False


COMMANDS: dict[str, Command] = {
    "CAP": Command(registration.cap, 1, before_registration=True),
    "PASS": Command(registration.pass_, 1, before_registration=True),
    "NICK": Command(registration.nick, 0, before_registration=True),
    "USER": Command(registration.user, 4, before_registration=True),
    "PING": Command(registration.ping, 1, before_registration=True),
    "PONG": Command(registration.pong, 0, before_registration=True),
    "QUIT": Command(registration.quit, 0, before_registration=True),
    "SETNAME": Command(registration.setname, 1),
    "AUTHENTICATE": Command(sasl.authenticate, 1, before_registration=True),
    "REGISTER": Command(accounts.register, 3, before_registration=True),
    "JOIN": Command(channels.join, 1),
    "PART": Command(channels.part, 1),
    "TOPIC": Command(channels.topic, 1),
    "NAMES": Command(channels.names),
    "LIST": Command(chanlist.list_),
    "KICK": Command(channels.kick, 2),
    "INVITE": Command(channels.invite),
    "RENAME": Command(rename.rename, 2),
    "PRIVMSG": Command(messages.privmsg),
    "NOTICE": Command(messages.notice),
    "TAGMSG": Command(messages.tagmsg),
    "HISTORY": Command(history.history, 1),
    "CHATHISTORY": Command(chathistory.chathistory, 1),
    "MARKREAD": Command(readmarker.markread),
    "REDACT": Command(redact.redact, 2),
    "MONITOR": Command(monitor.monitor, 1),
    "METADATA": Command(metadata.metadata_, 2, before_registration=True),
    "INBOX": Command(history.inbox),
    "MODE": Command(modes.mode, 1),
    "OPER": Command(oper.oper, 2),
    "KILL": Command(oper.kill, 2, oper_only=True),
    "REHASH": Command(oper.rehash, oper_only=True),
    "WHO": Command(user_queries.who, 1),
    "WHOIS": Command(user_queries.whois),
    "WHOWAS": Command(user_queries.whowas),
    "ISON": Command(user_queries.ison, 1),
    "USERHOST": Command(user_queries.userhost, 1),
    "AWAY": Command(user_queries.away),
    "MOTD": Command(server_queries.motd),
    "LUSERS": Command(server_queries.lusers),
    "VERSION": Command(server_queries.version),
    "TIME": Command(server_queries.time),
    "INFO": Command(server_queries.info),
    "LINKS": Command(network.links_),
    "MAP": Command(network.map_),
    "CONNECT": Command(network.connect, 1, oper_only=True),
    "SQUIT": Command(network.squit, 2, oper_only=True),
    "HELP": Command(server_queries.help_),
    "HELPOP": Command(server_queries.help_),
    "WALLOPS": Command(oper.wallops, 1, oper_only=True),
    "BATCH": Command(batch.batch, 1),
    "SERVER": Command(s2s.server_from_client, 2, before_registration=True),
}


def dispatch(server: Server, session: Session, msg: Message) -> None:
    command = COMMANDS.get(msg.verb)
    out = server.outbox
    if not session.registered and (command is None or not command.before_registration):
        out.numeric(session, ERR_NOTREGISTERED, "You have not registered")
        return
    if command is None:
        out.numeric(session, ERR_UNKNOWNCOMMAND, msg.verb, "Unknown command")
        return
    if command.oper_only and "o" not in session.modes:
        out.numeric(session, ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator")
        return
    if len(msg.params) < command.min_params:
        out.refuse(session, need_more_params(msg.verb))
        return
    guarded(server, session, msg.verb, command.handler, server, session, msg)


def guarded(
    server: Server, session: Session, verb: str, action: Callable[..., None], *args: Any
) -> None:
    """Run `action(*args)`, turning refusals into replies and bugs into a logged 400.
    Work it leaves for off the loop (`jobs.defer`) remembers `verb`, for its own 400."""
    jobs = server.jobs
    queued = len(jobs)
    try:
        action(*args)
    except Refusal as refusal:
        server.outbox.refuse(session, refusal)
    except Exception:
        log.exception("handler for %s failed for %r", verb, session)
        internal_error(server, session, verb)
    if len(jobs) > queued:  # rare: no list is made on the path every message takes
        for job in jobs[queued:]:
            if job.verb == "*":  # a nested guarded call may have named it already
                job.verb = verb


def internal_error(server: Server, session: Session, verb: str) -> None:
    """The reply to a command that failed through a bug; the caller logs the bug."""
    server.outbox.numeric(session, ERR_UNKNOWNERROR, verb, "Internal server error")
