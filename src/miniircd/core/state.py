"""The server's state: every table and counter, and every change to them.

Everything that decides who is here, which nick is whose, which channels exist and who is
in them, who watches which nick and who was who lives in this file. Handlers and the
server's entry points ask `State` to change things; nothing else writes these tables or
counters (they may read them freely). Telling people about a change (JOIN lines, MONITOR
numerics, NickServ notices) is the caller's business: `State` changes tables, it never
queues a line.

Theory of operation: a user enters with `add` and becomes visible to the network's
counters with `register`; it claims and releases nicks with `claim_nick`; it enters and
leaves channels with `join` and `part` (a channel is made by `open_channel`, renamed by
`rename_channel` and forgotten by the same rule everywhere, `_forget_if_unused`); it
watches nicks with `watch` and `unwatch`; it subscribes to METADATA keys with `subscribe`
and `unsubscribe`, and a user's or channel's METADATA changes by `set_metadata`; `remove`
takes it out of every table at once, leaving a WHOWAS entry. Server links enter with
`add_link` and leave with `drop_link`; the servers behind them with `add_server` and
`remove_server` (core.link; what a link's loss means for its users is core.links'
business, which removes them one by one).

Invariants (`check` lists every one that does not hold; the transcript tests run it after
every test):
1. `users[u.id] is u` for every user in any table.
2. `nicks[fold(u.nick)] is u` for every user with a nick, and every entry of `nicks` is
   such a pair: nicks are claimed at NICK time, before registration completes.
3. `channels[fold(c.name)] is c` for every channel, and every channel has a member or a
   founder: an empty channel goes away unless it is registered.
4. Membership goes both ways: `u in c.members` exactly when `u.channels[fold(c.name)] is c`,
   and every member is a user in `users`.
5. `u in watchers[k]` exactly when `k in u.monitoring`; no entry of `watchers` is empty.
6. `registered_count` is the number of registered users; `invisible_count` and
   `oper_count` the number of users with mode `i` and mode `o`; `remote_count` the number
   of registered `RemoteUser`s; `max_users` is at least `registered_count`.
7. `metadata` (of a user or a channel) holds only valid keys, and `metadata_subs` only
   valid keys (core.metadata.valid_key); their limits are the METADATA handler's to keep.
8. `servers[fold(s.name)] is s` for every server of the network but this one, and its
   `link_id` is in `links`; every `RemoteUser`'s `via` is in `links` (or 0, no link).
"""

from __future__ import annotations

from collections import deque

from miniircd.core.channel import Channel
from miniircd.core.link import Link, PeerMemory, RemoteServer
from miniircd.core.metadata import valid_key
from miniircd.core.user import RemoteUser, User
from miniircd.protocol.casemap import fold


class WhowasEntry:
    __slots__ = ("host", "nick", "realname", "server", "time", "user")

    def __init__(self, user: User, now: float) -> None:
        self.nick = user.name
        self.user = user.user or ""
        self.host = user.host
        self.realname = user.realname
        self.server = user.server  # None: this server
        self.time = now


def toggle(flags: set[str], char: str, on: bool) -> bool:
    """Put `char` in `flags` or take it out; False if it already was as asked."""
    if (char in flags) == on:
        return False
    if on:
        flags.add(char)
    else:
        flags.discard(char)
    return True


class State:
    __slots__ = (
        "channels", "invisible_count", "last_id", "last_token", "links", "max_users", "nicks",
        "oper_count", "peer_memories", "registered_count", "remote_count", "servers", "users",
        "watchers", "whowas",
    )  # fmt: skip

    def __init__(self, whowas_history: int) -> None:
        self.users: dict[int, User] = {}
        self.nicks: dict[str, User] = {}  # folded nick -> its holder
        self.channels: dict[str, Channel] = {}  # folded name -> channel
        self.watchers: dict[str, set[User]] = {}  # folded nick -> who MONITORs it
        self.whowas: deque[WhowasEntry] = deque(maxlen=whowas_history)
        self.registered_count = 0
        self.remote_count = 0  # registered users of other servers (LUSERS tells them apart)
        self.max_users = 0
        self.invisible_count = 0
        self.oper_count = 0
        self.last_id = 0
        self.links: dict[int, Link] = {}  # link id -> its connection (core.link)
        self.servers: dict[str, RemoteServer] = {}  # folded name -> a server behind a link
        self.last_token = 1  # our server tokens: 1 is this server, then one per server added
        self.peer_memories: dict[str, PeerMemory] = {}  # folded name -> (core.resume)

    # -- queries -----------------------------------------------------------------------------

    def find_nick(self, nick: str) -> User | None:
        """Whoever holds `nick`, registered or not."""
        return self.nicks.get(fold(nick))

    def find_user(self, nick: str) -> User | None:
        """A registered user by nick; one that has only claimed a nick does not count."""
        user = self.nicks.get(fold(nick))
        return user if user is not None and user.registered else None

    def find_channel(self, name: str) -> Channel | None:
        return self.channels.get(fold(name))

    def peers(self, user: User) -> set[User]:
        """Everyone who shares a channel with `user`, not `user` itself."""
        peers: set[User] = set()
        for channel in user.channels.values():
            peers.update(channel.members)
        peers.discard(user)
        return peers

    def peers_and_self(self, user: User) -> set[User]:
        """`user` and its peers: who sees it change its nick, account or realname."""
        audience = self.peers(user)
        audience.add(user)  # not `peers | {user}`: mypyc's compiler recurses forever on it
        return audience

    def logged_in(self, account: str) -> list[User]:
        """The users logged in to `account` (compared casefolded), in connection order."""
        folded = fold(account)
        return [
            user for user in self.users.values()
            if user.account is not None and fold(user.account) == folded
        ]  # fmt: skip

    # -- users -------------------------------------------------------------------------------

    def next_id(self) -> int:
        """An id no user has had (`User.id`)."""
        self.last_id += 1
        return self.last_id

    def add(self, user: User) -> None:
        self.users[user.id] = user

    def register(self, user: User) -> None:
        """Connection registration is complete: the user counts."""
        user.registered = True
        self.registered_count += 1
        self.remote_count += isinstance(user, RemoteUser)
        self.max_users = max(self.max_users, self.registered_count)

    def remove(self, user: User, now: float) -> None:
        """Take `user` out of every table: its channels, its nick, its watches, the
        counters; a registered user leaves a WHOWAS entry."""
        if self.users.pop(user.id, None) is None:
            return
        self.unwatch_all(user)
        if user.registered:
            self.remember_nick(user, now)
            self.registered_count -= 1
            self.remote_count -= isinstance(user, RemoteUser)
        self.invisible_count -= "i" in user.modes
        self.oper_count -= "o" in user.modes
        for channel in list(user.channels.values()):
            self.part(user, channel)
        if user.nick and self.nicks.get(fold(user.nick)) is user:
            del self.nicks[fold(user.nick)]

    def claim_nick(self, user: User, new: str, now: float) -> str | None:
        """Give `user` the nick `new` (checked free by the caller); return the old one."""
        old = user.nick
        if old is not None:
            del self.nicks[fold(old)]
        self.nicks[fold(new)] = user
        user.nick, user.nick_since = new, now
        return old

    def set_user_mode(self, user: User, char: str, on: bool) -> bool:
        """Set or clear a user mode, keeping the counters in step; False if no change."""
        if not toggle(user.modes, char, on):
            return False
        delta = 1 if on else -1
        if char == "i":
            self.invisible_count += delta
        elif char == "o":
            self.oper_count += delta
        return True

    def remember_nick(self, user: User, now: float) -> None:
        """Record the user's current nick for WHOWAS."""
        self.whowas.appendleft(WhowasEntry(user, now))

    # -- channels ----------------------------------------------------------------------------

    def open_channel(self, name: str, now: float, founder: str | None) -> Channel:
        """A new channel named `name` (checked free by the caller); with a founder it is
        registered. It must get a member or stay registered (invariant 3)."""
        channel = Channel(name, now)
        channel.founder = founder
        self.channels[fold(name)] = channel
        return channel

    def load_channel(self, channel: Channel) -> None:
        """A registered room read from the store at startup."""
        assert channel.founder is not None
        self.channels[fold(channel.name)] = channel

    def register_channel(self, channel: Channel, founder: str, created: int) -> None:
        """The room is registered (its record came from the services hub): to `founder`,
        since `created`; it now stays while empty."""
        channel.founder = founder
        channel.created = created

    def join(self, user: User, channel: Channel, ranks: set[str]) -> None:
        channel.members[user] = ranks
        user.channels[fold(channel.name)] = channel

    def part(self, user: User, channel: Channel) -> None:
        """Take `user` out of `channel`, which goes away if that leaves it unused."""
        del channel.members[user]
        del user.channels[fold(channel.name)]
        self._forget_if_unused(channel)

    def unregister_channel(self, channel: Channel) -> None:
        """The room is no longer registered: it lives on only while it has members."""
        channel.founder = None
        self._forget_if_unused(channel)

    def rename_channel(self, channel: Channel, name: str) -> None:
        """Give `channel` the name `name` (checked free by the caller, or the same name in
        another case), re-keying it in `channels` and in each member's `channels`."""
        old = fold(channel.name)
        new = fold(name)
        channel.name = name
        if old == new:
            return
        del self.channels[old]
        self.channels[new] = channel
        for member in channel.members:
            del member.channels[old]
            member.channels[new] = channel

    def _forget_if_unused(self, channel: Channel) -> None:
        if not channel.members and channel.founder is None:
            del self.channels[fold(channel.name)]

    # -- MONITOR -----------------------------------------------------------------------------

    def watch(self, user: User, nick: str) -> None:
        key = fold(nick)
        user.monitoring[key] = nick
        self.watchers.setdefault(key, set()).add(user)

    def unwatch(self, user: User, nick: str) -> bool:
        """Stop `user` watching `nick`; False if it did not."""
        key = fold(nick)
        if user.monitoring.pop(key, None) is None:
            return False
        watchers = self.watchers[key]
        watchers.discard(user)
        if not watchers:
            del self.watchers[key]
        return True

    def unwatch_all(self, user: User) -> None:
        for key in list(user.monitoring):
            self.unwatch(user, key)

    # -- METADATA ----------------------------------------------------------------------------

    def set_metadata(self, owner: User | Channel, key: str, value: str | None) -> bool:
        """Set `key` of a user's or a channel's METADATA (None: remove it); False if that
        changes nothing."""
        values = owner.metadata
        if values.get(key) == value:
            return False
        if value is None:
            del values[key]
        else:
            values[key] = value
        return True

    def subscribe(self, user: User, key: str) -> None:
        user.metadata_subs.add(key)

    def unsubscribe(self, user: User, key: str) -> None:
        user.metadata_subs.discard(key)

    # -- links and servers ------------------------------------------------------------------

    def add_link(self, link: Link) -> None:
        self.links[link.id] = link

    def drop_link(self, link: Link) -> None:
        """The link is gone; the caller has removed its servers and users first."""
        self.links.pop(link.id, None)

    def peer_memory(self, name: str) -> PeerMemory:
        """What we remember of the tags peer `name` across its links (core.resume)."""
        return self.peer_memories.setdefault(fold(name), PeerMemory())

    def find_server(self, name: str) -> RemoteServer | None:
        return self.servers.get(fold(name))

    def add_server(self, server: RemoteServer) -> None:
        """A server joins the network, numbered with a token of ours for every peer."""
        self.last_token += 1
        server.our_token = self.last_token
        self.servers[fold(server.name)] = server

    def remove_server(self, server: RemoteServer) -> None:
        self.servers.pop(fold(server.name), None)

    # -- checking ----------------------------------------------------------------------------

    def check(self) -> list[str]:
        """Every invariant of the module docstring that does not hold, in words."""
        broken: list[str] = []
        for user in self.users.values():
            if user.nick is not None and self.nicks.get(fold(user.nick)) is not user:
                broken.append(f"2: {user!r} holds {user.nick} but nicks says otherwise")
            for key, channel in user.channels.items():
                if self.channels.get(key) is not channel or user not in channel.members:
                    broken.append(f"4: {user!r} in {channel.name} one way only")
            for key in user.monitoring:
                if user not in self.watchers.get(key, ()):
                    broken.append(f"5: {user!r} monitors {key} but is no watcher")
        for key, user in self.nicks.items():
            if self.users.get(user.id) is not user or user.nick is None or fold(user.nick) != key:
                broken.append(f"2: nicks[{key}] is {user!r}")
        for key, channel in self.channels.items():
            if fold(channel.name) != key:
                broken.append(f"3: channels[{key}] is {channel.name}")
            if not channel.members and channel.founder is None:
                broken.append(f"3: {channel.name} is empty and unregistered")
            for member in channel.members:
                known = self.users.get(member.id) is member
                if not known or member.channels.get(key) is not channel:
                    broken.append(f"4: {member!r} in {channel.name} one way only")
        for key, watchers in self.watchers.items():
            if not watchers or any(key not in w.monitoring for w in watchers):
                broken.append(f"5: watchers[{key}] does not match the MONITOR lists")
            if any(self.users.get(w.id) is not w for w in watchers):
                broken.append(f"1: a watcher of {key} is no user")
        owners: list[User | Channel] = [*self.users.values(), *self.channels.values()]
        for owner in owners:
            if not all(map(valid_key, owner.metadata)):
                broken.append(f"7: {owner.name} holds an invalid METADATA key")
        for user in self.users.values():
            if not all(map(valid_key, user.metadata_subs)):
                broken.append(f"7: {user!r} subscribed to an invalid METADATA key")
        users = self.users.values()
        counts = (
            ("registered_count", self.registered_count, sum(u.registered for u in users)),
            ("invisible_count", self.invisible_count, sum("i" in u.modes for u in users)),
            ("oper_count", self.oper_count, sum("o" in u.modes for u in users)),
            (
                "remote_count",
                self.remote_count,
                sum(u.registered and isinstance(u, RemoteUser) for u in users),
            ),
        )
        broken += [
            f"6: {name} is {have}, not {want}"
            for name, have, want in counts
            if have != want
        ]
        for key, remote in self.servers.items():
            if fold(remote.name) != key or remote.link_id not in self.links:
                broken.append(f"8: servers[{key}] is {remote.name} via {remote.link_id}")
        for user in self.users.values():
            if isinstance(user, RemoteUser) and user.via and user.via not in self.links:
                broken.append(f"8: {user!r} is behind a link that is gone")
        if self.max_users < self.registered_count:
            broken.append("6: max_users is below registered_count")
        return broken
