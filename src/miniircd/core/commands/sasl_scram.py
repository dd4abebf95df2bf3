"""SASL SCRAM-SHA-256: the steps of one exchange, between AUTHENTICATE and the store.

`sasl.authenticate` reassembles each client message from its chunks and hands it to
`step`, which answers with the server's next message, the account to log in, or failure.
All of it runs on the loop: checking a proof against the stored keys costs a few HMACs
(the slow PBKDF2 was paid when the record was made, off the loop, with the password).

A name with no SCRAM record (no such account, or one made before SCRAM and not logged in
with its password since) is answered with a fake salt, the same on every try, and the
iteration count of new records; the exchange then fails at the proof with the same 904 a
wrong password gets. Failed proofs count against the login throttle as failed PLAIN
logins do, and a throttled name or address fails at the proof whatever it is.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from typing import TYPE_CHECKING

from miniircd.core.session import Session
from miniircd.logs import fields
from miniircd.protocol.casemap import fold
from miniircd.protocol.scram import (
    CLIENT_DONE,
    CLIENT_FINAL,
    CLIENT_FIRST,
    BadProof,
    ScramError,
    ServerExchange,
)
from miniircd.store.passwords import SCRAM_ITERATIONS, fake_scram_salt, scram_credentials

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.accounts")

# What `step` answers: the kind, and the base64 message to send or the account to log in.
CHALLENGE = "challenge"
LOGIN = "login"
FAIL = "fail"
FAKE_SALT_SECRET = "scram-fake-salt"  # the store's secret the fake salts derive from
SERVER_NONCE_BYTES = 18  # 144 random bits, 24 base64url characters


def step(server: Server, session: Session, payload: str) -> tuple[str, str]:
    """Take the client's next message (base64, reassembled); say what comes next."""
    exchange = session.sasl_scram
    if exchange is None:
        return FAIL, ""
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return FAIL, ""
    try:
        if exchange.state == CLIENT_FIRST:
            return CHALLENGE, _server_first(server, exchange, data)
        if exchange.state == CLIENT_FINAL:
            return _client_final(server, session, exchange, data)
        if exchange.state == CLIENT_DONE:
            exchange.client_done(data)
            return _finish(server, session, exchange)
    except ScramError:
        return FAIL, ""
    return FAIL, ""


def _server_first(server: Server, exchange: ServerExchange, data: bytes) -> str:
    name, authzid = exchange.client_first(data)
    if authzid and fold(authzid) != fold(name):
        raise ScramError("authzid names another account")
    account = server.store.get_account(name)
    credentials = scram_credentials(account.scram if account is not None else None)
    # made whatever the account, so a known name takes as long as an unknown one
    salt = fake_scram_salt(server.store.secret(FAKE_SALT_SECRET), fold(name))
    nonce = secrets.token_urlsafe(SERVER_NONCE_BYTES)
    message = exchange.server_first(credentials, salt, SCRAM_ITERATIONS, nonce)
    return base64.b64encode(message).decode("ascii")


def _client_final(
    server: Server, session: Session, exchange: ServerExchange, data: bytes
) -> tuple[str, str]:
    name, throttle = exchange.username, server.login_throttle
    if not throttle.allows(name, session.host, server.now):
        raise ScramError("throttled")
    try:
        message = exchange.client_final(data)
    except BadProof:
        log.info("login failed", extra=fields(account=name, host=session.host))
        throttle.failed(name, session.host, server.now)
        raise
    return CHALLENGE, base64.b64encode(message).decode("ascii")


def _finish(server: Server, session: Session, exchange: ServerExchange) -> tuple[str, str]:
    """Log in, if the account still has the record the proof was checked against (a
    password change or DROP may have come in between)."""
    account = server.store.get_account(exchange.username)
    if account is None or scram_credentials(account.scram) != exchange.credentials:
        raise ScramError("the account changed during the exchange")
    log.info("login", extra=fields(account=account.name, host=session.host))
    return LOGIN, account.name


def chunks(message: str) -> list[str]:
    """A base64 message as AUTHENTICATE parameters: 400-character chunks, and `+` after a
    last chunk of exactly 400 (or for an empty message)."""
    parts = [message[i : i + 400] for i in range(0, len(message), 400)]
    if not parts or len(parts[-1]) == 400:
        parts.append("+")
    return parts
