"""MemoServ: a message left for an account, by private message to a service.

`/msg MemoServ SEND <account> <text>` does what `PRIVMSG <account> :<text>` does for an
account here (core.commands.private): the users logged in to it get it at once, as
`:<sender's nick!user@host> PRIVMSG <account> :<text>`; with no one logged in it waits
unread in the account's inbox and comes at its next login; a full inbox takes nothing.
It is kept in the conversation as that PRIVMSG would be. It exists for users behind a
server link: an ngIRCd server answers `401` itself to a PRIVMSG for a name that is not a
nick in use, but passes one to `MemoServ`, which the services hub shows its ngIRCd peers
as a user (core.service_users). On a server whose accounts are on another server (the
services hub), it works the same from that server's copies of the accounts and the inbox
(core.replica), which the message then reaches the hub through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core.commands import private
from miniircd.core.services import notice, run_command
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

NICK = "MemoServ"
HELP = (
    "MemoServ leaves messages for accounts, also from users on other servers. Commands:",
    "SEND <account> <text> - a private message to the account: its users get it now,",
    "or, when no one is logged in to it, it waits in its inbox for the next login",
)


def _say(server: Server, user: User, text: str) -> None:
    notice(server, user, NICK, text)


# PRIVMSG MemoServ :<command> [<args>...]
def handle(server: Server, user: User, text: str) -> None:
    words = text.split(maxsplit=2)  # SEND's text keeps its spaces
    if words and words[0].upper() == "SEND":
        _send(server, user, words[1:])
    else:
        run_command(server, user, NICK, text, {}, HELP)


# SEND <account> <text>   (for users here and behind links alike)
def _send(server: Server, user: User, args: list[str]) -> None:
    if len(args) != 2:
        _say(server, user, "Syntax: SEND <account> <text>")
        return
    name, text = args
    if isinstance(user, Session) and server.config.require_account and user.account is None:
        _say(server, user, "You must log in first (see /msg NickServ HELP)")
        return
    found = private.account_recipients(server, name)
    if found is None:
        _say(server, user, f"{name} is not a registered account.")
        return
    recipients, account = found
    if not recipients and private.inbox_full(server, account):
        _say(server, user, private.inbox_full_note(account) + ".")
        return
    tags = private.keep_private(server, user, "PRIVMSG", account, recipients, account, text, {})
    line = Message("PRIVMSG", [account, text], user.prefix, tags or {})
    server.outbox.send_many(recipients, line, user)
    if recipients:
        _say(server, user, f"Your message to {account} was delivered.")
    else:
        _say(server, user, private.offline_note(account) + ".")
