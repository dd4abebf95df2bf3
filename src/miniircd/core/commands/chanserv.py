"""ChanServ: registered rooms by private message.

A room created by a logged-in user is registered to that account automatically (see
`core.channel`); ChanServ tells about it and lets its founder drop the registration.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from miniircd.core import replica_rooms
from miniircd.core.services import ServiceCommand, notice, run_command
from miniircd.core.session import Session
from miniircd.core.user import User

if TYPE_CHECKING:
    from miniircd.core.server import Server

NICK = "ChanServ"
HELP = (
    "ChanServ keeps rooms. A room you create while logged in is registered to you:",
    "it keeps its topic, modes, key and bans, stays listed while empty, and you get",
    "operator status when you join it. Commands:",
    "INFO <#room> - who founded a room and when",
    "DROP <#room> - unregister a room you founded",
)


def _say(server: Server, user: User, text: str) -> None:
    notice(server, user, NICK, text)


# PRIVMSG ChanServ :<command> [<args>...]
def handle(server: Server, user: User, text: str) -> None:
    run_command(server, user, NICK, text, COMMANDS, HELP)


def _info(server: Server, session: Session, args: list[str]) -> None:
    if len(args) != 1:
        _say(server, session, "Syntax: INFO <#room>")
        return
    channel = server.state.find_channel(args[0])
    if channel is None or channel.founder is None or not channel.visible_to(session):
        _say(server, session, f"{args[0]} is not a registered room.")
        return
    since = datetime.fromtimestamp(channel.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    _say(server, session, f"{channel.name} was registered by {channel.founder} on {since}.")


def _drop(server: Server, session: Session, args: list[str]) -> None:
    if len(args) != 1:
        _say(server, session, "Syntax: DROP <#room>")
        return
    channel = server.state.find_channel(args[0])
    if channel is None or channel.founder is None:
        _say(server, session, f"{args[0]} is not a registered room.")
        return
    if not channel.is_founder(session):
        _say(server, session, f"Only the founder of {channel.name} may drop it.")
        return
    if not replica_rooms.drop(server, channel):
        _say(server, session, "The services hub cannot be reached; try again later.")
        return
    _say(server, session, f"{channel.name} is no longer registered.")


COMMANDS: dict[str, ServiceCommand] = {
    "INFO": _info,
    "DROP": _drop,
}
