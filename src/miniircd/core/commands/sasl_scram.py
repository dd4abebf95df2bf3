"""SASL SCRAM-SHA-256: the steps of one exchange, between AUTHENTICATE and the store.

`sasl.authenticate` reassembles each client message from its chunks and hands it to
`step`, which says what comes next through its continuation: the server's next message,
the account to log in, or failure. All of it runs on the loop: checking a proof against
the stored keys costs a few HMACs (the slow PBKDF2 was paid when the record was made, off
the loop, with the password).

A name with no SCRAM record (no such account, or one made before SCRAM and not logged in
with its password since) is answered with a fake salt, the same on every try, and the
iteration count of new records; the exchange then fails at the proof with the same 904 a
wrong password gets. Failed proofs count against the login throttle as failed PLAIN
logins do, and a throttled name or address fails at the proof whatever it is.

On a server whose `services_hub` names another server (docs/linking.md, "Services hub")
the records and the login throttle are the hub's, and this server runs the exchange with
two requests to it (core.services_link; the session waits meanwhile, as for a PLAIN
login): at the client-first message `SCRAM <account>` fetches the name's record, or the
fake salt the hub shows for it; at the client-final message `PROOF <host> <account>`
says whether the proof was right (with the StoredKey it was checked against) or wrong
(`*`), and the hub checks its throttle, counts a wrong proof, and confirms the account
before the server signature goes out. `record_answer` and `proof_answer` are the hub's
side of those requests.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from miniircd.core import services_link
from miniircd.core.session import Session
from miniircd.logs import fields
from miniircd.protocol.casemap import fold
from miniircd.protocol.scram import (
    CLIENT_DONE,
    CLIENT_FINAL,
    CLIENT_FIRST,
    BadProof,
    Credentials,
    ScramError,
    ServerExchange,
)
from miniircd.store.passwords import SCRAM_ITERATIONS, fake_scram_salt, scram_credentials

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.accounts")

# What comes next, given to `step`'s continuation with the base64 message to send or the
# account to log in: UNAVAILABLE when the services hub could not be asked.
CHALLENGE = "challenge"
LOGIN = "login"
FAIL = "fail"
UNAVAILABLE = "unavailable"
Then = Callable[[str, str], None]

FAKE_SALT_SECRET = "scram-fake-salt"  # the store's secret the fake salts derive from
SERVER_NONCE_BYTES = 18  # 144 random bits, 24 base64url characters
RECORD, PROOF = "SCRAM", "PROOF"  # the requests to the services hub
WRONG_PROOF = "*"  # PROOF's secret for a proof that was wrong


def step(server: Server, session: Session, payload: str, then: Then) -> None:
    """Take the client's next message (base64, reassembled); `then(what, value)` says
    what comes next, at once or once the services hub answered."""
    exchange = session.sasl_scram
    if exchange is None:
        then(FAIL, "")
        return
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        then(FAIL, "")
        return
    try:
        if exchange.state == CLIENT_FIRST:
            _server_first(server, session, exchange, data, then)
        elif exchange.state == CLIENT_FINAL:
            _client_final(server, session, exchange, data, then)
        elif exchange.state == CLIENT_DONE:
            exchange.client_done(data)
            _finish(server, session, exchange, then)
        else:
            then(FAIL, "")
    except ScramError:
        then(FAIL, "")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _fake_salt(server: Server, name: str) -> bytes:
    return fake_scram_salt(server.store.secret(FAKE_SALT_SECRET), fold(name))


def _server_first(
    server: Server, session: Session, exchange: ServerExchange, data: bytes, then: Then
) -> None:
    name, authzid = exchange.client_first(data)
    if authzid and fold(authzid) != fold(name):
        raise ScramError("authzid names another account")
    nonce = secrets.token_urlsafe(SERVER_NONCE_BYTES)

    def challenge(credentials: Credentials | None, salt: bytes, iterations: int) -> None:
        message = exchange.server_first(credentials, salt, iterations, nonce)
        then(CHALLENGE, _b64(message))

    if server.config.remote_services is None:
        account = server.store.get_account(name)
        credentials = scram_credentials(account.scram if account is not None else None)
        # made whatever the account, so a known name takes as long as an unknown one
        challenge(credentials, _fake_salt(server, name), SCRAM_ITERATIONS)
        return
    if not services_link.fits(name):
        # no account anywhere has such a name: the hub is not asked (as for PLAIN)
        challenge(None, _fake_salt(server, name), SCRAM_ITERATIONS)
        return

    def answered(answer: str, value: str) -> None:
        if session.sasl_scram is not exchange:
            return
        offer = _offer(answer, value)
        if offer is None:
            then(UNAVAILABLE, "")
            return
        try:
            challenge(*offer)
        except ScramError:
            then(FAIL, "")

    services_link.ask(server, session, "AUTHENTICATE", [RECORD, name], "", answered)


def _offer(answer: str, value: str) -> tuple[Credentials | None, bytes, int] | None:
    """What the hub's answer to RECORD offers the client: the account's record, or the
    fake salt and iteration count of a name without one; None if it could not answer."""
    if answer == services_link.OK:
        credentials = scram_credentials(value)
        if credentials is not None:
            return credentials, credentials.salt, credentials.iterations
    elif answer == services_link.DENIED:
        count, _, encoded = value.partition("$")
        try:
            iterations, salt = int(count), base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return None
        if iterations > 0 and salt:
            return None, salt, iterations
    return None


def _client_final(
    server: Server, session: Session, exchange: ServerExchange, data: bytes, then: Then
) -> None:
    name, throttle = exchange.username, server.login_throttle
    if server.config.remote_services is None:
        if not throttle.allows(name, session.host, server.now):
            raise ScramError("throttled")
        try:
            message = exchange.client_final(data)
        except BadProof:
            log.info("login failed", extra=fields(account=name, host=session.host))
            throttle.failed(name, session.host, server.now)
            raise
        then(CHALLENGE, _b64(message))
        return
    # A malformed message fails here as it would on the hub (nothing is counted for it);
    # a proof, right or wrong, is the hub's to count and to let through.
    try:
        message = exchange.client_final(data)
    except BadProof:
        message = b""
    if not services_link.fits(name):
        raise ScramError("no such account")
    credentials = exchange.credentials
    key = _b64(credentials.stored_key) if message and credentials else WRONG_PROOF

    def answered(answer: str, account: str) -> None:
        if session.sasl_scram is not exchange:
            return
        if answer == services_link.UNAVAILABLE:
            then(UNAVAILABLE, "")
        elif answer == services_link.OK and message:
            session.sasl_account = account
            then(CHALLENGE, _b64(message))
        else:
            then(FAIL, "")

    operation = [PROOF, session.host, name]
    services_link.ask(server, session, "AUTHENTICATE", operation, key, answered)


def _finish(server: Server, session: Session, exchange: ServerExchange, then: Then) -> None:
    """Log in, if the account still has the record the proof was checked against (a
    password change or DROP may have come in between; the services hub checked that when
    it confirmed the proof)."""
    if server.config.remote_services is not None:
        if session.sasl_account is None:
            raise ScramError("the services hub confirmed no account")
        then(LOGIN, session.sasl_account)
        return
    account = server.store.get_account(exchange.username)
    if account is None or scram_credentials(account.scram) != exchange.credentials:
        raise ScramError("the account changed during the exchange")
    log.info("login", extra=fields(account=account.name, host=session.host))
    then(LOGIN, account.name)


def record_answer(server: Server, name: str) -> tuple[str, str]:
    """The hub's answer to RECORD: OK with the name's record as stored, or DENIED with
    `<iterations>$<salt>`, the fake salt its own users are offered for a name without one."""
    account = server.store.get_account(name)
    salt = _fake_salt(server, name)  # whatever the account, as for a user here
    record = account.scram if account is not None else None
    if record is not None and scram_credentials(record) is not None:
        return services_link.OK, record
    return services_link.DENIED, f"{SCRAM_ITERATIONS}${_b64(salt)}"


def proof_answer(server: Server, host: str, name: str, key: str) -> tuple[str, str]:
    """The hub's answer to PROOF from a user at `host`: OK with the account's name if
    logins are not throttled for it and the proof was right against its current record
    (`key`, its StoredKey); DENIED otherwise, a wrong proof counted as a failed login."""
    throttle = server.login_throttle
    if not throttle.allows(name, host, server.now):
        return services_link.DENIED, ""
    if key == WRONG_PROOF:
        log.info("login failed", extra=fields(account=name, host=host))
        throttle.failed(name, host, server.now)
        return services_link.DENIED, ""
    account = server.store.get_account(name)
    credentials = scram_credentials(account.scram if account is not None else None)
    if account is None or credentials is None or _b64(credentials.stored_key) != key:
        return services_link.DENIED, ""  # the password changed since the record was sent
    log.info("login", extra=fields(account=account.name, host=host))
    return services_link.OK, account.name


def chunks(message: str) -> list[str]:
    """A base64 message as AUTHENTICATE parameters: 400-character chunks, and `+` after a
    last chunk of exactly 400 (or for an empty message)."""
    parts = [message[i : i + 400] for i in range(0, len(message), 400)]
    if not parts or len(parts[-1]) == 400:
        parts.append("+")
    return parts
