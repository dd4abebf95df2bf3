"""The connection and account commands: /connect, /disconnect, /register, /login, /logout,
/exit and /raw.

Each handler takes the state and the text after the command name and returns outputs; it
raises `UsageError` for wrong arguments. Checks that every command shares (connected,
logged in) are made by the table in `commands.py` before a handler runs; the ones here are
the command's own, all made before anything is sent.
"""

from __future__ import annotations

from miniircd.client.events import Close, Connect, Error, Info, Output, Quit, Send
from miniircd.client.state import PASSWORD_MAX, PASSWORD_MIN, ClientState, Phase, UsageError

__all__ = [
    "connect",
    "disconnect",
    "exit_client",
    "invalid_user",
    "login",
    "logout",
    "parse_address",
    "raw",
    "register",
]


def invalid_user(state: ClientState, name: str) -> Error:
    longest = state.limit("NICKLEN", 30)
    return Error(
        f"Invalid user name {name!r}: 1 to {longest} letters, digits, - or one of []\\`_^{{|}},"
        " not starting with a digit or -"
    )


# --- connection ------------------------------------------------------------------------


def parse_address(text: str, tls: bool) -> tuple[str, int] | None:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 address -> (host, port)."""
    default = 6697 if tls else 6667
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    else:
        host, port = text, ""
    if not host or (port and not (port.isdigit() and 0 < int(port) < 65536)):
        return None
    return host, int(port) if port else default


def connect(state: ClientState, args: str) -> list[Output]:
    # /connect host[:port] [--tls] [--insecure]
    words = args.split()
    flags = {word for word in words if word.startswith("--")}
    rest = [word for word in words if not word.startswith("--")]
    if state.phase is not Phase.DISCONNECTED:
        return [Error(f"Already connected to {state.server}; use /disconnect first")]
    if len(rest) != 1 or not flags <= {"--tls", "--insecure"}:
        raise UsageError
    tls = "--tls" in flags or "--insecure" in flags
    address = parse_address(rest[0], tls)
    if address is None:
        return [Error(f"Invalid address {rest[0]!r}: use host or host:port")]
    host, port = address
    state.phase = Phase.CONNECTING
    state.server = f"{host}:{port}"
    state.start("connect", "")
    how = " with TLS" + (" (certificate not checked)" if "--insecure" in flags else "")
    return [
        Info(f"Connecting to {state.server}{how if tls else ''}..."),
        Connect(host, port, tls, "--insecure" in flags),
    ]


def disconnect(state: ClientState, args: str) -> list[Output]:
    # /disconnect
    if state.phase is Phase.DISCONNECTED:
        return [Error("Not connected")]
    server = state.server
    state.reset()
    return [Send("QUIT :Leaving"), Close(), Info(f"Disconnected from {server}")]


def exit_client(state: ClientState, args: str) -> list[Output]:
    # /exit
    out: list[Output] = []
    if state.phase is not Phase.DISCONNECTED:
        out += [Send("QUIT :Leaving"), Close()]
        state.reset()
    return [*out, Info("Bye"), Quit()]


def raw(state: ClientState, args: str) -> list[Output]:
    # /raw <IRC line>
    if not args.strip():
        raise UsageError
    return [Send(args.strip())]


# --- accounts --------------------------------------------------------------------------


def _credentials(state: ClientState, args: str) -> tuple[str, str] | list[Output]:
    """(user, password) from `user password`, or the errors to show."""
    if state.account is not None:
        return [Error(f"You are already logged in as {state.account}; use /logout first")]
    user, _, password = args.strip().partition(" ")
    password = password.strip()
    if not user or not password:
        raise UsageError
    if not state.valid_user(user):
        return [invalid_user(state, user)]
    if any(char.isspace() for char in password):
        return [Error("Invalid password: it may not contain spaces")]
    return user, password


def register(state: ClientState, args: str) -> list[Output]:
    # /register user pass -> REGISTER user * pass, or NICK user + NickServ REGISTER pass
    checked = _credentials(state, args)
    if isinstance(checked, list):
        return checked
    user, password = checked
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        return [Error(f"Invalid password: use {PASSWORD_MIN} to {PASSWORD_MAX} characters")]
    out: list[Output] = []
    if "draft/account-registration" in state.caps_offered:
        options = state.caps_offered["draft/account-registration"].split(",")
        if "custom-account-name" in options or state.is_me(user):
            out.append(Send(f"REGISTER {user} * {password}"))
        else:
            state.wanted_nick = user
            out += [Send(f"NICK {user}"), Send(f"REGISTER * * {password}")]
        state.start("register", "REGISTER", [user], arg=user)
        return out
    if not state.is_me(user):
        state.wanted_nick = user
        out.append(Send(f"NICK {user}"))
    state.start("register", "NICKSERV", [user], arg=user)
    return [*out, Send(f"PRIVMSG NickServ :REGISTER {password}")]


def login(state: ClientState, args: str) -> list[Output]:
    # /login user pass -> SASL PLAIN when offered, else NickServ IDENTIFY user pass
    checked = _credentials(state, args)
    if isinstance(checked, list):
        return checked
    user, password = checked
    if "sasl" in state.caps:
        state.start("login", "AUTHENTICATE", [user], stage="sasl", arg=user, secret=password)
        return [Send("AUTHENTICATE PLAIN")]
    state.start("login", "NICKSERV", [user], arg=user)
    return [Send(f"PRIVMSG NickServ :IDENTIFY {user} {password}")]


def logout(state: ClientState, args: str) -> list[Output]:
    # /logout -> NICK <guest nick> (so the nick is not an account's), NickServ LOGOUT
    out: list[Output] = []
    if not state.is_me(state.guest_nick):
        state.wanted_nick = state.guest_nick
        out.append(Send(f"NICK {state.guest_nick}"))
    state.start("logout", "NICKSERV")
    return [*out, Send("PRIVMSG NickServ :LOGOUT")]
