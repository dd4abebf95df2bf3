"""Real sockets: a storm of channel and private messages across a netsplit and a relink
of the chain a.test - b.test - c.test (tests/linknet.py), counted exactly: every receiver
gets from every sender exactly the messages it should, once each and in order, with the
msgid the sender's server gave them (core.resume resends what the cut lost).

What a receiver should get is read from the sender's own connection (echo-message): a
message is owed to a receiver if the sender's server accepted it (its echo came back)
while that receiver was, in the sender's view, in the room (for a room message) or
online (for a private one; one to a user gone in a split is refused with 401 and owed
to nobody). The sender's connection shows the split's QUITs and the relink's JOINs in
the same order as its echoes, so this is the server's own view, not a guess. The senders
sit at the two ends of the link that is cut: a server further away cannot know which of
its messages were still on their way into the split (docs/linking.md).
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from linknet import A, B, C, LinkNet, start_chain, wait_linked, wait_members, wait_sees
from liveserver import LineClient

NO_FLOOD = "\n[flood]\nenabled = false\n"
ROOM = "#storm"
HOMES = {"a1": A, "a2": A, "b1": B, "c1": C}
PARTNERS = {"a1": "c1", "b1": "a2"}  # sender -> the one it messages in private, across the cut
COUNT = 300  # messages of each kind from each sender
LINE = re.compile(r"^(?:@(\S+) )?:([^!\s]+)!\S+ (\S+)(?: (\S+))?(?: :?(.*))?$")


@pytest.fixture
def net(tmp_path: Path) -> Iterator[LinkNet]:
    """The docs' chain, flood control off: the storm is each sender's messages flat out."""
    network = LinkNet(tmp_path)
    try:
        yield start_chain(network, NO_FLOOD)
    finally:
        network.close()


class Reader(threading.Thread):
    """Reads one client's lines until it has seen every sender's last messages."""

    def __init__(self, nick: str, client: LineClient) -> None:
        super().__init__(name=f"reader-{nick}", daemon=True)
        self.nick, self.client = nick, client
        self.lines: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        wanted = {f"{sender} end" for sender in PARTNERS}
        ends: set[str] = set()
        deadline = time.monotonic() + 60
        try:
            while ends != wanted:
                line = self.client.read_line(deadline)
                assert line is not None, f"{self.nick} was disconnected"
                if line.startswith("PING "):
                    self.client.send("PONG " + line[5:])
                    continue
                self.lines.append(line)
                if line.endswith(" end") and f" PRIVMSG {ROOM} :" in line:
                    ends.add(line.rpartition(":")[2])
        except BaseException as exc:  # reported by the test's thread
            self.error = exc


def send_storm(client: LineClient, nick: str, cut_at: threading.Event) -> None:
    for number in range(COUNT):
        client.send(
            f"PRIVMSG {ROOM} :{nick} {number}", f"PRIVMSG {PARTNERS[nick]} :{nick} {number}"
        )
        if number == COUNT // 3:
            cut_at.set()
        time.sleep(0.003)


def owed_and_echoed(
    nick: str, lines: list[str]
) -> tuple[dict[tuple[str, str], list[str]], dict[str, str]]:
    """From a sender's lines: (receiver, kind) -> the texts owed to it in order; text -> msgid."""
    here = {other for other in HOMES if other != nick}  # everyone starts in the room, online
    owed: dict[tuple[str, str], list[str]] = defaultdict(list)
    ids: dict[str, str] = {}
    for line in lines:
        match = LINE.match(line)
        if match is None:
            continue
        tags, source, verb, target, text = match.groups()
        if verb == "QUIT" and source in HOMES:
            here.discard(source)
        elif verb == "JOIN" and source in HOMES:
            here.add(source)
        elif verb == "PRIVMSG" and source == nick and text and not text.endswith(" end"):
            ids[f"{target} {text}"] = dict(t.partition("=")[::2] for t in (tags or "").split(";"))[
                "msgid"
            ]
            if target == ROOM:
                for other in here:
                    owed[(other, "room")].append(text)
            elif target in here:
                owed[(target, "private")].append(text)
    return owed, ids


def test_a_storm_across_a_split_and_a_relink_loses_nothing(net: LinkNet) -> None:
    clients = {
        nick: net.client(home, nick, "echo-message", "message-tags") for nick, home in HOMES.items()
    }
    wait_sees(clients["a1"], *HOMES)
    wait_sees(clients["c1"], *HOMES)
    clients["a1"].send(f"JOIN {ROOM}")
    for client in clients.values():  # the room made on a.test, known everywhere
        wait_members(client, ROOM, "@a1")
    for nick, client in clients.items():
        if nick != "a1":
            client.send(f"JOIN {ROOM}")
    everyone = ["@a1", "a2", "b1", "c1"]
    for client in clients.values():
        wait_members(client, ROOM, *everyone)
    readers = {nick: Reader(nick, client) for nick, client in clients.items()}
    for reader in readers.values():
        reader.start()
    cut_at = threading.Event()
    senders = [
        threading.Thread(target=send_storm, args=(clients[nick], nick, cut_at)) for nick in PARTNERS
    ]
    for sender in senders:
        sender.start()
    assert cut_at.wait(30)
    relay = net.relay(A, B)
    relay.cut()
    time.sleep(0.3)
    relay.restore()
    for sender in senders:
        sender.join(60)
    wait_linked(net[A], 2)  # a.test dialed b.test again
    for home in (A, B, C):  # the network is whole again, the room too, on every server
        wait_members(net.client(home, f"probe{home[0]}"), ROOM, *everyone)
    for nick in PARTNERS:  # the last messages, which end each reader
        clients[nick].send(f"PRIVMSG {ROOM} :{nick} end")
    for reader in readers.values():
        reader.join(60)
        assert reader.error is None, reader.error
    for home in (A, B):  # both ends went through the resume step (core.resume)
        assert re.search(r"link \S+: \d+ message lines sent again", net[home].log()), home
    split = [line for line in readers["a1"].lines if " QUIT :a.test b.test" in line]
    assert split, "the cut made no netsplit: the test did not test anything"
    for sender in PARTNERS:
        owed, ids = owed_and_echoed(sender, readers[sender].lines)
        for receiver, reader in readers.items():
            if receiver == sender:
                continue
            got: dict[str, list[str]] = {"room": [], "private": []}
            for line in reader.lines:
                match = LINE.match(line)
                if match is None or match[2] != sender or match[3] != "PRIVMSG":
                    continue
                tags, _, _, target, text = match.groups()
                if text.endswith(" end"):
                    continue
                got["room" if target == ROOM else "private"].append(text)
                msgid = dict(t.partition("=")[::2] for t in (tags or "").split(";"))["msgid"]
                assert msgid == ids[f"{target} {text}"], (receiver, line)
            for kind in ("room", "private"):
                assert got[kind] == owed[(receiver, kind)], (sender, receiver, kind)
