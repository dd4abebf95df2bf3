"""Operator commands: OPER, which checks the `[[operators]]` of the config, KILL, REHASH
and WALLOPS (to every user with user mode `w`).

User mode `o` itself (and the oper count LUSERS shows) is changed only through
`State.set_user_mode`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniircd.core import actions, jobs
from miniircd.core.commands.modes import Change, echo_user_modes
from miniircd.core.errors import IrcError, need_more_params, no_such_nick
from miniircd.core.session import Session
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_CANTKILLSERVER,
    ERR_NOOPERHOST,
    ERR_PASSWDMISMATCH,
    RPL_YOUREOPER,
)
from miniircd.store.passwords import verify_password

if TYPE_CHECKING:
    from miniircd.core.server import Server


# OPER <name> <password>
def oper(server: Server, session: Session, msg: Message) -> None:
    name, password = msg.params[0], msg.params[1]
    operator = next((op for op in server.config.operators if op.name == name), None)
    if operator is None:
        raise IrcError(ERR_NOOPERHOST, "No O-lines for your host")

    def checked(ok: bool) -> None:
        if not ok:
            raise IrcError(ERR_PASSWDMISMATCH, "Password incorrect")
        granted = server.state.set_user_mode(session, "o", True)
        server.outbox.numeric(session, RPL_YOUREOPER, "You are now an IRC operator")
        if granted:
            echo_user_modes(server, session, [Change("+", "o", None)])

    # scrypt runs off the loop, like every other password check
    jobs.defer(server, session, lambda: verify_password(password, operator.password_hash), checked)


# REHASH
def rehash(server: Server, session: Session, msg: Message) -> None:
    actions.request_rehash(server, session)


# WALLOPS <text>
def wallops(server: Server, session: Session, msg: Message) -> None:
    text = msg.params[0]
    if not text:
        raise need_more_params("WALLOPS")
    readers = [
        user for user in server.state.users.values() if user.registered and "w" in user.modes
    ]
    server.outbox.send_many(readers, Message("WALLOPS", [text], session.prefix), session)


# KILL <nickname> <comment>
def kill(server: Server, session: Session, msg: Message) -> None:
    nick, comment = msg.params[0], msg.params[1]
    if fold(nick) == fold(server.name):
        raise IrcError(ERR_CANTKILLSERVER, "You cant kill a server!")
    target = server.state.find_nick(nick)
    if target is None or not target.registered:
        raise no_such_nick(nick)
    server.outbox.send(target, Message("KILL", [target.name, comment], session.prefix), session)
    actions.quit(server, target, f"Killed ({session.name} ({comment}))")
