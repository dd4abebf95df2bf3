"""Real sockets: one network of both kinds, ngIRCd's hub.test - leaf.test (miniircd) -
deep.test (miniircd), each on its own 127.0.0.x: leaf.test is a leaf of ngIRCd and the hub
of deep.test at once, relaying between the two dialects (docs/linking.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveserver import LineClient, LiveServer
from ngircd import NGIRCD, NgircdHub, doc_block, start_leaf, wait_linked

pytestmark = pytest.mark.skipif(NGIRCD is None, reason="needs ngircd (apt-get install ngircd)")

LEAF_TAKES_DEEP = """
[[links]]
name = "deep.test"
send_password = "leaf-to-deep"
accept_password = "deep-to-leaf"
connect = false
"""

DEEP = """[server]
server_name = "deep.test"
server_info = "a miniircd leaf of a miniircd"

[listen]
host = "127.0.0.5"

[[links]]
name = "leaf.test"
host = "127.0.0.2"
port = {port}
send_password = "deep-to-leaf"
accept_password = "leaf-to-deep"
connect = true
retry = 1
"""


def test_a_network_of_both_dialects(tmp_path: Path) -> None:
    hub = NgircdHub(tmp_path / "hub", doc_block("hub-config"))
    hub.start()
    leaf = start_leaf(
        tmp_path, "leaf.test", "127.0.0.2", hub, doc_block("leaf-config") + LEAF_TAKES_DEEP
    )
    directory = tmp_path / "deep.test"
    directory.mkdir()
    (directory / "deep.toml").write_text(DEEP.format(port=leaf.port))
    deep = LiveServer(
        directory, "--config", str(directory / "deep.toml"), host="127.0.0.5", name="deep.test"
    )
    deep.start()
    wait_linked(deep)
    wait_linked(leaf, 2)
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    leafy = leaf.client("leafy")
    deepy = deep.client("deepy")
    for client in (leafy, deepy):
        client.send("CAP REQ :message-tags echo-message")
        client.expect(r" CAP \S+ ACK ")
    deepy.send("JOIN #mix")
    deepy.expect(r" 366 deepy #mix ")
    hubby.send("WHOIS deepy")  # ngIRCd knows deep.test, behind leaf.test
    hubby.expect(r" 312 hubby deepy deep\.test :a miniircd leaf of a miniircd$")
    hubby.send("JOIN #mix")
    deepy.expect(r":hubby!~hubby@127\.0\.0\.1 JOIN #mix$")
    leafy.send("JOIN #mix")
    deepy.expect(r":leafy!~leafy@127\.0\.0\.1 JOIN #mix$")
    hubby.expect(r"^:leafy!~leafy@127\.0\.0\.1 JOIN :?#mix$")
    # deepy's message crosses both links; the two miniircd servers show it with one msgid
    deepy.send("PRIVMSG #mix :from the deep")
    echo = deepy.expect(r"PRIVMSG #mix :from the deep$")
    shown = leafy.expect(r"PRIVMSG #mix :from the deep$")
    assert _msgid(echo) == _msgid(shown)
    hubby.expect(r"^:deepy!~deepy@127\.0\.0\.1 PRIVMSG #mix :from the deep$")
    hubby.send("PRIVMSG deepy :and back", "PRIVMSG #mix :to all")
    deepy.expect(r":hubby!~hubby@127\.0\.0\.1 PRIVMSG deepy :and back$")
    deepy.expect(r":hubby!~hubby@127\.0\.0\.1 PRIVMSG #mix :to all$")
    deep.stop()  # leaf.test loses deep.test, and tells ngIRCd with an SQUIT
    hubby.expect(r"^:deepy!~deepy@127\.0\.0\.1 QUIT :hub\.test deep\.test$")  # in its words
    leafy.expect(r":deepy!~deepy@127\.0\.0\.1 QUIT :leaf\.test deep\.test$")


def _msgid(line: str) -> str:
    tags = dict(item.partition("=")[::2] for item in line[1 : line.index(" ")].split(";"))
    return tags["msgid"]
