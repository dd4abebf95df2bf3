"""Real sockets and real SQLite files: registered rooms across a services network a.test
(the hub) - b.test - c.test, each on its own 127.0.0.x (docs/linking.md, "Registered rooms
across the network"). A room registered on c.test is in every server's store; the hub,
restarted, has it registered from its own file (INFO, listed while empty); its founder
joins on b.test as operator and drops it there, and every store forgets it."""

from __future__ import annotations

from pathlib import Path

from hubnet import hub_network, query, wait_for
from liveserver import LiveServer
from ngircd import wait_linked

PW = "correct-horse"
HOSTS = ("127.0.0.47", "127.0.0.48", "127.0.0.49")






def room(live: LiveServer, name: str) -> tuple[str, str] | None:
    """(founder, topic) of a registered room in a server's SQLite file (read while it
    runs: WAL readers see what is committed)."""
    rows = query(live, "SELECT founder, topic FROM rooms WHERE folded = ?", name)
    return (str(rows[0][0]), str(rows[0][1])) if rows else None




def test_a_room_registered_on_a_leaf_is_the_networks(tmp_path: Path) -> None:
    a, b, c = hub_network(tmp_path, HOSTS)
    tess = c.client("tess")
    tess.send(f"REGISTER * * {PW}")
    tess.expect(r" REGISTER SUCCESS tess ")
    tess.send("JOIN #club", "TOPIC #club :kept everywhere", "PART #club", "QUIT")
    tess.expect_closed()
    for live in (a, b, c):
        wait_for(lambda live=live: room(live, "#club") == ("tess", "kept everywhere"), live.name)
    # the hub, restarted, reads the room from its own file: registered, listed while empty
    a.stop()
    a.start()
    wait_linked(a, 2)
    wait_linked(b, 3)  # a.test, c.test, a.test again
    asker = a.client("asker")
    asker.send("PRIVMSG ChanServ :INFO #club")
    asker.expect(r":ChanServ!\S+ NOTICE asker :#club was registered by tess on ")
    asker.send("LIST")
    asker.expect(r" 322 asker #club 0 :")
    # the founder joins on b.test as operator, and drops the room there
    tina = b.client("tina")
    tina.send(f"PRIVMSG NickServ :IDENTIFY tess {PW}")
    tina.expect(r" 900 tina ")
    tina.send("JOIN #club")
    tina.expect(r" 332 tina #club :kept everywhere$")
    tina.expect(r" 353 tina = #club :@tina$")
    tina.send("PRIVMSG ChanServ :DROP #club")
    tina.expect(r":ChanServ!\S+ NOTICE tina :#club is no longer registered\.$")
    for live in (a, b, c):
        wait_for(lambda live=live: room(live, "#club") is None, f"dropped on {live.name}")
    asker.send("PRIVMSG ChanServ :INFO #club")
    asker.expect(r":ChanServ!\S+ NOTICE asker :#club is not a registered room\.$")
