"""METADATA: the IRCv3 draft/metadata-2 command (GET, LIST, SET, CLEAR, SUB, UNSUB, SUBS,
SYNC); what is kept and who is told lives in `core.metadata`.

A target is `*` (the client itself), a nick or a channel name. Any registered user's
METADATA may be read; a channel's by whoever may see the channel (a secret channel only
by its members). A client may change its own METADATA, and a channel's if it is one of
the channel's operators. Before registration (the capability's `before-connect`) a
client may use every subcommand on itself; any other target is answered 451.

Refusals are `FAIL METADATA <code> ...` (standard replies): INVALID_TARGET, KEY_INVALID,
KEY_NO_PERMISSION, KEY_NOT_SET, LIMIT_REACHED, VALUE_INVALID, TOO_MANY_SUBS and
SUBCOMMAND_INVALID. A FAIL about one key of a GET or SUB does not stop the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from miniircd.core import metadata
from miniircd.core.channel import Channel
from miniircd.core.errors import Fail, IrcError, need_more_params
from miniircd.core.metadata import Owner, valid_key
from miniircd.core.outbox import MAX_LINE
from miniircd.core.params import echo
from miniircd.core.session import Session
from miniircd.protocol.casemap import fold, is_channel_name
from miniircd.protocol.message import Message
from miniircd.protocol.numerics import (
    ERR_NOTREGISTERED,
    RPL_KEYNOTSET,
    RPL_KEYVALUE,
    RPL_METADATASUBOK,
    RPL_METADATASUBS,
    RPL_METADATAUNSUBOK,
)

if TYPE_CHECKING:
    from miniircd.core.server import Server

NOT_SET = "key not set"
MAX_WORDS = 14  # keys per 770-772 line: with the client's nick, IRC's 15 parameters


# METADATA <target> <subcommand> [<param>...]
def metadata_(server: Server, session: Session, msg: Message) -> None:
    target, sub, args = msg.params[0], msg.params[1].upper(), msg.params[2:]
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        raise Fail("METADATA", "SUBCOMMAND_INVALID", echo(msg.params[1]), "Invalid subcommand")
    if not session.registered and not _is_self(session, target):
        raise IrcError(ERR_NOTREGISTERED, "You have not registered")
    handler(server, session, target, args)


def _is_self(session: Session, target: str) -> bool:
    return target == "*" or (session.nick is not None and fold(target) == fold(session.nick))


def _resolve(server: Server, session: Session, target: str) -> Owner:
    """The user or channel `target` names, as `session` may see it; INVALID_TARGET if none."""
    if _is_self(session, target):
        return session
    if is_channel_name(target):
        channel = server.state.find_channel(target)
        if channel is not None and channel.visible_to(session):
            return channel
    else:
        user = server.state.find_user(target)
        if user is not None:
            return user
    raise Fail("METADATA", "INVALID_TARGET", echo(target), "Invalid metadata target")


def _may_change(session: Session, owner: Owner) -> bool:
    return owner is session or (isinstance(owner, Channel) and owner.is_op(session))


def _key_invalid(key: str) -> Fail:
    return Fail("METADATA", "KEY_INVALID", echo(key), "Invalid key")


def _no_permission(owner: Owner, key: str) -> Fail:
    return Fail("METADATA", "KEY_NO_PERMISSION", metadata.name_of(owner), key, "Permission denied")


def _value_reply(server: Server, session: Session, owner: Owner, key: str) -> Message:
    """761 with the key's value, or 766 if it is not set."""
    name = metadata.name_of(owner)
    value = owner.metadata.get(key)
    if value is None:
        return Message(RPL_KEYNOTSET, [session.name, name, key, NOT_SET], server.name)
    return Message(RPL_KEYVALUE, [session.name, name, key, metadata.VISIBILITY, value], server.name)


# METADATA <target> GET <key> [<key>...]
def _get(server: Server, session: Session, target: str, args: list[str]) -> None:
    if not args:
        raise need_more_params("METADATA")
    owner = _resolve(server, session, target)
    replies = [
        _value_reply(server, session, owner, key)
        if valid_key(key)
        else Message("FAIL", ["METADATA", "KEY_INVALID", echo(key), "Invalid key"], server.name)
        for key in args
    ]
    metadata.with_batch(server, session, metadata.name_of(owner), replies)


# METADATA <target> LIST
def _list(server: Server, session: Session, target: str, args: list[str]) -> None:
    owner = _resolve(server, session, target)
    replies = [_value_reply(server, session, owner, key) for key in sorted(owner.metadata)]
    metadata.with_batch(server, session, metadata.name_of(owner), replies)


# METADATA <target> SET <key> [:<value>]
def _set(server: Server, session: Session, target: str, args: list[str]) -> None:
    if not args:
        raise need_more_params("METADATA")
    owner = _resolve(server, session, target)
    key, value = args[0], (args[1] if len(args) > 1 else None)
    if not valid_key(key):
        raise _key_invalid(key)
    if not _may_change(session, owner):
        raise _no_permission(owner, key)
    name = metadata.name_of(owner)
    if value is None:
        if key not in owner.metadata:
            raise Fail("METADATA", "KEY_NOT_SET", name, key, "Key not set")
    else:
        if len(value.encode()) > server.config.metadata_max_value_bytes:
            raise Fail("METADATA", "VALUE_INVALID", "Value is too long")
        if key not in owner.metadata and len(owner.metadata) >= server.config.metadata_max_keys:
            raise Fail("METADATA", "LIMIT_REACHED", name, "Metadata limit reached")
    metadata.change(server, session, owner, key, value)
    server.outbox.send(session, _value_reply(server, session, owner, key))


# METADATA <target> CLEAR
def _clear(server: Server, session: Session, target: str, args: list[str]) -> None:
    owner = _resolve(server, session, target)
    if not _may_change(session, owner):
        raise _no_permission(owner, "*")
    keys = sorted(owner.metadata)
    for key in keys:
        metadata.change(server, session, owner, key, None)
    name = metadata.name_of(owner)
    replies = [
        Message(RPL_KEYNOTSET, [session.name, name, key, NOT_SET], server.name) for key in keys
    ]
    metadata.with_batch(server, session, name, replies)


# METADATA * SUB <key> [<key>...]
def _sub(server: Server, session: Session, target: str, args: list[str]) -> None:
    if not args:
        raise need_more_params("METADATA")
    _resolve_self(session, target)
    out = server.outbox
    limit = server.config.metadata_max_subs
    accepted: list[str] = []
    added: list[str] = []
    for key in args:
        if not valid_key(key):
            out.refuse(session, _key_invalid(key))
            continue
        if key not in session.metadata_subs:
            if len(session.metadata_subs) >= limit:
                out.refuse(
                    session, Fail("METADATA", "TOO_MANY_SUBS", key, "Too many subscriptions")
                )
                break
            server.state.subscribe(session, key)
            added.append(key)
        if key not in accepted:
            accepted.append(key)
    _words(server, session, RPL_METADATASUBOK, accepted)
    if added and session.registered:
        _show_new_keys(server, session, added)


def _show_new_keys(server: Server, session: Session, keys: list[str]) -> None:
    """What a client that just subscribed to `keys` should know of them: their values on
    its channels, the users it shares them with and those it monitors."""
    users = server.state.peers(session)
    for nick in session.monitoring.values():
        user = server.state.find_user(nick)
        if user is not None and user is not session:
            users.add(user)
    owners: list[Owner] = [*session.channels.values(), *sorted(users, key=lambda u: u.id)]
    wanted = set(keys)
    for owner in owners:
        for key, value in sorted(owner.metadata.items()):
            if key in wanted:
                server.outbox.send(session, metadata.line(server, owner, key, value))


# METADATA * UNSUB <key> [<key>...]
def _unsub(server: Server, session: Session, target: str, args: list[str]) -> None:
    if not args:
        raise need_more_params("METADATA")
    _resolve_self(session, target)
    done: list[str] = []
    for key in args:
        if not valid_key(key):
            server.outbox.refuse(session, _key_invalid(key))
            continue
        server.state.unsubscribe(session, key)
        if key not in done:
            done.append(key)
    _words(server, session, RPL_METADATAUNSUBOK, done)


# METADATA * SUBS
def _subs(server: Server, session: Session, target: str, args: list[str]) -> None:
    _resolve_self(session, target)
    _words(server, session, RPL_METADATASUBS, sorted(session.metadata_subs))


def _resolve_self(session: Session, target: str) -> None:
    """Subscriptions are the client's own: the target must be `*` or its nick."""
    if not _is_self(session, target):
        raise Fail("METADATA", "INVALID_TARGET", echo(target), "Invalid metadata target")


def _words(server: Server, session: Session, numeric: str, keys: Iterable[str]) -> None:
    """`numeric` with the keys as separate parameters, as many lines as it takes."""
    head = len(f":{server.name} {numeric} {session.name} :".encode())
    chunk: list[str] = []
    used = head
    for key in keys:
        if chunk and (len(chunk) == MAX_WORDS or used + len(key) + 1 > MAX_LINE):
            server.outbox.numeric(session, numeric, *chunk)
            chunk, used = [], head
        chunk.append(key)
        used += len(key) + 1
    if chunk:
        server.outbox.numeric(session, numeric, *chunk)


# METADATA <target> SYNC
def _sync(server: Server, session: Session, target: str, args: list[str]) -> None:
    owner = _resolve(server, session, target)
    owners: list[Owner] = [owner]
    if isinstance(owner, Channel):  # "and for all other users in that channel"
        owners += [member for member in owner.members if member is not session]
    metadata.show(server, session, owners, metadata.name_of(owner))


SUBCOMMANDS = {
    "GET": _get,
    "LIST": _list,
    "SET": _set,
    "CLEAR": _clear,
    "SUB": _sub,
    "UNSUB": _unsub,
    "SUBS": _subs,
    "SYNC": _sync,
}
