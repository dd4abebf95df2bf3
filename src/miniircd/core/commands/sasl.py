"""SASL (IRCv3 sasl-3.1): `AUTHENTICATE`'s framing (base64 chunks of at most 400
characters, reassembled into one message) and its mechanisms: PLAIN, whose password is
checked as any login is (accounts.verify_login: here, or by the services hub), and
SCRAM-SHA-256, whose steps are in sasl_scram (with the records here, or on the hub).
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from miniircd.core import capabilities, services_link
from miniircd.core.commands import accounts, sasl_scram
from miniircd.core.errors import IrcError
from miniircd.core.session import Session
from miniircd.protocol import scram
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_SASLABORTED,
    ERR_SASLALREADY,
    ERR_SASLFAIL,
    ERR_SASLTOOLONG,
    RPL_SASLMECHS,
    RPL_SASLSUCCESS,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

SASL_CHUNK = 400
# Base64 characters buffered for one SASL message: 1200 bytes, twice the longest PLAIN
# message (two names and a password) that fits in the 512-byte line that set the password.
SASL_MAX = 4 * SASL_CHUNK


# AUTHENTICATE <mechanism> | <base64 chunk> | + | *
def authenticate(server: Server, session: Session, msg: Message) -> None:
    data = msg.params[0]
    if data == "*":
        _sasl_reset(session)
        raise IrcError(ERR_SASLABORTED, "SASL authentication aborted")
    if session.sasl_mechanism is None:
        if session.account is not None:
            raise IrcError(ERR_SASLALREADY, "You have already authenticated using SASL")
        mechanism = data.upper()
        mechanisms = capabilities.SASL_MECHANISMS
        if mechanism not in mechanisms.split(","):
            text = "are available SASL mechanisms"
            server.outbox.numeric(session, RPL_SASLMECHS, mechanisms, text)
            raise _sasl_failed()
        session.sasl_mechanism = mechanism
        if mechanism == scram.MECHANISM:
            session.sasl_scram = scram.ServerExchange()
        server.outbox.send(session, Message("AUTHENTICATE", ["+"]))
        return
    if data != "+":  # `+` carries no data: it ends a message that filled its last chunk
        if len(data) > SASL_CHUNK or len(session.sasl_buffer) + len(data) > SASL_MAX:
            _sasl_reset(session)
            raise IrcError(ERR_SASLTOOLONG, "SASL message too long")
        session.sasl_buffer += data
    if len(data) == SASL_CHUNK:
        return  # more to come
    payload, session.sasl_buffer = session.sasl_buffer, ""
    if session.sasl_mechanism == "PLAIN":
        _sasl_plain(server, session, payload)
    else:
        _sasl_scram(server, session, payload)


def _sasl_reset(session: Session) -> None:
    session.sasl_mechanism = None
    session.sasl_buffer = ""
    session.sasl_scram = None
    session.sasl_account = None


def _sasl_failed() -> IrcError:
    """904, the one answer to any failed SASL exchange (it tells nothing of why)."""
    return IrcError(ERR_SASLFAIL, "SASL authentication failed")


def _sasl_plain(server: Server, session: Session, payload: str) -> None:
    try:
        authzid, authcid, password = base64.b64decode(payload, validate=True).decode().split("\0")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        _sasl_reset(session)
        raise _sasl_failed() from None
    if authzid and fold(authzid) != fold(authcid):
        _sasl_reset(session)
        raise _sasl_failed()

    def done(answer: str, account: str) -> None:
        logged_in = account if answer == services_link.OK else None
        _finish(server, session, logged_in, answer == services_link.UNAVAILABLE)

    accounts.verify_login(server, session, "AUTHENTICATE", authcid, password, done)


def _sasl_scram(server: Server, session: Session, payload: str) -> None:
    def then(outcome: str, value: str) -> None:
        if outcome == sasl_scram.CHALLENGE:
            for chunk in sasl_scram.chunks(value):
                server.outbox.send(session, Message("AUTHENTICATE", [chunk]))
            return
        logged_in = value if outcome == sasl_scram.LOGIN else None
        _finish(server, session, logged_in, outcome == sasl_scram.UNAVAILABLE)

    sasl_scram.step(server, session, payload, then)


def _finish(server: Server, session: Session, account: str | None, hub_away: bool) -> None:
    """The end of a SASL exchange: logged in to `account`, or failed (None), or failed
    because the services hub could not be asked."""
    _sasl_reset(session)
    if hub_away:
        raise IrcError(ERR_SASLFAIL, "SASL authentication failed: " + accounts.HUB_AWAY)
    if account is None:
        raise _sasl_failed()
    accounts.login(server, session, account)
    server.outbox.numeric(session, RPL_SASLSUCCESS, "SASL authentication successful")
