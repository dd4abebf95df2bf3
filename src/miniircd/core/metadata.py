"""IRCv3 METADATA (draft/metadata-2) apart from the command: who is told of a change,
what a client is shown when it joins, monitors or registers, and what is kept.

A user's METADATA lives on the user (`User.metadata`), a channel's on the channel, and the
keys a client subscribed to on the client (`User.metadata_subs`); `core.state` changes
them. Every key is public: its visibility is always `*`.

Kept across restarts (in the store, `kind` "account" or "room"):
- a user logged in to an account uses the account's METADATA: every change it makes is
  written, and every other user logged in to the same account changes with it
  (`change`). At login (`logged_in`) the account's stored METADATA becomes the user's,
  with the keys the user set before logging in laid over it (they are the newest word)
  as far as `metadata_max_keys` allows, and written back;
- a registered room's METADATA is written on each change, read back at startup
  (`restore_rooms`) and forgotten with the room's registration (`Store.delete_room`).
A guest's METADATA and every client's subscriptions last as long as the connection.

Who is told (`METADATA <target> <key> * [:<value>]`, from the server): of a user's change,
the clients sharing a channel with it or monitoring its nick, and the user itself unless
it made the change; of a channel's change, its members. Only clients that negotiated the
capability and subscribed to the key are told, and the client whose command made the
change never is (it has its reply).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from miniircd.core.channel import Channel
from miniircd.core.session import Session
from miniircd.core.user import User
from miniircd.protocol.casemap import fold
from miniircd.protocol.message import Message

if TYPE_CHECKING:
    from miniircd.core.server import Server

CAP = "draft/metadata-2"
BATCH_TYPE = "metadata"
VISIBILITY = "*"  # every key is visible to everyone
MAX_KEY_LENGTH = 50  # longer keys are invalid: a reply must fit in one line
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_./-")

Owner = User | Channel


def valid_key(key: str) -> bool:
    """Lower-case letters, digits and `_./-`, 1 to MAX_KEY_LENGTH of them."""
    return 0 < len(key) <= MAX_KEY_LENGTH and all(char in _KEY_CHARS for char in key)


def name_of(owner: Owner) -> str:
    """The target name METADATA lines use: a channel's name, or the user's nick (`*`
    while it has none)."""
    return owner.name


def wants(user: User, key: str) -> bool:
    """Whether `user` is to be told about `key`: it negotiated the capability and
    subscribed to it."""
    return CAP in user.caps and key in user.metadata_subs


def line(server: Server, owner: Owner, key: str, value: str | None) -> Message:
    """`METADATA <target> <key> * [:<value>]` (no value: the key was removed)."""
    params = [name_of(owner), key, VISIBILITY]
    if value is not None:
        params.append(value)
    return Message("METADATA", params, server.name)


# -- changes --------------------------------------------------------------------------------


def change(
    server: Server, origin: Session | None, owner: Owner, key: str, value: str | None
) -> None:
    """Set `key` of `owner` (None: remove it), write it if it is kept, and tell whoever
    should know. `origin` is the client whose command made the change, if any. A user's
    change goes to every user logged in to the same account."""
    owners: list[Owner] = [owner]
    if isinstance(owner, User) and owner.account is not None:
        owners += [u for u in server.state.logged_in(owner.account) if u is not owner]
        server.store.set_metadata("account", owner.account, key, value)
    elif isinstance(owner, Channel) and owner.founder is not None:
        server.store.set_metadata("room", owner.name, key, value)
    for each in owners:
        if server.state.set_metadata(each, key, value):
            notify(server, origin, each, key, value)


def notify(
    server: Server, origin: Session | None, owner: Owner, key: str, value: str | None
) -> None:
    """Tell the subscribers of `key` who see `owner` that it is now `value`."""
    if isinstance(owner, User) and not owner.registered:
        return  # nobody sees a client still registering
    audience = [u for u in observers(server, owner) if u is not origin and wants(u, key)]
    if audience:
        server.outbox.send_many(audience, line(server, owner, key, value))


def observers(server: Server, owner: Owner) -> set[User]:
    """Who receives updates of `owner`: a channel's members; for a user, itself, the
    users sharing a channel with it and those monitoring its nick."""
    if isinstance(owner, Channel):
        return set(owner.members)
    seen = server.state.peers_and_self(owner)
    if owner.nick is not None:
        seen.update(server.state.watchers.get(fold(owner.nick), ()))
    return seen


# -- showing what is set ----------------------------------------------------------------------


def subscribed_lines(server: Server, viewer: User, owners: Iterable[Owner]) -> list[Message]:
    """METADATA lines for the keys of `owners` that `viewer` subscribed to, by key."""
    return [
        line(server, owner, key, value)
        for owner in owners
        for key, value in sorted(owner.metadata.items())
        if key in viewer.metadata_subs
    ]


def show(server: Server, viewer: User, owners: Iterable[Owner], batch_target: str | None) -> None:
    """Send `viewer` the subscribed keys of `owners` as METADATA lines: in a `metadata`
    batch named `batch_target` if one is given and the viewer negotiated `batch` (an empty
    batch too), else as they are (nothing for none)."""
    lines = subscribed_lines(server, viewer, owners)
    if batch_target is None:
        for each in lines:
            server.outbox.send(viewer, each)
        return
    with_batch(server, viewer, batch_target, lines)


def with_batch(server: Server, viewer: User, target: str, lines: list[Message]) -> None:
    """`lines` to `viewer` in a `metadata` batch for `target`, or bare without `batch`."""
    out = server.outbox
    if "batch" not in viewer.caps:
        for each in lines:
            out.send(viewer, each)
        return
    ref = server.ids.batch_ref()
    out.from_server(viewer, "BATCH", f"+{ref}", BATCH_TYPE, target)
    for each in lines:
        out.send(viewer, Message(each.verb, each.params, each.source, {"batch": ref}))
    out.from_server(viewer, "BATCH", f"-{ref}")


def burst(server: Server, session: Session) -> None:
    """At registration: a client with the capability gets a batch of its own METADATA,
    all of it, subscribed or not (empty if it has none)."""
    if CAP in session.caps:
        own = [line(server, session, key, value) for key, value in sorted(session.metadata.items())]
        with_batch(server, session, session.name, own)


def on_join(server: Server, session: Session, channel: Channel) -> None:
    """After a JOIN: the joiner is shown the channel's and its members' subscribed keys;
    the members who did not share a channel with the joiner before are shown its own."""
    others = [member for member in channel.members if member is not session]
    if CAP in session.caps and session.metadata_subs:
        lines = subscribed_lines(server, session, [channel, *others])
        if lines:  # no batch at all when there is nothing to show
            with_batch(server, session, channel.name, lines)
    if not session.metadata:
        return
    for member in others:
        if CAP in member.caps and not _shared_before(session, member, channel):
            show(server, member, [session], None)


def _shared_before(user: User, other: User, joined: Channel) -> bool:
    return any(other in c.members for c in user.channels.values() if c is not joined)


def on_monitor(server: Server, watcher: User, online: Iterable[User]) -> None:
    """`watcher` started monitoring these users, or one of them came online."""
    if CAP in watcher.caps and watcher.metadata_subs:
        show(server, watcher, [user for user in online if user.metadata], None)


# -- accounts and rooms -----------------------------------------------------------------------


def logged_in(server: Server, session: Session) -> None:
    """`session` logged in: the account's METADATA becomes its own (see the module
    docstring), its observers are told what changed, and, once registered, it is sent
    its own METADATA as at registration."""
    account = session.account
    if account is None:
        return
    stored = server.store.metadata("account", account)
    merged = dict(stored)
    for key, value in session.metadata.items():
        if key in merged or len(merged) < server.config.metadata_max_keys:
            merged[key] = value
    for key, value in merged.items():
        if stored.get(key) != value:
            server.store.set_metadata("account", account, key, value)
    for user in server.state.logged_in(account):
        for key in [k for k in user.metadata if k not in merged]:
            if server.state.set_metadata(user, key, None):
                notify(server, None, user, key, None)
        for key, value in merged.items():
            if server.state.set_metadata(user, key, value):
                notify(server, None, user, key, value)
    if session.registered:
        burst(server, session)


def restore_rooms(server: Server) -> None:
    """At startup: the registered rooms get their stored METADATA back."""
    for name, values in server.store.all_metadata("room").items():
        channel = server.state.find_channel(name)
        if channel is None:
            continue
        for key, value in values.items():
            if valid_key(key):
                server.state.set_metadata(channel, key, value)
