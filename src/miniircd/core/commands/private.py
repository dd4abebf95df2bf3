"""Private messages to a nick or an account: who one reaches, whether and where it is
kept (the conversation, the account's inbox when no one is logged in to it), and what
the sender is told when it waits. Shared by PRIVMSG (core.commands.messages), a remote
user's message (core.s2s_events) and MemoServ SEND (core.commands.memoserv).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core import events
from miniircd.core.errors import no_such_nick
from miniircd.core.history import live_tags, party, private_conversation, record
from miniircd.core.session import Session
from miniircd.core.user import RemoteUser, User
from miniircd.protocol.casemap import fold

if TYPE_CHECKING:
    from miniircd.core.server import Server


def find_recipients(server: Server, target: str) -> tuple[User | None, list[User], str | None]:
    """Who a private message to `target` reaches: the user with that nick, else the users
    logged in to the account of that name (none: it is offline, the message waits in its
    inbox); and the account it is kept for. 401 if `target` names neither."""
    recipient = server.state.find_user(target)
    if recipient is not None:
        # A user behind a link is logged in to its own server's account, not ours (see
        # history.party): a message to it is kept for no account here, unless the two
        # servers share a services hub.
        shared = isinstance(recipient, Session) or (
            isinstance(recipient, RemoteUser) and recipient.network_account
        )
        account = recipient.account if shared else None
        return recipient, [recipient], account
    found = account_recipients(server, target)
    if found is None:
        raise no_such_nick(target)
    here, account = found
    return None, here, account


def account_recipients(server: Server, name: str) -> tuple[list[User], str] | None:
    """The users here logged in to the account `name` (none: it is offline) and the
    account's name as registered; None if there is no such account."""
    found = server.store.get_account(name)
    if found is None:
        return None
    here: list[User] = [u for u in server.state.logged_in(found.name) if isinstance(u, Session)]
    return here, found.name


def inbox_full(server: Server, account: str) -> bool:
    return server.store.unread_count(account) >= server.config.inbox_max


def inbox_full_note(account: str) -> str:
    return f"{account}'s inbox is full; try later"


def offline_note(account: str | None) -> str:
    """What the sender of a message that waits in `account`'s inbox is told."""
    return f"{account} is offline; your message will be delivered when they log in"


def keep_private(
    server: Server,
    sender: User,
    verb: str,
    shown: str,
    recipients: list[User],
    account: str | None,
    text: str,
    tags: dict[str, str],
    stamp: tuple[int, str] | None = None,
) -> dict[str, str] | None:
    """Record a private message in its conversation when a party has an account (unread
    in `account`'s inbox if no one is logged in to it) and return its tags; a TAGMSG not
    kept gets live tags; None for a message between guests (not kept). `stamp`: as in
    core.history `record`."""
    stored = sender.account is not None or account is not None
    if verb == "TAGMSG" and not (stored and events.persisted(tags)):
        return live_tags(server, tags, stamp)
    if not stored:
        return None
    other = fold(account) if account else party(recipients[0])
    conversation = private_conversation(party(sender), other)
    return record(
        server, sender, verb, shown, conversation, text, tags, account,
        unread=not recipients, stamp=stamp,
    )  # fmt: skip
