"""What the client shows for lines it did not ask for, and how each event is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from clientkit import Client, in_rooms, ours, plain, sent, shown

from miniircd.client.errors import describe_fail, describe_numeric, is_error
from miniircd.client.events import (
    Activity,
    Error,
    Info,
    Notice,
    PrivateMessage,
    RoomMessage,
    clean,
    format_event,
)

NOON = datetime(2027, 1, 15, 12, 5, tzinfo=UTC)


# --- formatting --------------------------------------------------------------------------


def test_room_messages_show_time_room_and_sender() -> None:
    assert format_event(RoomMessage(NOON, "#lobby", "bob", "hi"), UTC) == "[12:05] #lobby <bob> hi"
    action = RoomMessage(NOON, "#lobby", "bob", "waves", action=True)
    assert format_event(action, UTC) == "[12:05] #lobby * bob waves"
    replay = RoomMessage(NOON, "#lobby", "bob", "old", replay=True)
    assert format_event(replay, UTC) == "[2027-01-15 12:05] #lobby <bob> old"
    plus_two = timezone(timedelta(hours=2))
    assert format_event(RoomMessage(NOON, "#l", "b", "x"), plus_two) == "[14:05] #l <b> x"


def test_personal_messages_are_marked() -> None:
    assert format_event(PrivateMessage(NOON, "bob", "psst"), UTC) == "[12:05] [PM from bob] psst"
    mine = PrivateMessage(NOON, "bob", "ok", outgoing=True)
    assert format_event(mine, UTC) == "[12:05] [PM to bob] ok"


def test_other_events() -> None:
    assert format_event(Info("done")) == "* done"
    assert format_event(Error("no")) == "! no"
    assert format_event(Notice(NOON, "", "server says")) == "* server says"
    assert format_event(Notice(NOON, "NickServ", "hello")) == "* NickServ: hello"
    user_notice = Notice(NOON, "bob", "hey", room="#lobby", user=True)
    assert format_event(user_notice, UTC) == "[12:05] #lobby -bob- hey"
    joined = Activity(NOON, "bob joined", "#lobby")
    assert format_event(joined, UTC) == "[12:05] #lobby -- bob joined"
    assert format_event(Activity(NOON, "bob quit"), UTC) == "[12:05] -- bob quit"


def test_text_from_the_network_cannot_drive_the_terminal() -> None:
    assert clean("\x02bold\x02 \x0304,01red\x03 \x1b[2Jgone\x07\r\n") == "bold red [2Jgone"
    event = RoomMessage(NOON, "#l", "b", "a\x1b]0;title\x07b")
    assert "\x1b" not in format_event(event, UTC)


def test_error_tables() -> None:
    assert describe_numeric("401", ["bob", "No such nick/channel"]) == "No user or room named bob"
    assert describe_numeric("499", ["x", "Something odd"]) == "Something odd"
    assert describe_numeric("499", []) == "The server refused that (error 499)"
    assert describe_fail("X", "NEW_CODE", [], "") == "X failed (new code)"
    assert is_error("433") and is_error("904") and not is_error("900") and not is_error("PRIVMSG")


# --- people and rooms --------------------------------------------------------------------


def test_others_joining_leaving_and_talking() -> None:
    client = in_rooms(ours(), "#lobby")
    out = client.feed(
        "@time=2027-01-15T08:00:00.000Z :bob!~b@h JOIN #lobby * :Bob",
        "@time=2027-01-15T08:01:00.000Z :bob!~b@h PRIVMSG #lobby :hi all",
        "@time=2027-01-15T08:02:00.000Z :bob!~b@h NOTICE #lobby :a notice",
        ":bob!~b@h NICK robert",
        ":robert!~b@h TOPIC #lobby :new topic",
        ":robert!~b@h PART #lobby :later",
        ":carol!~c@h QUIT :Client Quit",
    )
    assert shown(out) == [
        "[08:00] #lobby -- bob joined",
        "[08:01] #lobby <bob> hi all",
        "[08:02] #lobby -bob- a notice",
        "[08:00] -- bob is now known as robert",
        "[08:00] #lobby -- robert set the topic: new topic",
        "[08:00] #lobby -- robert left (later)",
        "[08:00] -- carol quit (Client Quit)",
    ]


def test_being_kicked_and_invited() -> None:
    client = in_rooms(ours(), "#a", "#b")
    out = client.feed(":op!~o@h KICK #b guest1 :behave")
    assert shown(out) == ["* op removed you from #b (behave)", "* Now talking in #a"]
    assert client.session.rooms == ["#a"]
    out = client.feed(":op!~o@h KICK #a bob")
    assert shown(out) == ["[08:00] #a -- op removed bob"]
    out = client.feed(":op!~o@h INVITE guest1 #club")
    assert shown(out) == ["* op invites you to #club; /join #club to go"]


def test_recent_history_replayed_on_join_without_chathistory() -> None:
    client = plain()
    client.do("/join #lobby")
    client.feed(":old.example 322 guest1 #lobby 1 :", ":old.example 323 guest1 :End")
    out = client.feed(
        ":guest1!~g@h JOIN #lobby",
        ":old.example 353 guest1 = #lobby :@bob guest1",
        ":old.example 366 guest1 #lobby :End of /NAMES list",
        ":old.example NOTICE #lobby :*** recent history: 1 message(s) follow",
        ":bob!~b@h PRIVMSG #lobby :[2027-01-15 07:00:00] before you came",
        ":old.example NOTICE #lobby :*** end of recent history",
        ":bob!~b@h PRIVMSG #lobby :[not a time] live again",
    )
    assert sent(out) == []
    assert shown(out) == [
        "* You joined #lobby (2 members: @bob guest1)",
        "* Recent messages in #lobby:",
        "[2027-01-15 07:00] #lobby <bob> before you came",
        "* End of recent messages in #lobby (1 message)",
        "[08:00] #lobby <bob> [not a time] live again",
    ]


def test_server_and_service_notices_and_ctcp() -> None:
    client = ours()
    out = client.feed(
        ":irc.test NOTICE guest1 :Server going down soon",
        ":NickServ!NickServ@services NOTICE guest1 :alice is a registered account",
        ":bob!~b@h NOTICE guest1 :psst",
        ":bob!~b@h PRIVMSG guest1 :\x01VERSION\x01",
        ":bob!~b@h PRIVMSG guest1 :\x01ACTION hugs you\x01",
    )
    assert shown(out) == [
        "* Server going down soon",
        "* NickServ: alice is a registered account",
        "[08:00] -bob- psst",
        "[08:00] [PM from bob] * hugs you",
    ]


def test_the_server_closing_the_link() -> None:
    client = ours()
    out = client.feed("ERROR :Closing link: guest1[127.0.0.1] (Ping timeout: 150 seconds)")
    assert shown(out) == [
        "* The server closed the connection: Closing link: guest1[127.0.0.1] "
        "(Ping timeout: 150 seconds)"
    ]
    assert shown(client.session.connection_lost()) == ["! Disconnected from irc.test:6667"]


# --- connecting --------------------------------------------------------------------------


def test_welcome_burst_is_quiet_but_the_motd_shows() -> None:
    client = Client()
    client.do("/connect irc.test")
    client.session.connected()
    out = client.feed(
        ":irc.test CAP * LS :batch",
        ":irc.test CAP guest1 NAK :batch",
        ":irc.test 001 guest1 :Welcome",
        ":irc.test 002 guest1 :Your host is irc.test",
        ":irc.test 251 guest1 :There are 1 users",
        ":irc.test 375 guest1 :- irc.test Message of the day - ",
        ":irc.test 372 guest1 :- Be kind.",
        ":irc.test 376 guest1 :End of /MOTD command.",
        ":irc.test 999 guest1 :something new",
    )
    assert sent(out) == ["CAP REQ :batch", "CAP END"]
    assert client.session.state.caps == set()
    assert shown(out) == [
        "* Be kind.",
        "* Connected to irc.test:6667 as guest1 (not logged in)",
        "* something new",
    ]


def test_capabilities_it_cannot_use_are_not_requested() -> None:
    client = Client()
    client.do("/connect irc.test")
    client.session.connected()
    offer = ":irc.test CAP * LS :sasl=EXTERNAL,SCRAM-SHA-256 draft/chathistory server-time"
    out = client.feed(offer)
    assert sent(out) == ["CAP REQ :server-time"]  # no PLAIN; chathistory is useless without batch


def test_isupport_limits_are_used() -> None:
    client = plain()  # NICKLEN=9
    assert shown(client.do("/login abcdefghij pw"))[0].startswith("! Invalid user name")
    client.feed(":old.example 005 guest1 -NICKLEN :are supported by this server")
    assert client.do("/login abcdefghij pw") != []
    assert "NICKLEN" not in client.session.state.isupport


def test_waiting_tracks_only_newer_commands() -> None:
    client = ours()
    mark = client.session.mark()
    client.do("/rooms")
    assert client.session.waiting(mark)
    later = client.session.mark()
    assert not client.session.waiting(later)
    client.feed(":irc.test 323 guest1 :End of /LIST")
    assert not client.session.waiting(mark)
