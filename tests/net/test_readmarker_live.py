"""draft/read-marker over real sockets: two clients of one account agree on what was read,
and the marker outlives a restart; a client that is not logged in keeps its own markers
for as long as it stays connected."""

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


def guest(server: LiveServer, nick: str) -> LineClient:
    """A client with draft/read-marker that is not logged in."""
    client = LineClient(server.port)
    client.send("CAP REQ :draft/read-marker", f"NICK {nick}", f"USER {nick} 0 * :x", "CAP END")
    client.expect(" (376|422) ")
    return client


def test_a_guest_keeps_markers_for_its_connection(live: LiveServer) -> None:
    visitor = guest(live, "visitor")
    bob = live.client("bob")  # a guest too, with no capability
    visitor.send("MARKREAD #nosuchtarget")  # a get on a target nobody uses: no marker
    assert visitor.expect("MARKREAD|FAIL") == ":irc.test MARKREAD #nosuchtarget *"
    visitor.send("JOIN #room")
    assert ":irc.test MARKREAD #room *" in visitor.lines_until(" 366 ")
    visitor.send(f"MARKREAD #room {READ}")
    assert visitor.expect("MARKREAD|FAIL") == f":irc.test MARKREAD #room {READ}"
    visitor.send("MARKREAD #room timestamp=2019-01-01T00:00:00.000Z")  # older: ignored
    assert visitor.expect("MARKREAD|FAIL") == f":irc.test MARKREAD #room {READ}"
    visitor.send("MARKREAD #ROOM")
    assert visitor.expect("MARKREAD|FAIL") == f":irc.test MARKREAD #room {READ}"
    visitor.send("PART #room", "JOIN #room")
    burst = visitor.lines_until(" 366 visitor #room ")
    assert burst[-4:] == [
        ":visitor!~visitor@127.0.0.1 JOIN #room",
        f":irc.test MARKREAD #room {READ}",
        ":irc.test 353 visitor = #room :@visitor",
        ":irc.test 366 visitor #room :End of /NAMES list",
    ]
    visitor.send(f"MARKREAD Bob {READ}", "MARKREAD bob")  # a nick: set, then get
    assert visitor.expect("MARKREAD|FAIL") == f":irc.test MARKREAD bob {READ}"
    assert visitor.expect("MARKREAD|FAIL") == f":irc.test MARKREAD bob {READ}"
    bob.send("JOIN #room", "MARKREAD #room")  # markers are the client's own
    assert bob.expect("MARKREAD|FAIL") == ":irc.test MARKREAD #room *"
    visitor.send("QUIT")
    visitor.expect_closed()
    again = guest(live, "visitor")  # a new connection starts with none
    again.send("JOIN #room")
    assert ":irc.test MARKREAD #room *" in again.lines_until(" 366 ")


def test_malformed_timestamp_is_refused(live: LiveServer) -> None:
    visitor = guest(live, "visitor")
    visitor.send("JOIN #room", "MARKREAD #room timestamp=yesterday", "MARKREAD #room *")
    assert visitor.expect("FAIL") == (
        ":irc.test FAIL MARKREAD INVALID_PARAMS timestamp=yesterday :Invalid timestamp"
    )
    assert visitor.expect("FAIL") == ":irc.test FAIL MARKREAD INVALID_PARAMS * :Invalid timestamp"


def test_private_markers_by_nick(live: LiveServer) -> None:
    first = live.client("alice")
    first.send("REGISTER * * password1")
    first.expect("REGISTER SUCCESS")
    laptop, phone = logged_in(live, "laptop"), logged_in(live, "phone")
    gus = live.client("Gus")  # a guest that writes, then leaves
    gus.send("PRIVMSG laptop :hello", "QUIT")
    gus.expect_closed()
    laptop.expect("hello")
    laptop.send(f"MARKREAD gus {READ}")
    assert laptop.expect("MARKREAD|FAIL") == f":irc.test MARKREAD Gus {READ}"
    assert phone.expect("MARKREAD") == f":irc.test MARKREAD Gus {READ}"
    phone.send("MARKREAD GUS")
    assert phone.expect("MARKREAD") == f":irc.test MARKREAD Gus {READ}"


def test_join_after_a_marker_was_stored_sends_it(live: LiveServer) -> None:
    first = live.client("alice")
    first.send("REGISTER * * password1", "JOIN #room", f"MARKREAD #room {READ}")
    first.expect(f"MARKREAD #room {READ}")
    laptop = logged_in(live, "laptop")
    laptop.send("JOIN #room,#other")
    burst = laptop.lines_until(" 366 laptop #other ")
    assert [line.split()[1] for line in burst] == [
        "JOIN", "MARKREAD", "353", "366", "JOIN", "MARKREAD", "353", "366",
    ]  # fmt: skip
    assert burst[1] == f":irc.test MARKREAD #room {READ}"
    assert burst[5] == ":irc.test MARKREAD #other *"


def test_marker_reaches_the_accounts_other_sessions_at_once(live: LiveServer) -> None:
    first = live.client("alice")
    first.send("REGISTER * * password1")
    first.expect("REGISTER SUCCESS")
    laptop, phone = logged_in(live, "laptop"), logged_in(live, "phone")
    laptop.send(f"MARKREAD alice {READ}")  # a private target: the account itself
    assert laptop.expect("MARKREAD") == f":irc.test MARKREAD alice {READ}"
    assert phone.expect("MARKREAD") == f":irc.test MARKREAD alice {READ}"
    first.send("PING :sync")  # the session without the capability is not told
    assert "MARKREAD" not in " ".join(first.lines_until("PONG"))
