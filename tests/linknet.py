"""A test network of real miniircd servers, each on its own 127.0.0.x, linked by the
`[[links]]` blocks of docs/linking.md, with a relay (tests/relay.py) on every dialed link
so that a test can split the network where it likes.

`LinkNet.start` writes a server's config as the docs give it, with the dialed address of
each `[[links]]` block that dials replaced by a relay's (the relay forwards to the peer,
which must have been started first). Addresses and ports aside, the config is the docs'
own.
`LinkNet.close` (the test fixture calls it) stops the relays and the servers (conftest's
fixture stops the servers after each test too, unless `keep` took them out of its care).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from liveserver import DEADLINE, LineClient, LiveServer
from ngircd import doc_block, wait_linked
from relay import Relay

__all__ = [
    "A",
    "B",
    "C",
    "LinkNet",
    "expect",
    "expect_all",
    "start_chain",
    "wait_linked",
    "wait_log",
    "wait_members",
    "wait_sees",
]

A, B, C = "a.test", "b.test", "c.test"
LINK_HOST = re.compile(r'^host = "[^"]*"\nport = \d+$', re.M)


class LinkNet:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.servers: dict[str, LiveServer] = {}
        self.addresses: dict[str, tuple[str, int]] = {}  # every server's, ngIRCd's too
        self.relays: dict[tuple[str, str], Relay] = {}  # (dialer, dialed) -> its relay
        self._relay_hosts = iter(f"127.0.0.{n}" for n in range(20, 250))

    def __getitem__(self, name: str) -> LiveServer:
        return self.servers[name]

    def start(self, name: str, host: str, toml: str, dials: tuple[str, ...] = ()) -> LiveServer:
        """Start server `name` on `host` with `toml` (from the docs) as its config file.
        `dials` names, in the order of its `[[links]]` blocks that dial, the servers it
        dials: each gets a relay to it, and that block the relay's address."""
        head, sep, blocks = toml.partition("[[links]]")
        targets = iter(dials)

        def to_relay(match: re.Match[str]) -> str:
            peer = next(targets, None)
            assert peer is not None, f"{name}'s config dials more servers than {dials}"
            relay = Relay(next(self._relay_hosts), self.addresses[peer])
            self.relays[(name, peer)] = relay
            return f'host = "{relay.host}"\nport = {relay.port}'

        config = head + sep + LINK_HOST.sub(to_relay, blocks)
        assert next(targets, None) is None, f"{name}'s config dials fewer servers than {dials}"
        directory = self.tmp_path / name
        directory.mkdir(parents=True)
        (directory / "server.toml").write_text(config)
        server = LiveServer(
            directory, "--config", str(directory / "server.toml"), host=host, name=name
        )
        server.start()
        self.servers[name] = server
        self.addresses[name] = (server.host, server.port)
        return server

    def add_peer(self, name: str, host: str, port: int) -> None:
        """A server not started here (an ngIRCd hub) that a miniircd server may dial."""
        self.addresses[name] = (host, port)

    def relay(self, dialer: str, dialed: str) -> Relay:
        return self.relays[(dialer, dialed)]

    def client(self, server: str, nick: str, *caps: str) -> LineClient:
        """A client registered on `server` as `nick`, with `caps` requested first."""
        client = LineClient(self.servers[server].port, self.servers[server].host)
        if caps:
            client.send("CAP LS 302", f"CAP REQ :{' '.join(caps)}")
            client.expect(r" CAP \S+ ACK ")
            client.send("CAP END")
        client.register(nick)
        return client

    def keep(self) -> None:
        """Take the servers out of conftest's clean-up after each test, for a network that
        several tests share (a module's fixture): `close` stops them."""
        LiveServer.running.difference_update(self.servers.values())

    def close(self) -> None:
        """Stop the relays and the servers."""
        for relay in self.relays.values():
            relay.close()
        for server in self.servers.values():
            server.stop()


def start_chain(network: LinkNet, settings: str = "") -> LinkNet:
    """The docs' chain a.test - b.test - c.test: b first (the hub waits), then a and c dial
    it, each through a relay; `settings` (TOML) go into every config before its `[[links]]`
    blocks. Back when all three are linked."""

    def config(*markers: str) -> str:
        head, sep, links = "\n".join(doc_block(marker) for marker in markers).partition("[[links]]")
        return head + settings + sep + links

    network.start(B, "127.0.0.3", config("pair-b-config", "chain-b-more-config"))
    network.start(A, "127.0.0.2", config("pair-a-config"), dials=(B,))
    network.start(C, "127.0.0.4", config("chain-c-config"), dials=(B,))
    for name, count in ((A, 1), (B, 2), (C, 1)):
        wait_linked(network[name], count)
    return network


def wait_log(server: LiveServer, pattern: str, count: int = 1, timeout: float = DEADLINE) -> None:
    """Until `server`'s log holds `count` lines matching `pattern`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(re.findall(pattern, server.log())) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{server.name} never logged {pattern!r} {count} times:\n{server.log()}")


def expect(client: LineClient, pattern: str, timeout: float = DEADLINE) -> str:
    """Read until a line matches `pattern`, answering the server's PINGs meanwhile (a
    test server may have a quick keepalive, for its links' sake)."""
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    while True:
        line = client.read_line(deadline)
        assert line is not None, f"closed while waiting for {pattern!r}: {client.seen[-10:]}"
        if line.startswith("PING "):
            client.send("PONG " + line[5:])
        elif regex.search(line):
            return line


def expect_all(client: LineClient, *patterns: str) -> None:
    """Read until every pattern has matched a line, in any order (lines that come from
    different servers may come in either order)."""
    left = list(patterns)
    while left:
        line = client.expect("|".join(f"(?:{p})" for p in left))
        left = [p for p in left if not re.search(p, line)]


def wait_sees(client: LineClient, *nicks: str, timeout: float = DEADLINE) -> None:
    """Until `client`'s server knows every one of `nicks` (asked with ISON): users on
    other servers reach it through the links, a moment after they registered."""
    deadline = time.monotonic() + timeout
    wanted = {nick.lower() for nick in nicks}
    while True:
        client.send(f"ISON {' '.join(nicks)}")
        online = expect(client, r" 303 ").partition(" :")[2].lower().split()
        if wanted <= set(online):
            return
        assert time.monotonic() < deadline, f"only {online} of {nicks} online"
        time.sleep(0.05)


def wait_members(client: LineClient, channel: str, *names: str, timeout: float = DEADLINE) -> None:
    """Until `client`'s server has exactly `names` (with their @ or +) in `channel`."""
    deadline = time.monotonic() + timeout
    while True:
        client.send(f"NAMES {channel}")
        shown: list[str] = []  # no 353 for a room that is not there (yet)
        while " 366 " not in (
            line := expect(client, rf" (353 \S+ .|366 \S+) {re.escape(channel)} ")
        ):
            shown += line.partition(" :")[2].split()
        if sorted(shown) == sorted(names):
            return
        assert time.monotonic() < deadline, f"{channel} has {shown}, not {names}"
        time.sleep(0.05)
