"""Pseudo-users that stand for the server's services: their nicks are reserved.

Messages to them are routed in `core.commands.messages` (from users behind links:
core.s2s_events) and read as commands by `run_command`, the one command loop every
service shares; they answer with NOTICEs. A user behind a server link (its own server
keeps its account) gets HELP and MemoServ SEND; the other commands say that they need
a connection to this server. The services hub introduces the services
to its ngIRCd peers as users of its own (core.service_users).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

SERVICE_HOST = "services"
SERVICE_NICKS = {"nickserv": "NickServ", "chanserv": "ChanServ", "memoserv": "MemoServ"}
SERVICE_INFO = {
    "nickserv": "Account services: /msg NickServ HELP",
    "chanserv": "Room services: /msg ChanServ HELP",
    "memoserv": "Memo services: /msg MemoServ HELP",
}


def service_nick(name: str) -> str | None:
    """The canonical nick of the service `name` names, or None."""
    return SERVICE_NICKS.get(fold(name))


def is_service(name: str) -> bool:
    return fold(name) in SERVICE_NICKS


def linked_services(server: Server) -> bool:
    """Whether this server is its network's services hub (`services_hub` names it), the
    one server that shows its services to ngIRCd peers and answers their users."""
    return server.config.services_hub is not None and server.config.remote_services is None


def notice(server: Server, user: User, service: str, text: str) -> None:
    """What a service says to a user, here or behind a link (whose server relays it)."""
    source = f"{service}!{service}@{SERVICE_HOST}"
    server.outbox.send(user, Message("NOTICE", [user.name, text], source))


ServiceCommand = Callable[["Server", Session, list[str]], None]  # (server, session, args)


def run_command(
    server: Server,
    user: User,
    service: str,
    text: str,
    commands: Mapping[str, ServiceCommand],
    help_lines: tuple[str, ...],
) -> None:
    """A PRIVMSG to a service: `<command> [<args>...]`. HELP shows `help_lines`; an
    unknown command is answered with a NOTICE, as everything a service says. A user
    behind a link gets HELP only: `commands` are for users of this server."""
    words = text.split()
    if not words:
        return
    command = words[0].upper()
    if command == "HELP":
        for line in help_lines:
            notice(server, user, service, line)
        return
    action = commands.get(command)
    if action is None:
        notice(server, user, service, f"Unknown command {command}. Try HELP.")
    elif isinstance(user, Session):
        action(server, user, words[1:])
    else:
        notice(server, user, service, f"{command} needs a connection to {server.name}.")
