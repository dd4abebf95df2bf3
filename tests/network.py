"""Several sans-IO servers linked back to back, with no sockets: what one server writes to
a link is fed to the server at its other end, until no line is left in flight (h11's
idea of wiring two protocol objects together, for a network of servers)."""

from __future__ import annotations

from typing import Any

from harness import CoreClient, CoreHarness, CorePeer

A, B, C, D = "a.test", "b.test", "c.test", "d.test"
PW = "correct-horse"


class CoreNetwork:
    def __init__(self, *names: str, **config: Any) -> None:
        self.cores = {
            name: CoreHarness(server_name=name, msgid_prefix=name.split(".")[0], **config)
            for name in names
        }
        self.wires: dict[frozenset[str], tuple[CorePeer, CorePeer]] = {}
        self.carried: list[str] = []  # every line carried from one server to another

    def __getitem__(self, name: str) -> CoreHarness:
        return self.cores[name]

    def register(self, server: str, nick: str) -> CoreClient:
        client = self.cores[server].register(nick)
        self.settle()
        return client

    def link(self, dialer: str, dialed: str) -> None:
        """`dialer` connects to `dialed`; both handshakes and bursts run to their end."""
        near = self.cores[dialer].link(
            dialed, send_password=f"{dialer}>{dialed}", accept_password=f"{dialed}>{dialer}"
        )
        far = self.cores[dialed].link(
            dialer,
            outgoing=False,
            send_password=f"{dialed}>{dialer}",
            accept_password=f"{dialer}>{dialed}",
        )
        self.wires[frozenset((dialer, dialed))] = (near, far)
        self.settle()

    def cut(self, one: str, other: str, reason: str = "Connection reset by peer") -> None:
        """The connection between two servers breaks: each loses the other (a netsplit)."""
        for peer in self.wires.pop(frozenset((one, other))):
            peer.lose(reason)
        self.settle()

    def settle(self) -> None:
        """Carry every line in flight to the other end of its wire, until none is left."""
        moved = True
        while moved:
            moved = False
            for pair in list(self.wires.values()):
                for source, target in (pair, pair[::-1]):
                    lines = source.take()
                    server = target.harness.server
                    if not lines or target.link.id not in server.state.links:
                        continue
                    moved = True
                    self.carried.extend(lines)
                    for line in lines:
                        server.link_receive(target.link, line.encode(), target.harness.clock.now)
                    target.harness.deliver()

    def tick(self, seconds: float) -> None:
        """Time passes on every server, and each runs its once-a-second work."""
        for core in self.cores.values():
            core.tick(seconds)
        self.settle()


def chain(**config: Any) -> CoreNetwork:
    """a.test - b.test - c.test: a.test and c.test dial b.test, a hub that relays."""
    network = CoreNetwork(A, B, C, **config)
    network.link(A, B)
    network.link(C, B)
    return network


def in_room(net: CoreNetwork, *caps: str) -> tuple[CoreClient, CoreClient]:
    """alice on a.test (the room's operator) and carol on c.test, in #room, with `caps`
    requested first; what they were sent is taken."""
    alice = net.register(A, "alice")
    carol = net.register(C, "carol")
    for client in (alice, carol):
        if caps:
            client.send(f"CAP REQ :{' '.join(caps)}")
        client.send("JOIN #room")
        net.settle()
    alice.take()
    carol.take()
    return alice, carol


def services_network() -> CoreNetwork:
    """A services network: b.test dials a.test (the hub), c.test dials b.test, d.test
    waits unlinked; each server has had its first tick (it asked the hub: SYNC)."""
    network = CoreNetwork(A, B, C, D, services_hub=A)
    network.link(B, A)
    network.link(C, B)
    network.tick(1)
    return network


def send(net: CoreNetwork, client: CoreClient, *lines: str) -> list[str]:
    """Send lines, carry every line in flight across the network, and return the answer."""
    answer = client.send(*lines)
    net.settle()
    return answer + client.take()


def account(net: CoreNetwork, server: str, nick: str) -> CoreClient:
    """A user of `server` with an account of the same name (password PW), registered
    through the hub."""
    client = net.register(server, nick)
    assert any(" 900 " in line for line in send(net, client, f"REGISTER * * {PW}"))
    return client
