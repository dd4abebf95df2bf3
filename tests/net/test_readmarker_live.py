"""draft/read-marker over real sockets: two clients of one account agree on what was read,
and the marker outlives a restart."""

from __future__ import annotations

from pathlib import Path

from liveserver import LineClient, LiveServer

READ = "timestamp=2020-01-02T03:04:05.678Z"


def logged_in(server: LiveServer, nick: str) -> LineClient:
    """A client with draft/read-marker, logged in to `alice` with PASS at connect."""
    client = LineClient(server.port)
    client.send("CAP REQ :draft/read-marker", "PASS alice:password1")
    client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}", "CAP END")
    assert client.expect(" (900|464) ").split()[1] == "900"
    client.expect(" (376|422) ")
    return client


def test_two_clients_share_a_marker_that_survives_a_restart(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        first = server.client("alice")
        first.send("REGISTER * * password1")
        first.expect("REGISTER SUCCESS")
        laptop, phone = logged_in(server, "laptop"), logged_in(server, "phone")
        laptop.send("JOIN #room")
        burst = laptop.lines_until(" 366 ")
        assert burst[0].startswith(":laptop!") and burst[0].endswith(" JOIN #room")
        assert burst[1] == ":irc.test MARKREAD #room *"  # after JOIN, before 366
        laptop.send(f"MARKREAD #room {READ}")
        assert laptop.expect("MARKREAD") == f":irc.test MARKREAD #room {READ}"
        assert phone.expect("MARKREAD") == f":irc.test MARKREAD #room {READ}"
        first.send("MARKREAD #room")  # the same account without the cap: asks and is answered
        assert first.expect("MARKREAD") == f":irc.test MARKREAD #room {READ}"
        for client in (first, laptop, phone):
            client.send("QUIT")
            client.expect_closed()
    finally:
        assert server.stop() == 0

    server = LiveServer(tmp_path)
    server.start()
    try:
        again = logged_in(server, "tablet")
        again.send("JOIN #room")
        assert f":irc.test MARKREAD #room {READ}" in again.lines_until(" 366 ")
        again.send("MARKREAD #room timestamp=2019-01-01T00:00:00.000Z")  # older: ignored
        assert again.expect("MARKREAD") == f":irc.test MARKREAD #room {READ}"
    finally:
        server.stop()
