"""Real sockets: a peer that stops reading is cut by its link's own send queue (the
`[[links]]` block's `sendq`), and the server's own clients go on without a stall
(net/links.py)."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

from liveserver import DEADLINE, LiveServer

PEER_CONFIG = """[flood]
enabled = false

[[links]]
name = "stuck.test"
send_password = "to-stuck"
accept_password = "from-stuck"
connect = false
sendq = 65536
"""


def test_a_peer_that_stops_reading_is_cut_by_the_links_sendq(tmp_path: Path) -> None:
    (tmp_path / "leaf.toml").write_text(PEER_CONFIG)
    leaf = LiveServer(tmp_path, "--config", str(tmp_path / "leaf.toml"), name="leaf.test")
    leaf.start()
    peer = socket.socket()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # it will fill soon
    peer.connect((leaf.host, leaf.port))
    peer.settimeout(DEADLINE)
    peer.sendall(
        b":stuck.test PASS from-stuck 0210-IRC+ test|1:C\r\n"
        b":stuck.test SERVER stuck.test 1 :a peer that stops reading\r\n"
        b":stuck.test NICK sloth 1 ~s 10.0.0.9 1 + :Sloth\r\n"
        b":stuck.test NJOIN #busy :sloth\r\n"
    )
    talker = leaf.client("talker")
    listener = leaf.client("listener")
    for client in (talker, listener):
        client.send("JOIN #busy")
        client.expect(" 366 ")
    # The peer reads nothing more: what the leaf sends it piles up in its send queue.
    text = "x" * 400
    deadline = time.monotonic() + 30
    cut = False
    sent = 0
    while not cut:
        assert time.monotonic() < deadline, "the link was never cut"
        talker.send(*[f"PRIVMSG #busy :{sent + n} {text}" for n in range(200)])
        sent += 200
        listener.expect(rf"PRIVMSG #busy :{sent - 1} ")  # local delivery never stalls
        cut = "SendQ exceeded" in leaf.log()
    quit_line = ":sloth!~s@10.0.0.9 QUIT :leaf.test stuck.test"  # the peer split off
    if quit_line not in listener.seen:
        listener.expect("^" + re.escape(quit_line) + "$")
    talker.send("PRIVMSG #busy :still here")
    listener.expect(r"PRIVMSG #busy :still here$")
    peer.close()
