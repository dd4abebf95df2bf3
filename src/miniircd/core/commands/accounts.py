"""Accounts: create (REGISTER), log in (PASS; SASL's exchanges are in commands.sasl) and
the shared login machinery.

Password hashing and checking run off the loop (`jobs.defer`). An unknown account and a
wrong password look the same to the client, in words and in timing: an unknown name is
checked against a dummy hash. Failed logins are throttled per account and per IP: after
`login_attempts` failures within `login_window` seconds further tries fail at once.
A password is also made into a SCRAM-SHA-256 record whenever it is set or, for an account
that has none yet, first checked right (SCRAM's steps are in sasl_scram).
On a server whose `services_hub` names another server, logins and new accounts are the
hub's to check and store (`verify_login`, `create_account` ask it through
core.services_link; SCRAM's exchange fetches the hub's record, sasl_scram).
The hub runs `check_login` and `store_account` for those requests (core.s2s_services).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from miniircd.core import actions, capabilities, jobs, replica, services_link
from miniircd.core.commands import monitor
from miniircd.core.errors import Fail
from miniircd.core.services import is_service
from miniircd.core.session import Session
from miniircd.logs import fields
from miniircd.protocol.casemap import is_valid_nick
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import RPL_LOGGEDIN, RPL_LOGGEDOUT
from miniircd.store.base import Account
from miniircd.store.passwords import (
    hash_password,
    is_login_token,
    login_token_matches,
    scram_record,
    verify_password,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.accounts")
EMAIL_MAX = 254  # the longest address SMTP can carry (RFC 5321)
# What a client is told when the services hub could not answer (core.services_link).
HUB_AWAY = "the services hub cannot be reached; try again later"
# An unknown account is checked against this, so it costs as much as a wrong password.
_DUMMY_HASH = hash_password("miniircd dummy password")


def is_valid_account_name(server: Server, name: str) -> bool:
    """Account names follow the nick rules, so that an account's name can be its nick."""
    return is_valid_nick(name, server.config.nicklen) and not is_service(name)


def is_valid_email(address: str) -> bool:
    """Whether `address` looks like one: something, `@`, a domain. Nothing is ever sent to
    it (this server sends no mail), so this only catches slips and oversized input."""
    local, _, domain = address.rpartition("@")
    ok = bool(local and domain) and len(address) <= EMAIL_MAX
    return ok and not address.startswith(":")  # (so it can cross a link as one word)


def password_problem(server: Server, password: str) -> str | None:
    """Why `password` may not be used, or None."""
    low, high = server.config.password_min_length, server.config.password_max_length
    if not low <= len(password) <= high:
        return f"Passwords must be {low} to {high} characters long"
    return None


def check_password(
    server: Server,
    session: Session | None,
    name: str,
    password: str,
    then: Callable[[Account | None], None],
    host: str = "",
) -> None:
    """Check `name`/`password` off the loop; `then(account)` on success, `then(None)` if not.
    `session` is the user asking; None for a user of another server (at `host`), whom
    nothing here waits for."""
    account = server.store.get_account(name)
    encoded = account.password_hash if account is not None else _DUMMY_HASH
    upgrade = account is not None and account.scram is None
    made: list[str] = []  # the SCRAM record made off the loop, for an account without one

    def verify() -> bool:
        right = verify_password(password, encoded)
        if right and upgrade:
            made.append(scram_record(password))
        return right

    def done(found: Account | None) -> None:
        if found is not None and made:
            server.store.set_scram(found.name, found.password_hash, made[0])
        then(found)

    _check(server, session, host, name, account, verify, done)


def check_login(
    server: Server,
    session: Session | None,
    name: str,
    secret: str,
    then: Callable[[Account | None], None],
    host: str = "",
) -> None:
    """As `check_password`, for a login: a login token of the account (NickServ TOKEN) is
    as good as its password. Changes to the account itself ask for the password."""
    if not is_login_token(secret):
        check_password(server, session, name, secret, then, host)
        return
    account = server.store.get_account(name)
    hashes = server.store.login_tokens(name) if account is not None else []

    def verify() -> bool:
        return login_token_matches(secret, hashes)

    _check(server, session, host, name, account, verify, then)


def _check(
    server: Server,
    session: Session | None,
    host: str,
    name: str,
    account: Account | None,
    verify: Callable[[], bool],
    then: Callable[[Account | None], None],
) -> None:
    """Run `verify` off the loop unless failures from this account or address are
    throttled; log the outcome and count a failure."""
    throttle = server.login_throttle
    host = session.host if session is not None else host
    if not throttle.allows(name, host, server.now):
        # Answered through a job all the same, so a throttled login looks and sequences
        # like any other failure (and registration waiting on it resumes as usual).
        jobs.defer(server, session, lambda: None, then)
        return

    def done(ok: bool) -> None:
        if ok and account is not None:
            log.info("login", extra=fields(account=account.name, host=host))
            then(account)
        else:
            log.info("login failed", extra=fields(account=name, host=host))
            throttle.failed(name, host, server.now)
            then(None)

    jobs.defer(server, session, verify, done)


def verify_login(
    server: Server, session: Session, verb: str, name: str, secret: str, then: services_link.Answer
) -> None:
    """A login by `session`'s command `verb`, checked here or, on a server with a services
    hub elsewhere, by the hub: `then(answer, account)`, the answer OK (with the account's
    name), DENIED or UNAVAILABLE (services_link)."""
    if server.config.remote_services is None:

        def checked(account: Account | None) -> None:
            if account is None:
                then(services_link.DENIED, "")
            else:
                then(services_link.OK, account.name)

        check_login(server, session, name, secret, checked)
    elif not services_link.fits(name) or any(c in secret for c in "\r\n\0"):
        then(services_link.DENIED, "")  # no account has such a name or password
    else:
        services_link.ask(server, session, verb, ["LOGIN", session.host, name], secret, then)


def login(server: Server, session: Session, account: str) -> None:
    """Mark the session as logged in to `account` and tell it (900) and its peers."""
    session.account = account
    text = f"You are now logged in as {account}"
    server.outbox.numeric(session, RPL_LOGGEDIN, _mask(session), account, text)
    _notify_account(server, session)
    actions.account_changed(server, session)


def logout(server: Server, session: Session) -> None:
    session.account = None
    server.outbox.numeric(session, RPL_LOGGEDOUT, _mask(session), "You are now logged out")
    _notify_account(server, session)
    actions.account_changed(server, session)


def _mask(session: Session) -> str:
    """nick!user@host for 900/901, or `*` while the session has neither nick nor user."""
    return session.prefix if session.nick and session.user else "*"


def _notify_account(server: Server, session: Session) -> None:
    """account-notify: `ACCOUNT <name|*>` to peers (and self) that asked for it, and to
    MONITOR watchers with extended-monitor."""
    if not session.registered:
        return
    near = server.state.peers_and_self(session)
    watchers = monitor.audience(server, session, "account-notify", near)
    msg = Message("ACCOUNT", [session.account or "*"], session.prefix)
    server.outbox.send_many(watchers, msg, session)


def store_account(
    server: Server,
    session: Session | None,
    name: str,
    password: str,
    email: str | None,
    then: Callable[[str], None],
) -> None:
    """Hash off the loop, then store the account. `then` gets "created", or "taken" if the
    name was taken meanwhile, or "logged in" if `session` logged in meanwhile (None: a
    user of another server, whose server creates the account for it)."""

    def store(hashes: tuple[str, str]) -> None:
        encoded, record = hashes
        if session is not None and session.account is not None:
            then("logged in")
        elif server.store.create_account(made := Account(name, encoded, email, server.now, record)):
            replica.account_made(server, made)
            then("created")
        else:
            then("taken")

    jobs.defer(server, session, lambda: (hash_password(password), scram_record(password)), store)


def account_exists(server: Server, name: str) -> bool:
    """Whether this server knows `name` is taken: with a services hub elsewhere, only the
    hub does (it answers TAKEN when asked to create it)."""
    return server.config.remote_services is None and server.store.get_account(name) is not None


def create_account(
    server: Server,
    session: Session,
    verb: str,
    name: str,
    password: str,
    email: str | None,
    then: Callable[[str], None],
) -> None:
    """Store the account (here, or on the services hub) and log the session in to it.
    `then` gets what `store_account` gives, or "unavailable" if the hub could not answer."""

    def stored(outcome: str) -> None:
        if outcome == "created":
            login(server, session, name)
            actions.nick_owner_changed(server, name)
        then(outcome)

    def answered(answer: str, account: str) -> None:
        if answer == services_link.OK:
            stored("logged in" if session.account is not None else "created")
        else:
            then("taken" if answer == services_link.TAKEN else "unavailable")

    if server.config.remote_services is None:
        store_account(server, session, name, password, email, stored)
    else:
        operation = ["REGISTER", name, email or "*"]
        services_link.ask(server, session, verb, operation, password, answered)


# REGISTER <account> {<email> | *} <password>   (IRCv3 draft/account-registration)
def register(server: Server, session: Session, msg: Message) -> None:
    name, email, password = msg.params[0], msg.params[1], msg.params[2]
    if name == "*":
        # the nick, or, before one was accepted, the one refused as in use: a land grab
        name = session.nick or session.nick_refused or "*"
    if not session.registered and not capabilities.register_before_connect(server.config):
        # Refused exactly when CAP LS does not offer `before-connect`, as the spec requires.
        raise Fail(
            "REGISTER", "COMPLETE_CONNECTION_REQUIRED", name,
            "You must complete connection registration first",
        )  # fmt: skip
    if name == "*":
        raise Fail("REGISTER", "NEED_NICK", "*", "You must choose a nickname first")
    if session.account is not None:
        raise Fail("REGISTER", "ALREADY_AUTHENTICATED", name, "You are already logged in")
    if account_exists(server, name):
        raise Fail("REGISTER", "ACCOUNT_EXISTS", name, "That account name is already taken")
    if server.state.find_nick(name) not in (None, session):
        # No land grabs: its holder would be made to identify or lose it (nickserv). The
        # spec has no code for a nick in use; this is the one Ergo sends and irctest expects.
        raise Fail("REGISTER", "USERNAME_EXISTS", name, "That name is someone else's nick")
    if not is_valid_account_name(server, name):
        raise Fail("REGISTER", "BAD_ACCOUNT_NAME", name, "That account name is not valid")
    if email != "*" and not is_valid_email(email):
        raise Fail("REGISTER", "INVALID_EMAIL", name, "That email address is not valid")
    problem = password_problem(server, password)
    if problem or " " in password:
        raise Fail("REGISTER", "WEAK_PASSWORD", name, problem or "Passwords may not hold spaces")

    def done(outcome: str) -> None:
        if outcome == "created":
            server.outbox.from_server(
                session, "REGISTER", "SUCCESS", name, "Account successfully registered"
            )
        elif outcome == "taken":
            raise Fail("REGISTER", "ACCOUNT_EXISTS", name, "That account name is already taken")
        elif outcome == "unavailable":
            raise Fail("REGISTER", "TEMPORARILY_UNAVAILABLE", name, HUB_AWAY)
        else:
            raise Fail("REGISTER", "ALREADY_AUTHENTICATED", name, "You are already logged in")

    email_or_none = None if email == "*" else email
    create_account(server, session, "REGISTER", name, password, email_or_none, done)


def pass_login(server: Server, session: Session) -> None:
    """`PASS account:password`, or `PASS password` for the account named like the nick."""
    given, session.password = session.password or "", None
    name, sep, password = given.partition(":")
    if not sep:
        name, password = session.nick or "", given

    def done(answer: str, account: str) -> None:
        if answer == services_link.OK:
            login(server, session, account)
            return
        why = HUB_AWAY if answer == services_link.UNAVAILABLE else "invalid account or password"
        server.outbox.from_server(session, "NOTICE", session.name, "Login failed: " + why)

    verify_login(server, session, "PASS", name, password, done)
