"""NickServ: account commands by private message, and nick protection.

`/msg NickServ REGISTER <password> [email]` creates an account named after the current nick;
IDENTIFY, LOGOUT, INFO, DROP and PASSWD do what their names say. TOKEN gives a login token,
which logs in (SASL PLAIN, PASS, IDENTIFY) as the password does but cannot change or drop
the account; a new password revokes them all. Every answer is a NOTICE
from NickServ. A nick that is a registered account's name is protected: whoever uses it
without being logged in to that account is asked to identify and, after `nick_grace`
seconds, renamed to a guest nick (`Guest` and five digits).
On a server whose `services_hub` names another server, REGISTER, IDENTIFY, TOKEN, PASSWD
and DROP are done by the hub (core.services_link), LOGOUT works as anywhere, and INFO and
INBOX read this server's copies (core.replica); a DROP reaches every server's copy of the
account (core.replica_accounts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from miniircd.core import actions, jobs, replica_accounts, services_link
from miniircd.core.commands import accounts
from miniircd.core.commands.history import show_inbox
from miniircd.core.params import parse_count
from miniircd.core.services import ServiceCommand, notice, run_command
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold
from miniircd.store.base import Account
from miniircd.store.passwords import (
    hash_password,
    login_token_hash,
    new_login_token,
    scram_record,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

NICK = "NickServ"
HELP = (
    "NickServ keeps accounts. Commands:",
    "REGISTER <password> [email] - create an account named after your nick",
    "IDENTIFY [account] <password> - log in",
    "LOGOUT - log out",
    "INFO [account] - about an account",
    "PASSWD <old password> <new password> - change your password",
    "DROP <password> - delete your account",
    "INBOX [count] - your latest private messages, read or not",
    "TOKEN - a login token, to stay logged in on a device without keeping your password",
    "TOKEN REVOKE <token>|ALL - stop one login token (or all of them) from working",
)
LOGIN_TOKENS_KEPT = 20  # per account; a new one past this drops the oldest
HUB_AWAY = "The services hub cannot be reached; try again later."


def _say(server: Server, user: User, text: str) -> None:
    notice(server, user, NICK, text)


# PRIVMSG NickServ :<command> [<args>...]
def handle(server: Server, user: User, text: str) -> None:
    run_command(server, user, NICK, text, COMMANDS, HELP)


def _register(server: Server, session: Session, args: list[str]) -> None:
    if not args or len(args) > 2:
        _say(server, session, "Syntax: REGISTER <password> [email]")
        return
    name = session.name
    if session.account is not None:
        _say(server, session, f"You are already logged in as {session.account}.")
        return
    if not accounts.is_valid_account_name(server, name):
        _say(server, session, f"{name} cannot be an account name.")
        return
    problem = accounts.password_problem(server, args[0])
    if problem:
        _say(server, session, problem + ".")
        return
    email = args[1] if len(args) > 1 else None
    if email is not None and not accounts.is_valid_email(email):
        _say(server, session, f"{email} is not a valid email address.")
        return
    if accounts.account_exists(server, name):
        _say(server, session, f"The account {name} is already registered.")
        return

    def done(outcome: str) -> None:
        if outcome == "created":
            _say(server, session, f"Account {name} registered; you are now logged in.")
        elif outcome == "taken":
            _say(server, session, f"The account {name} is already registered.")
        elif outcome == "unavailable":
            _say(server, session, HUB_AWAY)
        else:
            _say(server, session, f"You are already logged in as {session.account}.")

    accounts.create_account(server, session, "PRIVMSG", name, args[0], email, done)


def _identify(server: Server, session: Session, args: list[str]) -> None:
    if not args or len(args) > 2:
        _say(server, session, "Syntax: IDENTIFY [account] <password>")
        return
    if session.account is not None:
        _say(server, session, f"You are already logged in as {session.account}.")
        return
    name, password = (args[0], args[1]) if len(args) == 2 else (session.name, args[0])

    def done(answer: str, account: str) -> None:
        if answer == services_link.OK:
            accounts.login(server, session, account)
            _say(server, session, f"You are now logged in as {account}.")
        elif answer == services_link.UNAVAILABLE:
            _say(server, session, HUB_AWAY)
        else:
            _say(server, session, "Invalid account or password.")

    accounts.verify_login(server, session, "PRIVMSG", name, password, done)


def _logout(server: Server, session: Session, args: list[str]) -> None:
    if session.account is None:
        _say(server, session, "You are not logged in.")
        return
    accounts.logout(server, session)
    _say(server, session, "You are now logged out.")


def _info(server: Server, session: Session, args: list[str]) -> None:
    name = args[0] if args else session.account or session.name
    account = server.store.get_account(name)
    if account is None:
        _say(server, session, f"{name} is not a registered account.")
        return
    since = datetime.fromtimestamp(account.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
    online = [user.name for user in server.state.logged_in(account.name)]
    _say(server, session, f"Account {account.name}, registered {since}.")
    _say(server, session, f"Logged in now as: {', '.join(online) if online else 'nobody'}.")


def _own_account(server: Server, session: Session, passwords: list[str]) -> str | None:
    """The account a change is for: the one the session is logged in to, if it is (and
    `passwords` could cross a link to the hub: NickServ's words hold no spaces)."""
    if session.account is None:
        _say(server, session, "You are not logged in.")
        return None
    if any("\0" in password for password in passwords):
        _say(server, session, "Invalid password.")  # no account has such a password
        return None
    return session.account


def _told(server: Server, session: Session, answer: str, done: str) -> None:
    if answer == services_link.OK:
        _say(server, session, done)
    elif answer == services_link.UNAVAILABLE:
        _say(server, session, HUB_AWAY)
    else:
        _say(server, session, "Invalid password.")


# PASSWD <old password> <new password>
def _passwd(server: Server, session: Session, args: list[str]) -> None:
    if len(args) != 2:
        _say(server, session, "Syntax: PASSWD <old password> <new password>")
        return
    problem = accounts.password_problem(server, args[1])
    if problem:
        _say(server, session, problem + ".")
        return
    name = _own_account(server, session, args)
    if name is None:
        return

    def answered(answer: str, account: str) -> None:
        _told(server, session, answer, "Your password has been changed.")

    if server.config.remote_services is None:
        change_password(server, session, name, args[0], args[1], answered)
    else:
        operation = ["PASSWD", session.host, name]
        services_link.ask(server, session, "PRIVMSG", operation, " ".join(args), answered)


def change_password(
    server: Server,
    session: Session | None,
    name: str,
    current: str,
    new: str,
    then: services_link.Answer,
    host: str = "",
) -> None:
    """PASSWD's work, here or on the services hub for a user of another server (at
    `host`, with no `session`): check the current password (a failure counts in the login
    throttle), hash the new one off the loop, store it and revoke the login tokens (a
    stolen one stops working). `then(OK, account)` or `then(DENIED, "")`."""

    def checked(account: Account | None) -> None:
        if account is None:
            then(services_link.DENIED, "")
            return

        def store(hashes: tuple[str, str]) -> None:
            server.store.set_password(account.name, *hashes)
            server.store.delete_login_tokens(account.name)
            then(services_link.OK, account.name)

        jobs.defer(server, session, lambda: (hash_password(new), scram_record(new)), store)

    accounts.check_password(server, session, name, current, checked, host)


# DROP <password>
def _drop(server: Server, session: Session, args: list[str]) -> None:
    if len(args) != 1:
        _say(server, session, "Syntax: DROP <password>")
        return
    name = _own_account(server, session, args)
    if name is None:
        return

    def answered(answer: str, account: str) -> None:
        if answer == services_link.OK:
            replica_accounts.drop(server, account)  # here (the hub also tells every server)
        _told(server, session, answer, f"The account {account} has been dropped.")

    if server.config.remote_services is None:

        def checked(account: Account | None) -> None:
            if account is None:
                answered(services_link.DENIED, "")
            else:
                answered(services_link.OK, account.name)

        accounts.check_password(server, session, name, args[0], checked)
    else:
        operation = ["DROP", session.host, name]
        services_link.ask(server, session, "PRIVMSG", operation, args[0], answered)


# TOKEN [REVOKE <token>|ALL]
def _token(server: Server, session: Session, args: list[str]) -> None:
    account = session.account
    if account is None:
        _say(server, session, "You are not logged in.")
        return
    if not args:
        operation, which = "TOKEN", ""
    elif len(args) == 2 and args[0].upper() == "REVOKE":
        operation, which = "REVOKE", args[1]
    else:
        _say(server, session, "Syntax: TOKEN [REVOKE <token>|ALL]")
        return

    def answered(answer: str, value: str) -> None:
        _told_token(server, session, operation, which, answer, value)

    if server.config.remote_services is None:
        answered(*token_work(server, operation, account, which))
    else:
        services_link.ask(server, session, "PRIVMSG", [operation, account], which, answered)


def token_work(server: Server, operation: str, account: str, which: str) -> tuple[str, str]:
    """TOKEN's change to the store, here or on the services hub for a user of another
    server: a new token for `account` (TOKEN), or `which` of its tokens revoked (REVOKE:
    one, or ALL). The answer (services_link) and the token, or how many were revoked."""
    if operation == "TOKEN":
        if server.store.get_account(account) is None:
            return services_link.DENIED, ""
        token, token_hash = new_login_token()
        server.store.add_login_token(account, token_hash, server.now, LOGIN_TOKENS_KEPT)
        return services_link.OK, token
    if which.upper() == "ALL":
        return services_link.OK, str(server.store.delete_login_tokens(account))
    revoked = server.store.delete_login_tokens(account, login_token_hash(which))
    return (services_link.OK, str(revoked)) if revoked else (services_link.DENIED, "")


def _told_token(
    server: Server, session: Session, operation: str, which: str, answer: str, value: str
) -> None:
    if answer == services_link.UNAVAILABLE:
        _say(server, session, HUB_AWAY)
    elif operation == "TOKEN" and answer == services_link.OK:
        _say(server, session, f"Your login token: {value}")
        _say(server, session, "Log in with it in place of your password (SASL PLAIN, PASS or")
        _say(server, session, "IDENTIFY). It stops working on TOKEN REVOKE or a new password.")
    elif operation == "TOKEN":
        _say(server, session, f"The account {session.account} is not registered.")
    elif which.upper() == "ALL":
        _say(server, session, f"Revoked all your login tokens ({value}).")
    elif answer == services_link.OK:
        _say(server, session, "That login token is revoked.")
    else:
        _say(server, session, "That is not one of your login tokens.")


def _inbox(server: Server, session: Session, args: list[str]) -> None:
    if session.account is None:
        _say(server, session, "You are not logged in.")
        return
    wanted = parse_count(args[0]) if args else None
    count = min(wanted or server.config.inbox_show, server.config.chathistory_max)
    show_inbox(server, session, count)


COMMANDS: dict[str, ServiceCommand] = {
    "REGISTER": _register,
    "IDENTIFY": _identify,
    "LOGIN": _identify,
    "LOGOUT": _logout,
    "INFO": _info,
    "PASSWD": _passwd,
    "DROP": _drop,
    "INBOX": _inbox,
    "TOKEN": _token,
}


# -- nick protection ----------------------------------------------------------------------------


def protect_nick(server: Server, session: Session) -> None:
    """Start or stop the grace period for the session's current nick."""
    nick = session.nick
    owner = server.store.get_account(nick) if nick and session.registered else None
    if owner is None or (session.account is not None and fold(session.account) == fold(nick or "")):
        session.nick_deadline = None
        server.nick_deadlines.discard(session)
        return
    if session.nick_deadline is None:
        session.nick_deadline = server.now + server.config.nick_grace
        server.nick_deadlines.add(session)
        grace = int(server.config.nick_grace)
        _say(server, session, f"{nick} is a registered account. Log in within {grace} seconds")
        _say(server, session, "(/msg NickServ IDENTIFY <password>) or your nick will be changed.")


def enforce(server: Server) -> None:
    """Rename the sessions whose grace period is over."""
    for session in [s for s in server.nick_deadlines if (s.nick_deadline or 0) <= server.now]:
        server.nick_deadlines.discard(session)
        session.nick_deadline = None
        if session.nick is None or server.store.get_account(session.nick) is None:
            continue  # nobody owns the nick any more
        actions.change_nick(server, session, guest_nick(server))
        _say(server, session, "You did not log in in time; your nick has been changed.")


def guest_nick(server: Server) -> str:
    while True:
        nick = f"Guest{server.ids.guest_suffix()}"
        if server.state.find_nick(nick) is None:
            return nick
