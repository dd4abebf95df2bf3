"""Real sockets and real SQLite files: registered rooms across a services network a.test
(the hub) - b.test - c.test, each on its own 127.0.0.x (docs/linking.md, "Registered rooms
across the network"). A room registered on c.test is in every server's store; the hub,
restarted, has it registered from its own file (INFO, listed while empty); its founder
joins on b.test as operator and drops it there, and every store forgets it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from liveserver import DEADLINE, LiveServer
from ngircd import wait_linked

PW = "correct-horse"
HOSTS = {"a.test": "127.0.0.47", "b.test": "127.0.0.48", "c.test": "127.0.0.49"}


def block(name: str, send: str, accept: str, port: int | None = None) -> str:
    dial = f'host = "{HOSTS[name]}"\nport = {port}\nconnect = true\nretry = 1\n' if port else ""
    return (
        f'\n[[links]]\nname = "{name}"\nsend_password = "{send}"\n'
        f'accept_password = "{accept}"\n{dial}'
    )


def server(tmp_path: Path, name: str, links: str) -> LiveServer:
    directory = tmp_path / name
    directory.mkdir()
    config = directory / "server.toml"
    config.write_text(f'[accounts]\nservices_hub = "a.test"\n{links}')
    return LiveServer(directory, "--config", str(config), host=HOSTS[name], name=name)


def room(live: LiveServer, name: str) -> tuple[str, str] | None:
    """(founder, topic) of a registered room in a server's SQLite file (read while it
    runs: WAL readers see what is committed)."""
    db = sqlite3.connect(f"file:{live.data_dir / 'miniircd.sqlite3'}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT founder, topic FROM rooms WHERE folded = ?", (name,)).fetchone()
    except sqlite3.OperationalError:  # not made yet
        return None
    finally:
        db.close()
    return (str(row[0]), str(row[1])) if row else None


def wait_for(check: object, what: str) -> None:
    deadline = time.monotonic() + 3 * DEADLINE
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


def test_a_room_registered_on_a_leaf_is_the_networks(tmp_path: Path) -> None:
    b = server(tmp_path, "b.test", block("a.test", "b>a", "a>b") + block("c.test", "b>c", "c>b"))
    b.start()
    a = server(tmp_path, "a.test", block("b.test", "a>b", "b>a", b.port))
    a.start()  # the hub dials b.test, so a restart finds b.test where it was
    wait_linked(a)
    c = server(tmp_path, "c.test", block("b.test", "c>b", "b>c", b.port))
    c.start()
    wait_linked(c)
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
