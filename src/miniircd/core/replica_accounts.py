"""The end of an account across a services network (docs/linking.md, "Services hub").

The services hub keeps the network's accounts; every other miniircd server keeps a copy
of each name (core.replica, `ACCOUNT` lines). An account dropped on the hub (by its own
NickServ DROP, or by one a user of another server asked for: core.s2s_services) is
dropped on every server, which forgets its copy as the hub forgot the account:

    :<hub> ACCOUNTDROP <server|*> <name>

Each server deletes the name with what its store keeps under it (read markers, METADATA,
login tokens), logs out its own users logged in to it (the logout reaches the other
servers as any logout does, `METADATA <nick> accountname` with no value), and stops
protecting the nick. The line travels as core.replica's do (on tags links, `*` to every
one of them); one that does not come from our hub is passed on and otherwise ignored.

A server away from the hub at the time misses the line: when its way to the hub is back,
the hub names every account (SYNC's `ACCOUNT` lines), and at SYNCED the copies it did
not name are dropped here the same way. Only copies (core.replica's password "!") go:
accounts of this server's own, from before it had a hub, stay.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from miniircd.core import actions, replica, services_link
from miniircd.core.commands import accounts
from miniircd.core.hub_lines import flood, from_hub, is_hub
from miniircd.core.link import Link
from miniircd.core.session import Session
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

log = logging.getLogger("miniircd.link")

ACCOUNTDROP = "ACCOUNTDROP"


def drop(server: Server, name: str) -> None:
    """The account `name` is dropped (its password checked here, or by the hub): it is
    forgotten here and, on the hub, on every server."""
    server.store.delete_account(name)
    if is_hub(server):
        flood(server, server.name, ACCOUNTDROP, [name], False)
    for user in server.state.logged_in(name):
        if isinstance(user, Session):  # a remote user's own server logs it out
            accounts.logout(server, user)
    actions.nick_owner_changed(server, name)


# :<hub> ACCOUNTDROP <server|*> <name>
def account_drop(server: Server, link: Link, msg: Message) -> None:
    if from_hub(server, link, msg, False) and services_link.fits(msg.params[1]):
        drop(server, msg.params[1])


def synced(server: Server) -> None:
    """The hub has named every account since our SYNC: a copy it did not name was
    dropped (or lost to a restored backup) while we were away."""
    named = server.replica.accounts
    for account in server.store.account_list():
        if account.password_hash == replica.NO_PASSWORD and fold(account.name) not in named:
            log.info("account %s: dropped while we were away", account.name)
            drop(server, account.name)
    server.replica.accounts = set()
