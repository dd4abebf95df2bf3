"""Real sockets and real SQLite files: a services network a.test (the hub) - b.test -
c.test, each on its own 127.0.0.x (docs/linking.md, "History and the inbox across the
network"). The hub is killed with SIGKILL in the middle of a message storm and started
again: every message a client was shown is then in every server's history exactly once,
and every message left in the inbox of an offline account arrives once, at a login on
any server."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

from hubnet import hub_network, query, wait_for
from liveserver import DEADLINE, LineClient, LiveServer
from ngircd import wait_linked

PW = "correct-horse"
HOSTS = ("127.0.0.41", "127.0.0.42", "127.0.0.43")
ROOM_MESSAGES = 150  # per sender
PRIVATE_MESSAGES = 60  # per sender on b.test and c.test, to an offline account






def texts(live: LiveServer, conversation: str) -> list[str]:
    """The texts of a conversation's messages in a server's SQLite file."""
    sql = "SELECT text FROM messages WHERE conversation = ? AND verb = 'PRIVMSG' ORDER BY id"
    return [str(row[0]) for row in query(live, sql, conversation)]


def knows_account(live: LiveServer, name: str) -> bool:
    return bool(query(live, "SELECT 1 FROM accounts WHERE folded = ?", name))


def storm(client: LineClient, tag: str, private: int) -> None:
    """Room messages, with private messages to the offline bob among them, paced a little
    so that the storm lasts while the hub is killed and restarted."""
    try:
        for n in range(ROOM_MESSAGES):
            client.send(f"PRIVMSG #storm :{tag}-{n}")
            if n < private:
                client.send(f"PRIVMSG bob :pm-{tag}-{n}")
            time.sleep(0.004)
        client.send("PING :storm-over")
    except OSError:  # the hub's own sender: killed with it
        pass


def shown(client: LineClient) -> list[str]:
    """The texts of the room messages the client was shown, up to its own PONG."""
    client.send("PING :read-all")
    lines = client.lines_until(r"PONG .*:read-all", timeout=3 * DEADLINE)
    return [line.split(" :", 1)[1] for line in lines if " PRIVMSG #storm :" in line]


def login(live: LiveServer, nick: str) -> list[str]:
    """Log in to bob on `live` with NickServ; the texts of the messages replayed."""
    client = live.client(nick)
    client.send("CAP REQ :server-time")  # the time in a tag, not in front of the text
    client.send(f"PRIVMSG NickServ :IDENTIFY bob {PW}", "PING :after-login")
    lines = client.lines_until(r"PONG .*:after-login", timeout=3 * DEADLINE)
    assert any("You are now logged in as bob" in line for line in lines), lines
    return [line.split(" PRIVMSG bob :", 1)[1] for line in lines if " PRIVMSG bob :" in line]


def test_kill_9_of_the_hub_in_a_storm_loses_and_doubles_nothing(tmp_path: Path) -> None:
    settings = "[flood]\nenabled = false\n[history]\nhistory_max = 100000"
    a, b, c = hub_network(tmp_path, HOSTS, settings)
    bob = a.client("bob")
    bob.send(f"REGISTER * * {PW}")
    bob.expect(r" REGISTER SUCCESS bob ")
    bob.send("QUIT")
    wait_for(lambda: knows_account(b, "bob") and knows_account(c, "bob"), "bob known everywhere")
    senders = {"a": a.client("sa"), "b": b.client("sb"), "c": c.client("sc")}
    watchers = [b.client("wb"), c.client("wc")]
    for client in [*senders.values(), *watchers]:
        client.send("JOIN #storm")
        client.expect(r" 366 ")
    for watcher in watchers:  # every sender is in the room on both sides
        wait_for(lambda w=watcher: {"sa", "sb", "sc"} <= _members(w), "every sender in the room")
    private = {"a": 0, "b": PRIVATE_MESSAGES, "c": PRIVATE_MESSAGES}
    threads = [
        threading.Thread(target=storm, args=(senders[tag], tag, private[tag]))
        for tag in ("a", "b", "c")
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    a.kill9()  # mid-storm: the hub's clients and its link go with it
    time.sleep(0.2)
    a.start()  # the same store; it dials b.test again; b and c hand over what they owe
    for thread in threads:
        thread.join()
    for tag in ("b", "c"):
        senders[tag].expect(r"PONG .*:storm-over", timeout=3 * DEADLINE)
    seen = [shown(watcher) for watcher in watchers]
    every = set(seen[0]) | set(seen[1])
    for tag in ("b", "c"):  # their servers never went away: all of theirs were shown
        assert {f"{tag}-{n}" for n in range(ROOM_MESSAGES)} <= every
    assert any(text.startswith("a-") for text in every)  # and some of the hub's, before
    for watcher_seen in seen:
        assert len(watcher_seen) == len(set(watcher_seen))  # shown once each
    wait_linked(a, 2)

    def stored_everywhere() -> bool:
        return all(every <= set(texts(live, "#storm")) for live in (a, b, c))

    wait_for(stored_everywhere, "every message shown is in every server's history")
    # the kill came mid-storm: b or c had shown messages the hub never got, and handed
    # them over when it was back
    handed = [int(n) for n in re.findall(r"handed over (\d+)", b.log() + c.log())]
    assert max(handed) > 0, handed
    for live in (a, b, c):
        kept = texts(live, "#storm")
        assert len(kept) == len(set(kept)), live.name  # none twice
    # the hub's history is the network's: the others' copies are the same rows, in its order
    wait_for(lambda: texts(a, "#storm") == texts(b, "#storm") == texts(c, "#storm"), "one order")
    # the inbox: every private message arrives once, at a login on any server
    sent = {f"pm-{tag}-{n}" for tag in ("b", "c") for n in range(PRIVATE_MESSAGES)}
    wait_for(lambda: _unread(a, "bob") == len(sent), "every private message in the hub's inbox")
    got = login(c, "bob")
    assert sorted(got) == sorted(sent)
    assert login(b, "bob2") == []  # read: not again elsewhere
    wait_for(lambda: all(_unread(live, "bob") == 0 for live in (a, b, c)), "read everywhere")


def _members(watcher: LineClient) -> set[str]:
    watcher.send("NAMES #storm")
    lines = watcher.lines_until(r" 366 ")
    return {
        nick.lstrip("@+")
        for line in lines
        if " 353 " in line
        for nick in line.split(" :", 1)[1].split()
    }


def _unread(live: LiveServer, account: str) -> int:
    sql = "SELECT count(*) FROM messages WHERE recipient = ? AND unread = 1"
    return int(str(query(live, sql, account)[0][0]))
