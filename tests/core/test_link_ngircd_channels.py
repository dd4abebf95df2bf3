"""Channel modes, lists, INVITE and private messages across a link in ngIRCd's dialect, as
transcripts: a fake ngIRCd hub's lines in, ours out (core.s2s_channels, core.s2s_events)."""

from __future__ import annotations

from test_link_ngircd import BOB, HUB_005, HUB_376, HUB_PASS, HUB_SERVER, hub_burst, linked

from harness import CoreHarness


def test_their_lists_after_the_burst_and_a_server_mode(core: CoreHarness) -> None:
    alice, peer = linked(core)
    # ngIRCd sends each list entry as a MODE line from its server after the NJOINs
    peer.send(
        ":hub.test MODE #room +e good!*@*",
        ":hub.test MODE #room +b bad!*@*",
        ":hub.test MODE #room +I friend!*@*",
        ":hub.test MODE #room +b bad!*@*",  # already there: no change, nothing shown
    )
    assert alice.take() == [
        ":hub.test MODE #room +e good!*@*",
        ":hub.test MODE #room +b bad!*@*",
        ":hub.test MODE #room +I friend!*@*",
    ]
    room = core.server.state.channels["#room"]
    assert room.bans == {"bad!*@*": ("hub.test", 1700000000)}
    assert list(room.excepts) == ["good!*@*"] and list(room.invex) == ["friend!*@*"]
    peer.send(":bob MODE #room +lk-n 5 sekrit", ":bob MODE #room -b+q bad!*@* bob")
    assert alice.take() == [
        f":{BOB} MODE #room +lk-n 5 sekrit",
        f":{BOB} MODE #room -b bad!*@*",  # ngIRCd's +q (owner, with X) is not kept here
    ]
    assert (room.limit, room.key, "n" in room.modes, room.bans) == (5, "sekrit", False, {})
    # a mode from a user the link does not lead to, or nonsense, changes nothing
    peer.send(":alice MODE #room +m", ":bob MODE #room +l nonsense", ":bob MODE #room +b")
    assert alice.take() == [] and "m" not in room.modes and room.limit == 5


def test_our_lists_follow_our_burst(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("JOIN #room", "MODE #room +beI bad!*@* good!*@* friend!*@*")
    peer = core.link()
    peer.take()
    peer.send(HUB_PASS, HUB_SERVER)
    assert peer.send(HUB_005, HUB_376) == [
        ":irc.test NICK alice 1 ~alice 127.0.0.1 1 + :Alice",
        ":irc.test CHANINFO #room +nt * 0 :",
        ":irc.test NJOIN #room :@alice",
        ":irc.test MODE #room +e good!*@*",
        ":irc.test MODE #room +b bad!*@*",
        ":irc.test MODE #room +I friend!*@*",
    ]


def test_our_users_modes_go_to_the_hub(core: CoreHarness) -> None:
    alice, peer = linked(core)
    alice.send("MODE #room +bkl-t bad!*@* key 3", "MODE #room -b bad!*@*", "MODE #room +v bob")
    assert peer.take() == [
        ":alice MODE #room +bkl-t bad!*@* key 3",
        ":alice MODE #room -b bad!*@*",
        ":alice MODE #room +v bob",
    ]
    alice.send("MODE alice +iB", "MODE alice -i")  # the bot mode is this server's own
    assert peer.take() == [":alice MODE alice +i", ":alice MODE alice -i"]


def test_a_remote_join_is_never_refused(core: CoreHarness) -> None:
    alice, peer = linked(core)
    alice.send("MODE #room +iklb key 1 carol!*@*")
    alice.take()
    peer.send(":carol PART #room", ":carol JOIN #room")
    assert alice.take() == [":carol!~c@10.0.0.3 PART :#room", ":carol!~c@10.0.0.3 JOIN #room"]


def test_a_remote_user_invites_ours(core: CoreHarness) -> None:
    alice, peer = linked(core)
    dave = core.register("dave")
    dave.send("AWAY :lunch")
    alice.send("CAP REQ :invite-notify", "MODE #room +i")
    alice.take()
    peer.take()
    assert peer.send(":bob INVITE dave #room") == [
        ":irc.test 341 bob dave #room",
        ":irc.test 301 bob dave :lunch",
    ]
    assert dave.take() == [f":{BOB} INVITE dave #room"]
    assert alice.take() == [f":{BOB} INVITE dave #room"]  # invite-notify
    assert dave.send("INVITE")[0] == ":irc.test 336 dave :#room"
    assert dave.send("JOIN #room")[0] == ":dave!~dave@127.0.0.1 JOIN #room"
    assert peer.take() == [":dave JOIN #room"]
    assert peer.send(":bob INVITE dave #room") == [
        ":irc.test 443 bob dave #room :is already on channel"
    ]
    # an INVITE from a user the link does not lead to is dropped
    assert peer.send(":alice INVITE dave #room") == []


def test_our_user_invites_a_remote_one(core: CoreHarness) -> None:
    alice, peer = linked(core)
    peer.send(":carol PART #room")
    alice.take()
    assert alice.send("INVITE carol #room") == []  # the answer comes from carol's server
    assert peer.take() == [":alice INVITE carol #room"]
    assert "carol" in core.server.state.channels["#room"].invited
    # ngIRCd names its 341 after the invited user; it comes from that user's server
    assert peer.send(":carol 341 alice carol #room") == []
    assert alice.take() == [":other.test 341 alice carol :#room"]
    assert alice.send("INVITE bob #room") == [
        ":irc.test 443 alice bob #room :is already on channel"
    ]


def test_their_private_messages_are_kept_and_wait_in_inboxes(core: CoreHarness) -> None:
    alice, peer = linked(core)
    alice.send("CAP REQ :server-time", "REGISTER alice * secretpass")
    core.finish_jobs()
    alice.take()
    erin = core.connect()
    erin.send("REGISTER erin * secretpass", "QUIT")
    core.finish_jobs()
    peer.take()
    assert peer.send(":bob PRIVMSG alice :hi alice") == []
    (line,) = alice.take()
    assert line.endswith(f" :{BOB} PRIVMSG alice :hi alice") and "time=" in line
    stored = core.store.messages("alice ~bob", None, None, 10, True)  # bob: by nick (history.party)
    assert [(m.source, m.target, m.text) for m in stored] == [(BOB, "alice", "hi alice")]
    history = alice.send("CHATHISTORY LATEST bob * 10")
    assert any(" :hi alice" in h for h in history)
    # erin is an account here with no one logged in: her inbox keeps it
    assert peer.send(":bob PRIVMSG erin :for later") == [
        ":irc.test NOTICE bob :erin is offline; your message will be delivered when they log in"
    ]
    assert core.store.unread_count("erin") == 1
    assert peer.send(":bob PRIVMSG nobody :hello?") == [
        ":irc.test 401 bob nobody :No such nick/channel"
    ]
    assert peer.send(":bob NOTICE nobody :hello?") == []


def test_a_server_notice_reaches_our_user(core: CoreHarness) -> None:
    alice, peer = linked(core)
    peer.send(":hub.test NOTICE alice :from the hub", ":nobody.test NOTICE alice :who")
    assert alice.take() == [":hub.test NOTICE alice :from the hub"]


def test_who_shows_a_remote_users_away_and_modes(core: CoreHarness) -> None:
    alice, peer = linked(core)
    alice.send("CAP REQ :away-notify")
    alice.take()
    peer.send(":bob MODE bob :+a")  # ngIRCd's AWAY: a user mode, without the text
    assert alice.take() == [f":{BOB} AWAY :Away"]
    assert ":irc.test 301 alice bob :Away" in alice.send("WHOIS bob")
    assert alice.send("WHO #room") == [
        ":irc.test 352 alice #room ~alice 127.0.0.1 irc.test alice H@ :0 Alice",
        ":irc.test 352 alice #room ~b 10.0.0.2 hub.test bob G@ :1 Bob",
        ":irc.test 352 alice #room ~c 10.0.0.3 other.test carol H+ :2 Carol",
        ":irc.test 315 alice #room :End of WHO list",
    ]


def test_a_ban_from_their_burst_keeps_our_user_out(core: CoreHarness) -> None:
    alice = core.register("alice")
    peer = core.link()
    peer.take()
    peer.send(HUB_PASS, HUB_SERVER, HUB_005, HUB_376)
    hub_burst(peer)
    peer.send(":hub.test MODE #room +b alice!*@*")
    assert alice.send("JOIN #room")[0] == ":irc.test 474 alice #room :Cannot join channel (+b)"


def test_away_users_in_the_bursts(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("AWAY :brb")
    peer = core.link()
    peer.take()
    peer.send(HUB_PASS, HUB_SERVER)
    assert peer.send(HUB_005, HUB_376) == [":irc.test NICK alice 1 ~alice 127.0.0.1 1 +a :Alice"]
    peer.send(":hub.test NICK bob 1 ~b 10.0.0.2 1 +ai :Bob")
    assert alice.send("USERHOST bob") == [":irc.test 302 alice :bob=-~b@10.0.0.2"]
    peer.send(":bob MODE bob :-a")
    assert alice.send("USERHOST bob") == [":irc.test 302 alice :bob=+~b@10.0.0.2"]


def test_a_channel_the_network_opens_has_the_modes_it_is_told(core: CoreHarness) -> None:
    """ngIRCd opens a channel with no modes and tells none: neither do we. Ours, opened
    by our user, the network learns the modes of from us."""
    alice, peer = linked(core)
    peer.send(":bob JOIN #theirs\x07o")
    assert alice.send("MODE #theirs")[0] == ":irc.test 324 alice #theirs :+"
    peer.send(":bob MODE #theirs +t")
    assert alice.send("MODE #theirs")[0] == ":irc.test 324 alice #theirs :+t"
    alice.send("REGISTER alice * secretpass")
    core.finish_jobs()
    alice.send("JOIN #reg", "MODE #reg +kb sekrit bad!*@*", "PART #reg")
    assert core.server.state.find_channel("#reg") is not None  # registered: kept empty
    peer.take()
    alice.send("JOIN #reg sekrit")
    assert peer.take() == [
        ":alice JOIN #reg\x07o",
        ":irc.test MODE #reg +ntk sekrit",
        ":irc.test MODE #reg +b bad!*@*",
    ]
