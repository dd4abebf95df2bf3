"""The services hub's side of core.services_link: requests from the other servers for
their users' logins, new accounts, password changes, dropped accounts and login tokens,
answered with the code a user of this server gets (accounts `check_login`,
`store_account`, `check_password`; nickserv `change_password`, `token_work`), and
the passing on of requests and answers meant for servers further away. Only on tags
links: an ngIRCd peer neither sends nor receives these lines.

    :<server> SVCREQ <hub> <id> LOGIN <host> <account> :<password or login token>
    :<server> SVCREQ <hub> <id> REGISTER <account> <email|*> :<password>
    :<server> SVCREQ <hub> <id> PASSWD <host> <account> :<current password> <new password>
    :<server> SVCREQ <hub> <id> DROP <host> <account> :<password>
    :<server> SVCREQ <hub> <id> TOKEN <account> :
    :<server> SVCREQ <hub> <id> REVOKE <account> :<login token or ALL>
    :<server> SVCREQ <hub> <id> SCRAM <account> :
    :<server> SVCREQ <hub> <id> PROOF <host> <account> :<StoredKey checked, or * if wrong>
    :<hub> SVCANS <server> <id> <OK|DENIED|TAKEN|UNAVAILABLE> [<account, token, count...>]

`<host>` is the user's address, which the login throttle counts failures by (as it does
for a user of the hub). The server asking has checked the account name, address and
password against its own rules, as it would for an account of its own, and asks for a
TOKEN, a REVOKE, a PASSWD or a DROP only for the account its user is logged in to.
PASSWD's two passwords hold no spaces (NickServ's words never do). A dropped account is
forgotten on every server (core.replica_accounts: after the answer, ACCOUNTDROP).
SCRAM and PROOF are the two steps of a SASL SCRAM-SHA-256 login that the asking server
runs itself (sasl_scram `record_answer`, `proof_answer`): SCRAM is answered with the
account's SCRAM record (`OK <record>`) or the fake salt of a name without one
(`DENIED <iterations>$<salt>`), PROOF with `OK <account>` or `DENIED`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core import replica_accounts, services_link
from miniircd.core.commands import accounts, nickserv, sasl_scram
from miniircd.core.link import Link
from miniircd.core.links import server_line
from miniircd.core.services_link import ANSWER, DENIED, OK, REQUEST, TAKEN, UNAVAILABLE
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message
from miniircd.store.base import Account

if TYPE_CHECKING:
    from miniircd.core.server import Server


def _origin(server: Server, link: Link, msg: Message) -> str | None:
    """The server the line comes from, if a tags link brought it and that server is one
    this link leads to."""
    if not link.tagged or msg.source is None:
        return None
    remote = server.state.find_server(msg.source)
    return remote.name if remote is not None and remote.link_id == link.id else None


def _answer(server: Server, to: str, request_id: str, answer: str, account: str = "") -> None:
    """Send an answer toward the server `to` (dropped if none leads there any more: the
    asker gives the request up by itself)."""
    link = services_link.route(server, to)
    if link is not None:
        params = [to, request_id, answer, *([account] if account else [])]
        server.outbox.raw(link, server_line(server.name, ANSWER, params))


# :<server> SVCREQ <hub> <id> <operation> <arguments...> :<secret>
def request(server: Server, link: Link, msg: Message) -> None:
    origin = _origin(server, link, msg)
    if origin is None:
        return
    target, request_id = msg.params[0], msg.params[1]
    if fold(target) != fold(server.name):
        onward = services_link.route(server, target)
        if onward is None or onward is link:
            _answer(server, origin, request_id, UNAVAILABLE)
        else:
            server.outbox.raw(onward, server_line(msg.source or origin, REQUEST, msg.params, True))
        return
    operation = msg.params[2].upper() if len(msg.params) > 2 else ""
    if server.config.remote_services is not None:
        _answer(server, origin, request_id, UNAVAILABLE)  # we are not the hub
    elif operation == "LOGIN" and len(msg.params) == 6:
        _login(server, origin, request_id, *msg.params[3:6])
    elif operation == "REGISTER" and len(msg.params) == 6:
        _register(server, origin, request_id, *msg.params[3:6])
    elif operation == "PASSWD" and len(msg.params) == 6:
        _passwd(server, origin, request_id, *msg.params[3:6])
    elif operation == "DROP" and len(msg.params) == 6:
        _drop(server, origin, request_id, *msg.params[3:6])
    elif operation in ("TOKEN", "REVOKE") and len(msg.params) == 5:
        answer, value = nickserv.token_work(server, operation, msg.params[3], msg.params[4])
        _answer(server, origin, request_id, answer, value)
    elif operation == sasl_scram.RECORD and len(msg.params) == 5:
        _answer(server, origin, request_id, *sasl_scram.record_answer(server, msg.params[3]))
    elif operation == sasl_scram.PROOF and len(msg.params) == 6:
        verdict = sasl_scram.proof_answer(server, *msg.params[3:6])
        _answer(server, origin, request_id, *verdict)
    else:
        _answer(server, origin, request_id, UNAVAILABLE)


def _login(server: Server, origin: str, request_id: str, host: str, name: str, secret: str) -> None:
    def done(account: Account | None) -> None:
        if account is None:
            _answer(server, origin, request_id, DENIED)
        else:
            _answer(server, origin, request_id, OK, account.name)

    accounts.check_login(server, None, name, secret, done, host=host)


def _register(
    server: Server, origin: str, request_id: str, name: str, email: str, password: str
) -> None:
    if server.store.get_account(name) is not None:
        _answer(server, origin, request_id, TAKEN)
        return

    def done(outcome: str) -> None:
        if outcome == "created":
            _answer(server, origin, request_id, OK, name)
        else:
            _answer(server, origin, request_id, TAKEN)

    accounts.store_account(server, None, name, password, None if email == "*" else email, done)


def _passwd(server: Server, origin: str, request_id: str, host: str, name: str, words: str) -> None:
    current, _, new = words.partition(" ")
    if not current or not new or " " in new:
        _answer(server, origin, request_id, UNAVAILABLE)
        return

    def done(answer: str, account: str) -> None:
        _answer(server, origin, request_id, answer, account)

    nickserv.change_password(server, None, name, current, new, done, host=host)


def _drop(
    server: Server, origin: str, request_id: str, host: str, name: str, password: str
) -> None:
    def checked(account: Account | None) -> None:
        if account is None:
            _answer(server, origin, request_id, DENIED)
            return
        # the answer first: the asking server logs its user out within the command's reply
        _answer(server, origin, request_id, OK, account.name)
        replica_accounts.drop(server, account.name)

    accounts.check_password(server, None, name, password, checked, host=host)


# :<hub> SVCANS <server> <id> <answer> [<account>]
def answer(server: Server, link: Link, msg: Message) -> None:
    origin = _origin(server, link, msg)
    if origin is None:
        return
    target, request_id, reply = msg.params[0], msg.params[1], msg.params[2]
    account = msg.params[3] if len(msg.params) > 3 else ""
    if fold(target) == fold(server.name):
        services_link.answered(server, request_id, reply, account)
        return
    onward = services_link.route(server, target)
    if onward is not None and onward is not link:
        server.outbox.raw(onward, server_line(origin, ANSWER, msg.params))
