"""The one table of user commands (name -> handler, usage, what it needs) and the checks
every command goes through, in one place.

`run(state, text)` is the whole of it: a line starting with `/` is a command (`//` sends a
message that starts with `/`), anything else is a message to the current room. Before a
handler runs: the command must exist; one that talks to the server needs a connection
(while the connection is being set up it is queued, and runs once the server is ready);
one for logged-in users needs a login. A handler raising `UsageError` gets its usage line
shown. The handlers are in `cmd_account.py` and `cmd_rooms.py`; /help is built from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from miniircd.client import cmd_account as account
from miniircd.client import cmd_rooms as rooms
from miniircd.client.events import Error, Info, Output
from miniircd.client.state import ClientState, Phase, UsageError

__all__ = ["ALIASES", "COMMANDS", "Command", "run"]

NOT_CONNECTED = "Not connected; use /connect host[:port] first"
NOT_LOGGED_IN = "You are not logged in; use /login user pass (or /register user pass)"


@dataclass(frozen=True)
class Command:
    handler: Callable[[ClientState, str], list[Output]]
    usage: str
    summary: str
    needs: str = "connection"  # "" (works offline), "connection" or "login"


def _help(state: ClientState, args: str) -> list[Output]:
    # /help
    width = max(len(command.usage) for command in COMMANDS.values())
    return [
        Info("Commands:"),
        *(Info(f"  {c.usage.ljust(width)}  {c.summary}") for c in COMMANDS.values()),
        Info("Aliases: " + ", ".join(f"/{a} = /{n}" for a, n in ALIASES.items())),
    ]


# In the order of the course spec's sixteen operations, then the extras.
COMMANDS: dict[str, Command] = {
    "connect": Command(
        account.connect, "/connect host[:port] [--tls] [--insecure]", "connect to a server", ""
    ),
    "disconnect": Command(account.disconnect, "/disconnect", "disconnect, stay in the client", ""),
    "register": Command(account.register, "/register user pass", "create a user and log in"),
    "login": Command(account.login, "/login user pass", "log in"),
    "logout": Command(account.logout, "/logout", "log out", "login"),
    "create": Command(rooms.create, "/create #room", "create a room and enter it"),
    "rooms": Command(rooms.list_rooms, "/rooms", "list all rooms"),
    "join": Command(rooms.join, "/join #room[,#room...]", "join existing rooms"),
    "leave": Command(rooms.leave, "/leave [#room]", "leave a room (default: the current one)"),
    "switch": Command(rooms.switch, "/switch #room", "talk in another room you are in"),
    "say": Command(rooms.say, "text", "(no /) send text to the current room"),
    "send": Command(rooms.send, "/send #a,#b text", "send text to several rooms you are in"),
    "history": Command(rooms.history, "/history [#room] [n]", "the room's last n messages"),
    "members": Command(rooms.members, "/members [#room]", "who is in the room"),
    "msg": Command(rooms.msg, "/msg user text", "send a personal message"),
    "inbox": Command(rooms.inbox, "/inbox [n]", "your latest personal messages", "login"),
    "exit": Command(account.exit_client, "/exit", "disconnect and quit the program", ""),
    "help": Command(_help, "/help", "this list", ""),
    "raw": Command(account.raw, "/raw IRC line", "send a raw IRC line (for experts)"),
}
ALIASES = {"quit": "exit", "list": "rooms", "part": "leave", "names": "members", "quote": "raw"}


def run(state: ClientState, text: str) -> list[Output]:
    """One line typed by the user -> outputs (lines for the server, events, actions)."""
    line = text.strip()
    if not line:
        return []
    if not line.startswith("/") or line.startswith("//"):
        name, args = "say", line[1:] if line.startswith("//") else line
    else:
        name, _, args = line[1:].partition(" ")
        name = ALIASES.get(name.lower(), name.lower())
        if name == "say":
            name = ""
    command = COMMANDS.get(name)
    if command is None:
        return [Error(f"Unknown command {line.split()[0]}; /help lists the commands")]
    if command.needs and state.phase is Phase.DISCONNECTED:
        return [Error(NOT_CONNECTED)]
    if command.needs and state.phase is Phase.CONNECTING:
        state.queued.append(text)
        return []
    if command.needs == "login" and state.account is None:
        return [Error(NOT_LOGGED_IN)]
    try:
        return command.handler(state, args)
    except UsageError:
        return [Error(f"Usage: {command.usage}")]
