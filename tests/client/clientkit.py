"""Helpers for the client tests: a session wired to imaginary servers, fed their lines."""

from __future__ import annotations

from datetime import UTC

from miniircd.client.events import Event, Output, Send, format_event
from miniircd.client.session import ClientSession

T0 = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
OUR_CAPS = (
    "account-notify account-tag batch draft/account-registration=before-connect,"
    "custom-account-name draft/chathistory echo-message extended-join message-tags sasl=PLAIN "
    "server-time standard-replies"
)
OUR_ISUPPORT = (
    ":irc.test 005 {nick} CASEMAPPING=rfc1459 CHANNELLEN=50 CHANTYPES=# CHATHISTORY=100 "
    "NICKLEN=30 TARGMAX=JOIN:,NAMES:1,PRIVMSG:4 :are supported by this server"
)


def sent(outputs: list[Output]) -> list[str]:
    return [output.line for output in outputs if isinstance(output, Send)]


def shown(outputs: list[Output]) -> list[str]:
    """The display events as the terminal prints them (times in UTC)."""
    events: list[Event] = [o for o in outputs if not isinstance(o, Send) and hasattr(o, "text")]
    return [format_event(event, UTC) for event in events]


class Client:
    """A ClientSession plus the lines it sent and the text it showed."""

    def __init__(self, nick: str = "guest1") -> None:
        self.session = ClientSession(nick, clock=lambda: T0)

    def do(self, text: str) -> list[Output]:
        return self.session.command(text)

    def feed(self, *lines: str) -> list[Output]:
        out: list[Output] = []
        for line in lines:
            out += self.session.receive(line)
        return out

    @property
    def nick(self) -> str:
        return self.session.nick


def ours(caps: str = OUR_CAPS, nick: str = "guest1") -> Client:
    """Connected to a server like ours: every capability offered and acknowledged."""
    client = Client(nick)
    client.do("/connect irc.test")
    client.session.connected()
    requested = sent(client.feed(f":irc.test CAP * LS :{caps}"))
    wanted = requested[0].removeprefix("CAP REQ :") if requested[0].startswith("CAP REQ") else ""
    client.feed(f":irc.test CAP {nick} ACK :{wanted}")
    client.feed(
        f":irc.test 001 {nick} :Welcome to the miniircd Network, {nick}!~{nick}@127.0.0.1",
        OUR_ISUPPORT.format(nick=nick),
        f":irc.test 376 {nick} :End of /MOTD command.",
    )
    return client


def plain(nick: str = "guest1") -> Client:
    """Connected to a server that knows no CAP, no REGISTER, no HISTORY, no TARGMAX."""
    client = Client(nick)
    client.do("/connect old.example:6667")
    client.session.connected()
    client.feed(
        f":old.example 421 {nick} CAP :Unknown command",
        f":old.example 001 {nick} :Welcome",
        f":old.example 005 {nick} CHANTYPES=# NICKLEN=9 :are supported by this server",
        f":old.example 422 {nick} :MOTD File is missing",
    )
    return client


def logged_in(client: Client, account: str = "alice") -> Client:
    nick = client.nick
    client.feed(f":irc.test 900 {nick} {nick}!~u@h {account} :You are now logged in as {account}")
    client.feed(f":{nick}!~u@h NICK {account}")
    return client


def in_rooms(client: Client, *rooms: str) -> Client:
    for room in rooms:
        client.feed(
            f":{client.nick}!~u@h JOIN {room}",
            f":irc.test 353 {client.nick} = {room} :@{client.nick}",
            f":irc.test 366 {client.nick} {room} :End of /NAMES list",
        )
        if "draft/chathistory" in client.session.state.caps:  # the fetch of recent messages
            client.feed(f":irc.test BATCH +j chathistory {room}", ":irc.test BATCH -j")
    return client
