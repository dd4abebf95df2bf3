"""Pseudo-users that stand for the server's services: their nicks are reserved.

Messages to them are routed in `core.commands.messages` and read as commands by
`run_command`, the one command loop every service shares; they answer with NOTICEs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from miniircd.core.session import Session
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

SERVICE_HOST = "services"
SERVICE_NICKS = {"nickserv": "NickServ", "chanserv": "ChanServ"}
SERVICE_INFO = {
    "nickserv": "Account services: /msg NickServ HELP",
    "chanserv": "Room services: /msg ChanServ HELP",
}


def service_nick(name: str) -> str | None:
    """The canonical nick of the service `name` names, or None."""
    return SERVICE_NICKS.get(fold(name))


def is_service(name: str) -> bool:
    return fold(name) in SERVICE_NICKS


def notice(server: Server, session: Session, service: str, text: str) -> None:
    source = f"{service}!{service}@{SERVICE_HOST}"
    server.outbox.send(session, Message("NOTICE", [session.name, text], source))


ServiceCommand = Callable[["Server", Session, list[str]], None]  # (server, session, args)


def run_command(
    server: Server,
    session: Session,
    service: str,
    text: str,
    commands: Mapping[str, ServiceCommand],
    help_lines: tuple[str, ...],
) -> None:
    """A PRIVMSG to a service: `<command> [<args>...]`. HELP shows `help_lines`; an
    unknown command is answered with a NOTICE, as everything a service says."""
    words = text.split()
    if not words:
        return
    command = words[0].upper()
    if command == "HELP":
        for line in help_lines:
            notice(server, session, service, line)
        return
    action = commands.get(command)
    if action is None:
        notice(server, session, service, f"Unknown command {command}. Try HELP.")
        return
    action(server, session, words[1:])
