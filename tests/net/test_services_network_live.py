"""Real sockets: one community across four servers (docs/linking.md, "Services hub" and
"History and the inbox across the network"). ngIRCd's hub.test has the miniircd leaf.test
as its leaf; leaf.test is the network's services hub, and the miniircd servers deep.test
and third.test are linked to it. An account registered on third.test logs in on
deep.test; room messages written on leaf.test and by a user of ngIRCd are in the history
of every miniircd server with the same msgids; a user of ngIRCd leaves the offline account
a message with MemoServ, which arrives once, at its login on third.test."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import pytest

from liveserver import DEADLINE, LineClient, LiveServer
from ngircd import NGIRCD, NgircdHub, doc_block, start_leaf, wait_linked

pytestmark = pytest.mark.skipif(NGIRCD is None, reason="needs ngircd (apt-get install ngircd)")

PW = "correct-horse"
HUB_OF_SERVICES = '\n[accounts]\nservices_hub = "leaf.test"\n'
TAKES = """
[[links]]
name = "{name}"
send_password = "leaf-to-{short}"
accept_password = "{short}-to-leaf"
connect = false
"""
DIALS = """[server]
server_name = "{name}"

[listen]
host = "{host}"

[[links]]
name = "leaf.test"
host = "127.0.0.2"
port = {port}
send_password = "{short}-to-leaf"
accept_password = "leaf-to-{short}"
connect = true
retry = 1
"""


def miniircd_behind(tmp_path: Path, leaf: LiveServer, name: str, host: str) -> LiveServer:
    directory = tmp_path / name
    directory.mkdir()
    config = directory / "server.toml"
    short = name.split(".")[0]
    text = DIALS.format(name=name, host=host, port=leaf.port, short=short)
    config.write_text(text + HUB_OF_SERVICES)
    server = LiveServer(directory, "--config", str(config), host=host, name=name)
    server.start()
    wait_linked(server)
    return server


def history_msgids(client: LineClient, room: str) -> list[tuple[str, str]]:
    """(msgid, text) of the room's messages, as CHATHISTORY gives them to `client`."""
    client.send(f"CHATHISTORY LATEST {room} * 50")
    lines = client.lines_until(r" BATCH -")
    found = []
    for line in lines:
        if f" PRIVMSG {room} :" in line:
            tags = dict(item.partition("=")[::2] for item in line[1 : line.index(" ")].split(";"))
            found.append((tags["msgid"], line.split(f" PRIVMSG {room} :", 1)[1]))
    return found


def wait_history(client: LineClient, room: str, count: int) -> list[tuple[str, str]]:
    deadline = time.monotonic() + DEADLINE
    while True:
        found = history_msgids(client, room)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def reader(server: LiveServer, nick: str) -> LineClient:
    client = server.client()
    client.send("CAP REQ :draft/chathistory batch server-time message-tags", "CAP END")
    client.register(nick)
    client.send("JOIN #town")
    client.expect(r" 366 ")
    return client


def test_register_on_one_login_on_another_history_everywhere(tmp_path: Path) -> None:
    hub = NgircdHub(tmp_path / "hub", doc_block("hub-config"))
    hub.start()
    takes = "".join(
        TAKES.format(name=name, short=name.split(".")[0]) for name in ("deep.test", "third.test")
    )
    leaf = start_leaf(
        tmp_path, "leaf.test", "127.0.0.2", hub, doc_block("leaf-config") + takes + HUB_OF_SERVICES
    )
    deep = miniircd_behind(tmp_path, leaf, "deep.test", "127.0.0.5")
    third = miniircd_behind(tmp_path, leaf, "third.test", "127.0.0.6")
    wait_linked(leaf, 3)
    # register on third.test (the hub, leaf.test, stores the account) ...
    tess = third.client("tess")
    tess.send(f"REGISTER * * {PW}")
    tess.expect(r" REGISTER SUCCESS tess ")
    tess.send("QUIT")
    # ... and log in with SASL on deep.test (checked by leaf.test)
    dora = LineClient(deep.port, deep.host)
    dora.send("CAP LS 302", "CAP REQ :sasl", "NICK dora", "USER dora 0 * :Dora")
    dora.send("AUTHENTICATE PLAIN")
    dora.expect(r"^AUTHENTICATE \+$")
    dora.send("AUTHENTICATE " + base64.b64encode(f"\0tess\0{PW}".encode()).decode())
    dora.expect(r" 903 dora ")
    dora.send("CAP END")
    dora.expect(r" 001 dora ")
    # room messages from the services hub's user and from ngIRCd's user
    lena = reader(leaf, "lena")
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    hubby.send("JOIN #town")
    lena.expect(r":hubby!\S+ JOIN #town")
    lena.send("PRIVMSG #town :written on the services hub")
    hubby.expect(r"PRIVMSG #town :written on the services hub$")
    hubby.send("PRIVMSG #town :written on ngIRCd")
    lena.expect(r"PRIVMSG #town :written on ngIRCd$")
    # every miniircd server's history has both, with the same msgids
    histories = [
        wait_history(reader(server, nick), "#town", 2)
        for server, nick in ((leaf, "rl"), (deep, "rd"), (third, "rt"))
    ]
    texts = [text for _, text in histories[0]]
    assert texts == ["written on the services hub", "written on ngIRCd"]
    assert histories[1] == histories[0] and histories[2] == histories[0]
    assert all(re.fullmatch(r"\S+", msgid) for msgid, _ in histories[0])
    # the inbox, from the ngIRCd side: tess is offline everywhere
    dora.send("QUIT")
    dora.expect_closed()
    hubby.send("PRIVMSG MemoServ :SEND tess a note from ngIRCd")
    hubby.expect(r":MemoServ!\S+ NOTICE hubby :tess is offline; your message will be delivered")
    tina = third.client("tina")
    tina.send(f"PRIVMSG NickServ :IDENTIFY tess {PW}", "PING :done")
    got = [line for line in tina.lines_until(r"PONG .*:done") if " PRIVMSG tess " in line]
    assert len(got) == 1 and got[0].endswith(" a note from ngIRCd"), got
    assert got[0].startswith(":hubby!")
    again = deep.client("dana")  # read: a later login elsewhere does not show it again
    again.send(f"PRIVMSG NickServ :IDENTIFY tess {PW}", "PING :done")
    assert not any(" PRIVMSG tess " in line for line in again.lines_until(r"PONG .*:done"))
