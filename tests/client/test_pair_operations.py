"""The course spec's sixteen operations, typed into the real client on the real core.

Each test types the client's commands (`Terminal.type`) and checks what the client shows
its user, line for line, so a change of words on either side shows here. Where the server's
view matters (who is in a room, who is logged in), another user's client is asked, so the
tests use no more of the core than `Pair` does. The core's clock stands still at
2023-11-14 22:13:20 UTC.
"""

from __future__ import annotations

import pytest

from harness import CoreHarness
from pair import Pair, Terminal

NOW = "[22:13]"  # a live message's time
STORED = "[2023-11-14 22:13]"  # a stored one's (history, inbox)
CONNECTED = "* Connected to irc.test:6667 as {nick} (not logged in)"


@pytest.fixture
def pair() -> Pair:
    return Pair()


def connected(pair: Pair, nick: str | None = None) -> Terminal:
    terminal = pair.terminal(nick)
    terminal.type("/connect irc.test")
    return terminal


def user(pair: Pair, name: str, password: str = "secretpw1") -> Terminal:
    """A client connected and logged in to a new account `name`."""
    terminal = connected(pair)
    assert terminal.type(f"/register {name} {password}") == [
        f"* Created user {name}; you are logged in as {name}"
    ]
    return terminal


def in_room(terminal: Terminal, room: str) -> Terminal:
    terminal.type(f"/join {room}")
    assert terminal.session.current_room == room
    terminal.pair.pump()
    for other in terminal.pair.terminals:
        other.take()  # "... joined" and the like
    return terminal


def seen_by(pair: Pair, *commands: str) -> list[str]:
    """What an onlooker (a fresh guest) is shown for `commands`."""
    onlooker = connected(pair)
    return [line for command in commands for line in onlooker.type(command)]


# --- 0. connect ----------------------------------------------------------------------------


def test_connect_shows_the_welcome_and_who_you_are(pair: Pair) -> None:
    alice = pair.terminal("guest1234")
    assert alice.session.prompt() == "(not connected)> "
    assert alice.type("/connect irc.test") == [
        "* Connecting to irc.test:6667...",
        "* Welcome to miniircd.",
        "* Be kind to each other.",
        CONNECTED.format(nick="guest1234"),
    ]
    assert alice.session.prompt() == "(guest)> "


def test_connect_to_a_server_without_a_motd() -> None:
    pair = Pair(motd=None)  # 422 ends the welcome instead of 376
    alice = pair.terminal()
    assert alice.type("/connect irc.test:6667") == [
        "* Connecting to irc.test:6667...",
        CONNECTED.format(nick="guest1000"),
    ]


def test_connect_twice_is_refused(pair: Pair) -> None:
    alice = connected(pair)
    assert alice.type("/connect irc.test") == [
        "! Already connected to irc.test:6667; use /disconnect first"
    ]


def test_the_client_answers_pings_and_stays_connected(pair: Pair) -> None:
    alice = connected(pair)
    config = pair.core.server.config
    pair.tick(config.ping_interval)  # the server PINGs, the client PONGs
    pair.tick(config.ping_timeout)
    assert alice.take() == []
    assert alice.session.connected_to == "irc.test:6667"
    assert "> PONG :irc.test" in alice.wire


# --- 1. disconnect -------------------------------------------------------------------------


def test_disconnect(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    alice = in_room(user(pair, "alice"), "#news")
    assert alice.type("/disconnect") == ["* Disconnected from irc.test:6667"]
    assert alice.session.prompt() == "(not connected)> "
    assert bob.take() == [f"{NOW} -- alice quit (Quit: Leaving)"]
    assert bob.type("/members") == ["* 1 member in #news: @bob"]


def test_commands_need_a_connection(pair: Pair) -> None:
    alice = pair.terminal()
    for command in ["/rooms", "/login alice secretpw1", "hello"]:
        assert alice.type(command) == ["! Not connected; use /connect host[:port] first"]


def test_the_server_closing_the_link_is_shown(pair: Pair) -> None:
    alice = connected(pair)
    pair.core.server.shutdown("Server going down for a test")
    pair.pump()
    assert alice.take() == [
        "* The server closed the connection: Server going down for a test",
        "! Disconnected from irc.test:6667",
    ]
    assert alice.session.prompt() == "(not connected)> "


# --- 2. create a user ----------------------------------------------------------------------


def test_register_creates_the_user_and_logs_in(pair: Pair) -> None:
    alice = connected(pair)
    assert alice.type("/register alice secretpw1") == [
        "* Created user alice; you are logged in as alice"
    ]
    assert alice.session.prompt() == "alice> "
    assert seen_by(pair, "/msg alice hi") == [f"{NOW} [PM to alice] hi"]  # under that name
    assert alice.take() == [f"{NOW} [PM from guest1001] hi"]


def test_register_a_name_that_is_taken(pair: Pair) -> None:
    user(pair, "bob")
    alice = connected(pair)
    assert alice.type("/register bob password1") == ["! The user name bob is already taken"]
    assert alice.type("/register BOB password1") == ["! The user name BOB is already taken"]
    assert alice.session.prompt() == "(guest)> "


def test_register_a_password_the_server_finds_too_short() -> None:
    pair = Pair(password_min_length=12)
    alice = connected(pair)
    assert alice.type("/register alice secretpw1") == [
        "! The password is too weak: Passwords must be 12 to 128 characters long"
    ]


def test_register_errors_the_client_tells_without_asking(pair: Pair) -> None:
    alice = connected(pair)
    assert alice.type("/register alice short") == ["! Invalid password: use 8 to 128 characters"]
    assert alice.type("/register 9lives secretpw1")[0].startswith("! Invalid user name '9lives'")
    assert [line for line in alice.wire if "REGISTER" in line] == []


def test_a_user_outlives_a_restart(pair: Pair) -> None:
    user(pair, "alice")
    again = Pair(CoreHarness.on_store(pair.core.store))
    alice = connected(again)
    assert alice.type("/login alice secretpw1") == ["* Logged in as alice"]


# --- 3. log in -----------------------------------------------------------------------------


def test_login(pair: Pair) -> None:
    user(pair, "alice").type("/disconnect")
    alice = connected(pair)
    assert alice.type("/login alice secretpw1") == ["* Logged in as alice"]
    assert alice.session.prompt() == "alice> "
    assert alice.type("/inbox") == ["* Your inbox is empty"]  # the server knows who she is


def test_login_with_a_wrong_password_or_an_unknown_user(pair: Pair) -> None:
    user(pair, "alice").type("/disconnect")
    alice = connected(pair)
    assert alice.type("/login alice wrongpass") == ["! Login failed: wrong user name or password"]
    assert alice.type("/login nobody secretpw1") == ["! Login failed: wrong user name or password"]
    assert alice.session.prompt() == "(guest)> "
    assert alice.type("/login alice secretpw1") == ["* Logged in as alice"]


def test_login_when_someone_uses_the_name_as_a_nick(pair: Pair) -> None:
    user(pair, "alice").type("/disconnect")
    connected(pair, "alice")  # a guest under that nick
    alice = connected(pair, "guest2000")
    assert alice.type("/login alice secretpw1") == [
        "* Logged in as alice",
        "* The nick alice is in use; others see you as guest2000",
    ]
    assert alice.session.prompt() == "alice> "


def test_login_twice_is_refused(pair: Pair) -> None:
    alice = user(pair, "alice")
    assert alice.type("/login alice secretpw1") == [
        "! You are already logged in as alice; use /logout first"
    ]


# --- 4. log out ----------------------------------------------------------------------------


def test_logout(pair: Pair) -> None:
    alice = user(pair, "alice")
    assert alice.type("/logout") == ["* Logged out"]
    assert alice.session.prompt() == "(guest)> "
    assert alice.type("/raw INBOX") == ["! You must log in first"]  # the server agrees
    assert alice.type("/logout") == [
        "! You are not logged in; use /login user pass (or /register user pass)"
    ]


# --- 5. create a room ----------------------------------------------------------------------


def test_create_a_room(pair: Pair) -> None:
    alice = user(pair, "alice")
    assert alice.type("/create #lobby") == ["* Created #lobby; you are in it now"]
    assert alice.session.prompt() == "alice #lobby> "
    assert seen_by(pair, "/members #lobby") == ["* 1 member in #lobby: @alice"]


def test_create_a_room_that_exists(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    alice = user(pair, "alice")
    assert alice.type("/create #news") == ["! Room #news already exists; use /join #news"]
    assert bob.type("/members") == ["* 1 member in #news: @bob"]
    alice.type("/create #lobby")
    assert alice.type("/create #LOBBY") == ["! Room #LOBBY already exists (you are in it)"]


def test_create_a_room_that_exists_but_is_secret(pair: Pair) -> None:
    """A secret room is hidden from outsiders' room lists, so /create can only find out
    that it existed by joining it, and says so."""
    bob = user(pair, "bob")
    bob.type("/create #hideout")
    bob.type("/raw MODE #hideout +s")
    alice = user(pair, "alice")
    assert alice.type("/create #hideout") == [
        "* #hideout existed already (a secret room); you joined it (2 members: @bob alice)"
    ]
    assert bob.type("/members") == [
        "[22:13] #hideout -- alice joined",
        "* 2 members in #hideout: @bob alice",
    ]


# --- 6. list rooms -------------------------------------------------------------------------


def test_rooms(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    bob.type("/raw TOPIC #news :Daily news")
    alice = user(pair, "alice")
    assert alice.type("/rooms") == [
        "* 1 room(s):",
        "*   #news  1 member - Daily news",
    ]
    alice.type("/create #lobby")
    assert alice.type("/list") == [
        "* 2 room(s):",
        "*   #lobby  1 member (you are in it)",
        "*   #news  1 member - Daily news",
    ]


def test_rooms_when_there_are_none(pair: Pair) -> None:
    assert connected(pair).type("/rooms") == ["* No rooms yet; create one with /create #room"]


# --- 7. join rooms -------------------------------------------------------------------------


def test_join_a_room(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    bob.type("/raw TOPIC #news :Daily news")
    bob.type("The paper is out")
    alice = user(pair, "alice")
    assert alice.type("/join #news") == [
        "* You joined #news (2 members: @bob alice)",
        "* Topic of #news: Daily news",
        "* Recent messages in #news:",
        f"{STORED} #news <bob> The paper is out",
        "* End of recent messages in #news (1 message)",
    ]
    assert alice.session.prompt() == "alice #news> "
    assert bob.take() == [f"{NOW} #news -- alice joined"]


def test_join_several_rooms_some_missing(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #a")
    bob.type("/create #b")
    alice = user(pair, "alice")
    assert alice.type("/join #a,#nowhere,#b") == [
        "! No room named #nowhere; create it with /create #nowhere",
        "* You joined #a (2 members: @bob alice)",
        "* You joined #b (2 members: @bob alice)",
    ]
    assert alice.session.rooms == ["#a", "#b"]
    assert bob.take() == [f"{NOW} #a -- alice joined", f"{NOW} #b -- alice joined"]
    assert bob.type("/rooms") == [
        "* 2 room(s):",
        "*   #a  2 members (you are in it)",
        "*   #b  2 members (you are in it)",
    ]


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("+b alice!*@*", "! You are banned from #club"),
        ("+l 1", "! #club is full"),
        ("+i", "! #club is invite-only"),
        ("+k sesame", "! #club needs a key (a room password)"),
    ],
)
def test_join_a_room_that_refuses(pair: Pair, mode: str, words: str) -> None:
    bob = user(pair, "bob")
    bob.type("/create #club")
    bob.type(f"/raw MODE #club {mode}")
    alice = user(pair, "alice")
    assert alice.type("/join #club") == [words]
    assert alice.session.prompt() == "alice> "
    assert bob.type("/members") == ["* 1 member in #club: @bob"]


def test_join_a_room_you_are_in(pair: Pair) -> None:
    alice = user(pair, "alice")
    alice.type("/create #lobby")
    assert alice.type("/join #lobby") == ["! You are already in #lobby"]


# --- 8. leave a room -----------------------------------------------------------------------


def test_leave(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    alice = in_room(user(pair, "alice"), "#news")
    alice.type("/create #lobby")
    assert alice.type("/leave") == ["* You left #lobby", "* Now talking in #news"]
    assert alice.type("/part #news") == ["* You left #news"]
    assert alice.session.prompt() == "alice> "
    assert bob.take() == [f"{NOW} #news -- alice left"]
    assert bob.type("/members") == ["* 1 member in #news: @bob"]
    assert alice.type("/leave #news") == ["! You are not in #news"]


# --- 9. switch room ------------------------------------------------------------------------


def test_switch(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    alice = in_room(user(pair, "alice"), "#news")
    alice.type("/create #lobby")
    assert alice.type("/switch #news") == ["* Now talking in #news"]
    assert alice.session.prompt() == "alice #news> "
    alice.type("here")
    assert bob.take() == [f"{NOW} #news <alice> here"]
    assert alice.type("/switch #elsewhere") == ["! You are not in #elsewhere; /join it first"]


# --- 10. send a message to rooms -----------------------------------------------------------


def test_text_goes_to_the_current_room(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    alice = in_room(user(pair, "alice"), "#news")
    assert alice.type("Congratulations!") == [f"{NOW} #news <alice> Congratulations!"]
    assert bob.take() == [f"{NOW} #news <alice> Congratulations!"]
    assert alice.type("//help is a command") == [f"{NOW} #news <alice> /help is a command"]


def test_send_to_several_rooms(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #a")
    bob.type("/create #b")
    alice = in_room(in_room(user(pair, "alice"), "#a"), "#b")
    assert alice.type("/send #a,#b news for all") == [
        f"{NOW} #a <alice> news for all",
        f"{NOW} #b <alice> news for all",
    ]
    assert bob.take() == [f"{NOW} #a <alice> news for all", f"{NOW} #b <alice> news for all"]
    assert alice.type("/send #a,#c hi") == ["! You are not in #c; /join it first"]


def test_text_in_a_room_where_you_may_not_speak(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #quiet")
    bob.type("/raw MODE #quiet +m")
    alice = in_room(user(pair, "alice"), "#quiet")
    assert alice.type("hello?") == [
        "! You cannot send to #quiet (you are not in it, are banned, or it is moderated)"
    ]
    assert bob.take() == []


def test_text_outside_any_room(pair: Pair) -> None:
    assert user(pair, "alice").type("hello") == [
        "! You are not in a room; /create or /join one first (or /msg user text)"
    ]


# --- 11. room history ----------------------------------------------------------------------


def test_history(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    for n in range(1, 5):
        bob.type(f"item {n}")
    alice = in_room(user(pair, "alice"), "#news")
    assert alice.type("/history 2") == [
        "* History of #news:",
        f"{STORED} #news <bob> item 3",
        f"{STORED} #news <bob> item 4",
        "* End of history of #news (2 messages)",
    ]
    alice.type("/create #lobby")
    assert alice.type("/history #news 1") == [
        "* History of #news:",
        f"{STORED} #news <bob> item 4",
        "* End of history of #news (1 message)",
    ]
    assert alice.type("/history") == ["* No messages in #lobby yet"]


def test_history_of_a_room_you_are_not_in_or_that_does_not_exist(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    bob.type("secret plans")
    alice = user(pair, "alice")
    assert alice.type("/history #news") == ["! The history of #news could not be retrieved"]
    assert alice.type("/history #nowhere") == ["! The history of #nowhere could not be retrieved"]
    assert alice.type("/history") == ["! You are not in any room; name one, or /join one first"]


# --- 12. room members ----------------------------------------------------------------------


def test_members(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    alice = in_room(user(pair, "alice"), "#news")
    assert alice.type("/members") == ["* 2 members in #news: @bob alice"]
    alice.type("/create #lobby")
    assert alice.type("/names #news") == ["* 2 members in #news: @bob alice"]
    assert alice.type("/members #nowhere") == ["* Nobody is in #nowhere (or there is no such room)"]


# --- 13. personal messages -----------------------------------------------------------------


def test_msg_someone_online(pair: Pair) -> None:
    bob = user(pair, "bob")
    alice = user(pair, "alice")
    assert alice.type("/msg bob See you later") == [f"{NOW} [PM to bob] See you later"]
    assert bob.take() == [f"{NOW} [PM from alice] See you later"]


def test_msg_someone_offline_is_delivered_at_login(pair: Pair) -> None:
    user(pair, "alice").type("/disconnect")
    bob = user(pair, "bob")
    assert bob.type("/msg alice Are you still there?") == [
        f"{NOW} [PM to alice] Are you still there?",
        "* alice is offline; your message will be delivered when they log in",
    ]
    alice = connected(pair)
    assert alice.type("/login alice secretpw1") == [
        "* Logged in as alice",
        "* You have 1 unread message(s)",
        "* Your unread messages:",
        f"{STORED} [PM from bob] Are you still there?",
        "* End of your unread messages (1 message)",
    ]
    alice.type("/logout")
    assert alice.type("/login alice secretpw1") == ["* Logged in as alice"]  # read now


def test_msg_nobody(pair: Pair) -> None:
    alice = user(pair, "alice")
    assert alice.type("/msg nobody hello") == [
        "! No user named nobody; the message was not delivered"
    ]
    assert alice.type("/msg #news hello") == ["! #news is a room; use /send #news text"]


def test_msg_to_a_full_inbox() -> None:
    pair = Pair(inbox_max=1)
    user(pair, "carol").type("/disconnect")
    alice = user(pair, "alice")
    alice.type("/msg carol one")
    assert alice.type("/msg carol two") == [
        "! The inbox of carol is full; the message was not delivered"
    ]


# --- 14. inbox -----------------------------------------------------------------------------


def test_inbox(pair: Pair) -> None:
    alice = user(pair, "alice")
    assert alice.type("/inbox") == ["* Your inbox is empty"]
    bob = user(pair, "bob")
    bob.type("/msg alice first")
    bob.type("/msg alice second")
    alice.take()
    assert alice.type("/inbox") == [
        "* Your inbox:",
        f"{STORED} [PM from bob] first",
        f"{STORED} [PM from bob] second",
        "* End of your inbox (2 messages)",
    ]
    assert alice.type("/inbox 1") == [
        "* Your inbox:",
        f"{STORED} [PM from bob] second",
        "* End of your inbox (1 message)",
    ]


def test_inbox_needs_a_login(pair: Pair) -> None:
    assert connected(pair).type("/inbox") == [
        "! You are not logged in; use /login user pass (or /register user pass)"
    ]


# --- 15. exit ------------------------------------------------------------------------------


def test_exit(pair: Pair) -> None:
    bob = user(pair, "bob")
    bob.type("/create #news")
    alice = in_room(user(pair, "alice"), "#news")
    assert alice.type("/exit") == ["* Bye"]
    assert alice.quit
    assert bob.take() == [f"{NOW} -- alice quit (Quit: Leaving)"]
    assert bob.type("/members") == ["* 1 member in #news: @bob"]
    assert bob.type("/msg alice hi")[-1] == (
        "* alice is offline; your message will be delivered when they log in"
    )
