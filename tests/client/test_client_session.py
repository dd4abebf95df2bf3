"""The client session, sans-IO: every command, and every error of the course spec's list.

Server lines are written as our server sends them (`:irc.test 001 guest1 :Welcome...`);
`plain()` is a server with no CAP, no REGISTER, no HISTORY and no TARGMAX.
"""

from __future__ import annotations

import base64

import pytest
from clientkit import Client, in_rooms, logged_in, ours, plain, sent, shown

from miniircd.client.commands import COMMANDS
from miniircd.client.events import Close, Connect, Quit

# --- 0. connect --------------------------------------------------------------------------


def test_connect_registers_and_negotiates_the_capabilities_it_uses() -> None:
    client = Client()
    out = client.do("/connect irc.test:6697")
    assert Connect("irc.test", 6697, False, False) in out
    assert client.session.prompt() == "(connecting)> "
    assert sent(client.session.connected()) == [
        "CAP LS 302",
        "NICK guest1",
        "USER guest1 0 * :miniircd client",
    ]
    cap = ":irc.test CAP * LS * :account-notify batch draft/chathistory echo-message"
    assert sent(client.feed(cap)) == []  # more LS lines follow
    out = client.feed(":irc.test CAP * LS :sasl=PLAIN server-time draft/account-registration")
    assert sent(out) == [
        "CAP REQ :batch draft/account-registration draft/chathistory echo-message sasl server-time"
    ]
    assert sent(client.feed(":irc.test CAP guest1 ACK :batch echo-message")) == ["CAP END"]
    assert client.session.state.caps == {"batch", "echo-message"}
    client.feed(":irc.test 001 guest1 :Welcome")
    out = client.feed(":irc.test 376 guest1 :End of /MOTD command.")
    assert shown(out) == ["* Connected to irc.test:6697 as guest1 (not logged in)"]
    assert client.session.prompt() == "(guest)> "


def test_connect_options_and_addresses() -> None:
    assert Connect("h", 6697, True, False) in Client().do("/connect h --tls")
    assert Connect("h", 7000, True, True) in Client().do("/connect h:7000 --tls --insecure")
    assert Connect("::1", 6667, False, False) in Client().do("/connect [::1]")
    assert Connect("::1", 6668, False, False) in Client().do("/connect [::1]:6668")
    assert shown(Client().do("/connect h:99999")) == [
        "! Invalid address 'h:99999': use host or host:port"
    ]
    assert shown(Client().do("/connect")) == [
        "! Usage: /connect host[:port] [--tls] [--insecure]"
    ]
    assert shown(Client().do("/connect h --fast"))[0].startswith("! Usage:")


def test_connect_when_already_connected_is_refused_without_sending() -> None:
    client = ours()
    out = client.do("/connect other.example")
    assert shown(out) == ["! Already connected to irc.test:6667; use /disconnect first"]
    assert sent(out) == []
    client = Client()
    client.do("/connect irc.test")
    assert shown(client.do("/connect irc.test"))[0].startswith("! Already connected")


def test_connection_failure_and_loss() -> None:
    client = Client()
    client.do("/connect nowhere.example")
    out = client.session.connection_failed("Connection refused")
    assert shown(out) == ["! Could not connect to nowhere.example:6667: Connection refused"]
    assert client.session.prompt() == "(not connected)> "
    client = logged_in(in_rooms(ours(), "#lobby"))
    assert shown(client.session.connection_lost("reset")) == [
        "! Disconnected from irc.test:6667: reset"
    ]
    assert client.session.rooms == [] and client.session.account is None
    assert client.session.connection_lost() == []  # only once


def test_nick_in_use_while_connecting_tries_another() -> None:
    client = Client()
    client.do("/connect irc.test")
    client.session.connected()
    out = client.feed(":irc.test 433 * guest1 :Nickname is already in use")
    assert sent(out)[0].startswith("NICK guest1") and sent(out)[0] != "NICK guest1"
    new = sent(out)[0].split()[1]
    client.feed(f":irc.test 001 {new} :Welcome", f":irc.test 376 {new} :End")
    assert client.nick == new
    assert client.session.state.guest_nick == new


def test_commands_typed_while_connecting_run_once_ready() -> None:
    client = Client()
    client.do("/connect irc.test")
    client.session.connected()
    assert client.do("/rooms") == []
    out = client.feed(":irc.test 001 guest1 :Welcome", ":irc.test 376 guest1 :End")
    assert sent(out) == ["LIST"]


def test_ping_is_answered() -> None:
    assert sent(ours().feed("PING :irc.test")) == ["PONG :irc.test"]


# --- 1. disconnect -----------------------------------------------------------------------


def test_disconnect() -> None:
    client = in_rooms(ours(), "#lobby")
    out = client.do("/disconnect")
    assert sent(out) == ["QUIT :Leaving"]
    assert Close() in out
    assert shown(out) == ["* Disconnected from irc.test:6667"]
    assert client.session.prompt() == "(not connected)> "
    assert client.session.connection_lost() == []  # the socket closing is no news


def test_disconnect_when_not_connected() -> None:
    assert shown(Client().do("/disconnect")) == ["! Not connected"]


def test_every_server_command_needs_a_connection() -> None:
    for text in ["/register alice password1", "/login alice pw", "/logout", "/create #a",
                 "/rooms", "/join #a", "/leave #a", "/switch #a", "hello", "/send #a hi",
                 "/history", "/members", "/msg bob hi", "/inbox", "/raw PING x"]:  # fmt: skip
        out = Client().do(text)
        assert shown(out) == ["! Not connected; use /connect host[:port] first"], text
        assert sent(out) == []


# --- 2. create a user --------------------------------------------------------------------


def test_register_with_account_registration() -> None:
    client = ours()
    out = client.do("/register alice secretpw1")
    assert sent(out) == ["REGISTER alice * secretpw1"]
    assert client.session.waiting(0)
    out = client.feed(":irc.test 900 guest1 guest1!~g@h alice :You are now logged in as alice")
    assert sent(out) == ["NICK alice"] and shown(out) == []
    out = client.feed(":irc.test REGISTER SUCCESS alice :Account successfully registered")
    assert shown(out) == ["* Created user alice; you are logged in as alice"]
    assert client.feed(":guest1!~g@h NICK alice") == []
    assert client.session.account == "alice"
    assert client.session.prompt() == "alice> "
    assert not client.session.waiting(0)


@pytest.mark.parametrize(
    ("fail", "words"),
    [
        ("ACCOUNT_EXISTS alice :That account name is already taken",
         "! The user name alice is already taken"),
        ("BAD_ACCOUNT_NAME alice :That account name is not valid",
         "! alice is not a valid user name"),
        ("WEAK_PASSWORD alice :Passwords must be 8 to 128 characters long",
         "! The password is too weak: Passwords must be 8 to 128 characters long"),
        ("ALREADY_AUTHENTICATED alice :You are already logged in", "! You are already logged in"),
        ("NEED_NICK * :You must choose a nickname first", "! Choose a nick first"),
        ("COMPLETE_CONNECTION_REQUIRED alice :Send the server password first",
         "! The server wants its password before that"),
        ("SOMETHING_NEW alice :The server's own words", "! The server's own words"),
    ],
)  # fmt: skip
def test_register_refusals_in_plain_words(fail: str, words: str) -> None:
    client = ours()
    client.do("/register alice secretpw1")
    assert shown(client.feed(f":irc.test FAIL REGISTER {fail}")) == [words]
    assert client.session.account is None and not client.session.waiting(0)


def test_register_errors_the_client_can_tell() -> None:
    client = ours()
    cases = {
        "/register": "! Usage: /register user pass",
        "/register alice": "! Usage: /register user pass",
        "/register 1alice secretpw1": "! Invalid user name '1alice'",
        "/register al!ce secretpw1": "! Invalid user name 'al!ce'",
        "/register NickServ secretpw1": "! Invalid user name 'NickServ'",
        "/register " + "a" * 31 + " secretpw1": "! Invalid user name",
        "/register alice short": "! Invalid password: use 8 to 128 characters",
        "/register alice " + "p" * 129: "! Invalid password: use 8 to 128 characters",
        "/register alice two words": "! Invalid password: it may not contain spaces",
    }
    for text, words in cases.items():
        out = client.do(text)
        assert shown(out)[0].startswith(words), text
        assert sent(out) == [], text


def test_register_when_logged_in() -> None:
    out = logged_in(ours()).do("/register bob secretpw1")
    assert shown(out) == ["! You are already logged in as alice; use /logout first"]
    assert sent(out) == []


def test_register_without_custom_account_names_takes_the_nick_first() -> None:
    client = ours(caps="draft/account-registration=before-connect sasl")
    assert sent(client.do("/register alice secretpw1")) == [
        "NICK alice",
        "REGISTER * * secretpw1",
    ]


def test_register_through_nickserv_on_a_plain_server() -> None:
    client = plain()
    out = client.do("/register alice secretpw1")
    assert sent(out) == ["NICK alice", "PRIVMSG NickServ :REGISTER secretpw1"]
    assert client.feed(":guest1!~g@h NICK alice") == []
    out = client.feed(":old.example 900 alice alice!~g@h alice :You are now logged in as alice")
    assert shown(out) == ["* Created user alice; you are logged in as alice"]
    out = client.feed(":NickServ!NickServ@services NOTICE alice :Account alice registered; "
                      "you are now logged in.")  # fmt: skip
    assert shown(out) == []


def test_register_through_nickserv_refused() -> None:
    client = plain()
    client.do("/register alice secretpw1")
    out = client.feed(":NickServ!NickServ@services NOTICE alice :The account alice is "
                      "already registered.")  # fmt: skip
    assert shown(out) == ["! Creating the user failed: The account alice is already registered."]
    assert not client.session.waiting(0)


# --- 3. log in ---------------------------------------------------------------------------


def test_login_with_sasl() -> None:
    client = ours()
    assert sent(client.do("/login alice secretpw1")) == ["AUTHENTICATE PLAIN"]
    out = client.feed("AUTHENTICATE +")
    payload = base64.b64encode(b"\0alice\0secretpw1").decode()
    assert sent(out) == [f"AUTHENTICATE {payload}"]
    out = client.feed(":irc.test 900 guest1 guest1!~g@h alice :You are now logged in as alice")
    assert shown(out) == ["* Logged in as alice"] and sent(out) == ["NICK alice"]
    assert client.feed(":irc.test 903 guest1 :SASL authentication successful") == []
    assert client.session.prompt() == "guest1> ".replace("guest1", "alice")
    assert not client.session.waiting(0)


def test_login_wrong_password_with_sasl() -> None:
    client = ours()
    client.do("/login alice wrongpass")
    client.feed("AUTHENTICATE +")
    out = client.feed(":irc.test 904 guest1 :SASL authentication failed")
    assert shown(out) == ["! Login failed: wrong user name or password"]
    assert client.session.account is None and not client.session.waiting(0)


def test_login_through_nickserv_on_a_plain_server() -> None:
    client = plain()
    assert sent(client.do("/login alice secretpw1")) == [
        "PRIVMSG NickServ :IDENTIFY alice secretpw1"
    ]
    out = client.feed(":old.example 900 guest1 guest1!~g@h alice :You are now logged in as alice")
    assert shown(out) == ["* Logged in as alice"]
    nickserv = ":NickServ!NickServ@services NOTICE guest1 :You are now logged in as alice."
    assert client.feed(nickserv) == []


def test_login_refused_by_nickserv() -> None:
    client = plain()
    client.do("/login alice wrongpass")
    out = client.feed(":NickServ!NickServ@services NOTICE guest1 :Invalid account or password.")
    assert shown(out) == ["! Login failed: wrong user name or password"]
    client.do("/login nobody secretpw1")
    out = client.feed(":NickServ!NickServ@services NOTICE guest1 :nobody is not registered.")
    assert shown(out) == ["! Login failed: nobody is not registered."]


def test_login_falls_back_to_nickserv_when_sasl_is_refused_after_connecting() -> None:
    client = ours()
    client.do("/login alice secretpw1")
    out = client.feed(":irc.test 462 guest1 :You may not reregister")
    assert sent(out) == ["PRIVMSG NickServ :IDENTIFY alice secretpw1"]
    assert shown(out) == []


def test_login_without_nickserv() -> None:
    client = plain()
    client.do("/login alice secretpw1")
    out = client.feed(":old.example 401 guest1 NickServ :No such nick/channel")
    assert shown(out) == ["! This server has no NickServ: it has no user accounts"]
    assert not client.session.waiting(0)


def test_login_errors_the_client_can_tell() -> None:
    client = ours()
    for text, words in {
        "/login": "! Usage: /login user pass",
        "/login alice": "! Usage: /login user pass",
        "/login -alice pw": "! Invalid user name '-alice'",
        "/login alice pass word": "! Invalid password: it may not contain spaces",
    }.items():
        out = client.do(text)
        assert shown(out)[0].startswith(words), text
        assert sent(out) == []
    out = logged_in(client).do("/login alice secretpw1")
    assert shown(out) == ["! You are already logged in as alice; use /logout first"]
    assert sent(out) == []


def test_login_keeps_the_guest_nick_when_the_user_name_is_taken() -> None:
    client = ours()
    client.do("/login alice secretpw1")
    client.feed("AUTHENTICATE +")
    client.feed(":irc.test 900 guest1 guest1!~g@h alice :You are now logged in as alice")
    out = client.feed(":irc.test 433 guest1 alice :Nickname is already in use")
    assert shown(out) == ["* The nick alice is in use; others see you as guest1"]
    assert client.session.prompt() == "alice> "


# --- 4. log out --------------------------------------------------------------------------


def test_logout() -> None:
    client = logged_in(ours())
    out = client.do("/logout")
    assert sent(out) == ["NICK guest1", "PRIVMSG NickServ :LOGOUT"]
    client.feed(":alice!~g@h NICK guest1")
    out = client.feed(":irc.test 901 guest1 guest1!~g@h :You are now logged out")
    assert shown(out) == ["* Logged out"]
    assert client.feed(":NickServ!NickServ@services NOTICE guest1 :You are now logged out.") == []
    assert client.session.account is None
    assert client.session.prompt() == "(guest)> "


def test_logout_when_not_logged_in() -> None:
    out = ours().do("/logout")
    assert shown(out) == ["! You are not logged in; use /login user pass (or /register user pass)"]
    assert sent(out) == []


# --- 5. create a room --------------------------------------------------------------------


def test_create_checks_the_room_list_then_joins() -> None:
    client = logged_in(ours())
    assert sent(client.do("/create #lobby")) == ["LIST #lobby"]
    client.feed(":irc.test 321 alice Channel :Users  Name")
    out = client.feed(":irc.test 323 alice :End of /LIST")
    assert sent(out) == ["JOIN #lobby"]
    out = client.feed(
        ":alice!~g@h JOIN #lobby",
        ":irc.test 353 alice = #lobby :@alice",
        ":irc.test 366 alice #lobby :End of /NAMES list",
    )
    assert shown(out) == ["* Created #lobby; you are in it now"]
    assert sent(out) == []  # a new room has no history to fetch
    assert client.session.prompt() == "alice #lobby> "
    assert not client.session.waiting(0)


def test_create_a_room_that_exists() -> None:
    client = ours()
    client.do("/create #lobby")
    out = client.feed(":irc.test 322 guest1 #lobby 3 :chat", ":irc.test 323 guest1 :End of /LIST")
    assert shown(out) == ["! Room #lobby already exists; use /join #lobby"]
    assert sent(out) == []
    out = in_rooms(client, "#lobby").do("/create #LOBBY")
    assert shown(out) == ["! Room #LOBBY already exists (you are in it)"] and sent(out) == []


def test_create_errors_the_client_can_tell() -> None:
    client = ours()
    for text, words in {
        "/create": "! Usage: /create #room",
        "/create #a #b": "! Usage: /create #room",
        "/create lobby": "! Invalid room name 'lobby'",
        "/create #a:b": "! Invalid room name '#a:b'",
        "/create #" + "x" * 50: "! Invalid room name",
    }.items():
        out = client.do(text)
        assert shown(out)[0].startswith(words), text
        assert sent(out) == []


# --- 6. list rooms -----------------------------------------------------------------------


def test_rooms() -> None:
    client = in_rooms(ours(), "#lobby")
    assert sent(client.do("/rooms")) == ["LIST"]
    out = client.feed(
        ":irc.test 321 guest1 Channel :Users  Name",
        ":irc.test 322 guest1 #lobby 2 :",
        ":irc.test 322 guest1 #games 1 :board games",
        ":irc.test 323 guest1 :End of /LIST",
    )
    assert shown(out) == [
        "* 2 room(s):",
        "*   #games  1 member - board games",
        "*   #lobby  2 members (you are in it)",
    ]
    assert "#games" in client.session.completions()


def test_rooms_when_the_server_is_busy() -> None:
    client = ours()
    client.do("/rooms")
    out = client.feed(":irc.test 263 guest1 LIST :Server load is temporarily too heavy")
    assert shown(out) == ["! The server is busy; try again in a moment"]
    assert not client.session.waiting(0)


def test_rooms_when_there_are_none() -> None:
    client = ours()
    client.do("/list")
    out = client.feed(":irc.test 323 guest1 :End of /LIST")
    assert shown(out) == ["* No rooms yet; create one with /create #room"]


# --- 7. join rooms -----------------------------------------------------------------------


def test_join_checks_the_rooms_exist_then_joins() -> None:
    client = ours()
    assert sent(client.do("/join #lobby")) == ["LIST #lobby"]
    out = client.feed(":irc.test 322 guest1 #lobby 1 :", ":irc.test 323 guest1 :End of /LIST")
    assert sent(out) == ["JOIN #lobby"]
    out = client.feed(
        ":guest1!~g@h JOIN #lobby",
        ":irc.test 332 guest1 #lobby :Welcome all",
        ":irc.test 333 guest1 #lobby bob!~b@h :1800000000",
        ":irc.test 353 guest1 = #lobby :@bob guest1",
        ":irc.test 366 guest1 #lobby :End of /NAMES list",
    )
    assert shown(out) == [
        "* You joined #lobby (2 members: @bob guest1)",
        "* Topic of #lobby: Welcome all",
    ]
    # With draft/chathistory the server replays nothing on JOIN: ask for the latest.
    assert sent(out) == ["CHATHISTORY LATEST #lobby * 10"]
    out = client.feed(
        ":irc.test BATCH +b1 chathistory #lobby",
        "@time=2027-01-15T07:59:00.000Z;batch=b1 :bob!~b@h PRIVMSG #lobby :earlier",
        ":irc.test BATCH -b1",
    )
    assert shown(out) == [
        "* Recent messages in #lobby:",
        "[2027-01-15 07:59] #lobby <bob> earlier",
        "* End of recent messages in #lobby (1 message)",
    ]
    assert client.session.prompt() == "(guest) #lobby> "
    assert not client.session.waiting(0)


def test_join_several_rooms_some_missing() -> None:
    client = ours()
    assert sent(client.do("/join #a,#b #c")) == ["LIST #a,#b,#c"]
    out = client.feed(
        ":irc.test 322 guest1 #a 1 :", ":irc.test 322 guest1 #c 1 :", ":irc.test 323 guest1 :End"
    )
    assert shown(out) == ["! No room named #b; create it with /create #b"]
    assert sent(out) == ["JOIN #a,#c"]


def test_join_a_room_that_does_not_exist() -> None:
    client = ours()
    client.do("/join #nope")
    out = client.feed(":irc.test 323 guest1 :End of /LIST")
    assert shown(out) == ["! No room named #nope; create it with /create #nope"]
    assert sent(out) == [] and not client.session.waiting(0)


def test_join_errors_the_client_can_tell() -> None:
    client = in_rooms(ours(), "#lobby")
    for text, words in {
        "/join": "! Usage: /join #room[,#room...]",
        "/join lobby": "! Invalid room name 'lobby'",
        "/join #lobby": "! You are already in #lobby",
        "/join #new,#Lobby": "! You are already in #lobby",
    }.items():
        out = client.do(text)
        assert shown(out)[0].startswith(words), text
        assert sent(out) == []


@pytest.mark.parametrize(
    ("refusal", "words"),
    [
        ("474 guest1 #club :Cannot join channel (+b)", "! You are banned from #club"),
        ("473 guest1 #club :Cannot join channel (+i)", "! #club is invite-only"),
        ("475 guest1 #club :Cannot join channel (+k)", "! #club needs a key (a room password)"),
        ("471 guest1 #club :Cannot join channel (+l)", "! #club is full"),
        ("405 guest1 #club :You have joined too many channels",
         "! You are in too many rooms already; leave one first"),
        ("FAIL JOIN ACCOUNT_REQUIRED #club :You must log in first (see /msg NickServ HELP)",
         "! You must log in first"),
    ],
)  # fmt: skip
def test_join_refusals_in_plain_words(refusal: str, words: str) -> None:
    client = ours()
    client.do("/join #club")
    client.feed(":irc.test 322 guest1 #club 3 :", ":irc.test 323 guest1 :End of /LIST")
    assert shown(client.feed(f":irc.test {refusal}")) == [words]
    assert not client.session.waiting(0)
    assert client.session.rooms == []


# --- 8. leave a room ---------------------------------------------------------------------


def test_leave() -> None:
    client = in_rooms(ours(), "#a", "#b")
    assert client.session.current_room == "#b"
    assert sent(client.do("/leave")) == ["PART #b"]
    out = client.feed(":guest1!~g@h PART :#b")
    assert shown(out) == ["* You left #b", "* Now talking in #a"]
    assert sent(client.do("/part #a")) == ["PART #a"]
    assert shown(client.feed(":guest1!~g@h PART #a :bye")) == ["* You left #a"]
    assert client.session.prompt() == "(guest)> "


def test_leave_errors() -> None:
    client = ours()
    out = client.do("/leave")
    assert shown(out) == ["! You are not in any room; name one, or /join one first"]
    assert shown(client.do("/leave #lobby")) == ["! You are not in #lobby"]
    assert shown(client.do("/leave lobby"))[0].startswith("! Invalid room name")
    assert sent(client.do("/leave #lobby")) == []
    client = in_rooms(ours(), "#a")
    client.do("/leave #a")
    out = client.feed(":irc.test 442 guest1 #a :You're not on that channel")
    assert shown(out) == ["! You are not in #a"] and not client.session.waiting(0)


# --- 9. switch room ----------------------------------------------------------------------


def test_switch() -> None:
    client = in_rooms(ours(), "#a", "#b")
    out = client.do("/switch #A")
    assert shown(out) == ["* Now talking in #a"] and sent(out) == []
    assert client.session.prompt() == "(guest) #a> "


def test_switch_errors() -> None:
    client = in_rooms(ours(), "#a")
    assert shown(client.do("/switch #b")) == ["! You are not in #b; /join it first"]
    assert shown(client.do("/switch")) == ["! Usage: /switch #room"]
    assert shown(client.do("/switch b"))[0].startswith("! Invalid room name")


# --- 10. send a message to rooms ---------------------------------------------------------


def test_text_goes_to_the_current_room_and_echo_message_shows_it() -> None:
    client = in_rooms(ours(), "#lobby")
    out = client.do("hello everyone")
    assert sent(out) == ["PRIVMSG #lobby :hello everyone"] and shown(out) == []
    echo = "@time=2027-01-15T08:00:05.000Z;msgid=x :guest1!~g@h PRIVMSG #lobby :hello everyone"
    assert shown(client.feed(echo)) == ["[08:00] #lobby <guest1> hello everyone"]
    assert sent(client.do("//help is a word")) == ["PRIVMSG #lobby :/help is a word"]
    assert client.do("   ") == []


def test_text_without_echo_message_is_shown_at_once() -> None:
    client = in_rooms(plain(), "#lobby")
    out = client.do("hello")
    assert sent(out) == ["PRIVMSG #lobby :hello"]
    assert shown(out) == ["[08:00] #lobby <guest1> hello"]


def test_long_text_is_split_to_fit_a_line() -> None:
    client = in_rooms(ours(), "#lobby")
    lines = sent(client.do(" ".join(["word"] * 200)))
    assert len(lines) == 3
    relayed = [f":guest1!{'u' * 10}@{'h' * 63} {line}\r\n" for line in lines]
    assert all(len(line.encode()) <= 512 for line in relayed)
    assert " ".join(line.split(" :", 1)[1] for line in lines) == " ".join(["word"] * 200)


def test_text_without_a_room() -> None:
    out = ours().do("hello")
    assert shown(out) == [
        "! You are not in a room; /create or /join one first (or /msg user text)"
    ]
    assert sent(out) == []


def test_send_to_several_rooms() -> None:
    client = in_rooms(ours(), "#a", "#b")
    assert sent(client.do("/send #a,#b hi both")) == ["PRIVMSG #a,#b :hi both"]
    client = in_rooms(plain(), "#a", "#b")  # no TARGMAX: one room a line
    out = client.do("/send #a,#b hi both")
    assert sent(out) == ["PRIVMSG #a :hi both", "PRIVMSG #b :hi both"]
    assert shown(out) == ["[08:00] #a <guest1> hi both", "[08:00] #b <guest1> hi both"]


def test_send_errors() -> None:
    client = in_rooms(ours(), "#a")
    for text, words in {
        "/send": "! Usage: /send #a,#b text",
        "/send #a": "! The message is empty",
        "/send #a    ": "! The message is empty",
        "/send #a,#b hi": "! You are not in #b; /join it first",
        "/send a hi": "! Invalid room name 'a'",
    }.items():
        out = client.do(text)
        assert shown(out)[0].startswith(words), text
        assert sent(out) == []
    out = client.feed(":irc.test 404 guest1 #a :Cannot send to channel")
    assert shown(out) == [
        "! You cannot send to #a (you are not in it, are banned, or it is moderated)"
    ]


# --- 11. room history --------------------------------------------------------------------


def test_history_with_chathistory() -> None:
    client = in_rooms(ours(), "#lobby")
    assert sent(client.do("/history 5")) == ["CHATHISTORY LATEST #lobby * 5"]
    out = client.feed(
        ":irc.test BATCH +r1 chathistory #lobby",
        "@time=2027-01-14T21:00:00.000Z;batch=r1 :bob!~b@h PRIVMSG #lobby :good night",
        "@time=2027-01-15T07:30:00.000Z;batch=r1 :guest1!~g@h PRIVMSG #lobby :\x01ACTION waves\x01",
        ":irc.test BATCH -r1",
    )
    assert shown(out) == [
        "* History of #lobby:",
        "[2027-01-14 21:00] #lobby <bob> good night",
        "[2027-01-15 07:30] #lobby * guest1 waves",
        "* End of history of #lobby (2 messages)",
    ]
    assert not client.session.waiting(0)


def test_history_of_another_room_and_empty_history() -> None:
    client = ours()
    assert sent(client.do("/history #news")) == ["CHATHISTORY LATEST #news * 20"]
    out = client.feed(":irc.test BATCH +r2 chathistory #news", ":irc.test BATCH -r2")
    assert shown(out) == ["* No messages in #news yet"]


def test_history_between_notice_markers() -> None:
    client = in_rooms(plain(), "#lobby")
    assert sent(client.do("/history")) == ["HISTORY #lobby 20"]
    out = client.feed(
        ":irc.test NOTICE #lobby :*** history: 1 message(s) follow",
        ":bob!~b@h PRIVMSG #lobby :[2027-01-15 07:00:00] old words",
        ":irc.test NOTICE #lobby :*** end of history",
    )
    assert shown(out) == [
        "* History of #lobby:",
        "[2027-01-15 07:00] #lobby <bob> old words",
        "* End of history of #lobby (1 message)",
    ]


def test_history_on_a_server_without_it() -> None:
    client = in_rooms(plain(), "#lobby")
    client.do("/history")
    out = client.feed(":old.example 421 guest1 HISTORY :Unknown command")
    assert shown(out) == ["! This server keeps no room history"]
    assert not client.session.waiting(0)


def test_history_refusals_and_errors() -> None:
    client = ours()
    assert shown(client.do("/history")) == [
        "! You are not in any room; name one, or /join one first"
    ]
    assert shown(client.do("/history #a 0")) == ["! Invalid count '0': use a number from 1 to 100"]
    assert shown(client.do("/history #a 101"))[0].startswith("! Invalid count")
    assert shown(client.do("/history #a #b")) == ["! Usage: /history [#room] [n]"]
    client.do("/history #secret")
    out = client.feed(
        ":irc.test FAIL CHATHISTORY INVALID_TARGET LATEST #secret :Messages could not be retrieved"
    )
    assert shown(out) == ["! The history of #secret could not be retrieved"]
    assert not client.session.waiting(0)


# --- 12. room members --------------------------------------------------------------------


def test_members() -> None:
    client = in_rooms(ours(), "#lobby")
    assert sent(client.do("/members")) == ["NAMES #lobby"]
    out = client.feed(
        ":irc.test 353 guest1 = #lobby :@guest1 bob",
        ":irc.test 353 guest1 = #lobby :+carol",
        ":irc.test 366 guest1 #lobby :End of /NAMES list",
    )
    assert shown(out) == ["* 3 members in #lobby: @guest1 bob +carol"]
    client.do("/names #empty")
    out = client.feed(":irc.test 366 guest1 #empty :End of /NAMES list")
    assert shown(out) == ["* Nobody is in #empty (or there is no such room)"]


def test_members_without_a_room() -> None:
    out = ours().do("/members")
    assert shown(out) == ["! You are not in any room; name one, or /join one first"]


# --- 13. personal messages ---------------------------------------------------------------


def test_msg() -> None:
    client = ours()
    out = client.do("/msg bob hi there")
    assert sent(out) == ["PRIVMSG bob :hi there"] and shown(out) == []
    echo = "@time=2027-01-15T08:00:00.000Z :guest1!~g@h PRIVMSG bob :hi there"
    assert shown(client.feed(echo)) == ["[08:00] [PM to bob] hi there"]
    incoming = "@time=2027-01-15T08:01:00.000Z :bob!~b@h PRIVMSG guest1 :hello you"
    assert shown(client.feed(incoming)) == ["[08:01] [PM from bob] hello you"]


def test_msg_to_someone_offline_and_to_nobody() -> None:
    client = plain()
    out = client.do("/msg carol see you")
    assert shown(out) == ["[08:00] [PM to carol] see you"]
    out = client.feed(
        ":irc.test NOTICE guest1 :carol is offline; your message will be delivered when they log in"
    )
    assert shown(out) == ["* carol is offline; your message will be delivered when they log in"]
    client.do("/msg nobody hello")
    out = client.feed(":irc.test 401 guest1 nobody :No such nick/channel")
    assert shown(out) == ["! No user named nobody; the message was not delivered"]


def test_msg_errors() -> None:
    client = ours()
    for text, words in {
        "/msg": "! Usage: /msg user text",
        "/msg bob": "! The message is empty",
        "/msg bob   ": "! The message is empty",
        "/msg #lobby hi": "! #lobby is a room; use /send #lobby text",
        "/msg b@d hi": "! Invalid user name 'b@d'",
    }.items():
        out = client.do(text)
        assert shown(out)[0].startswith(words), text
        assert sent(out) == []


# --- 14. inbox ---------------------------------------------------------------------------


def test_inbox() -> None:
    client = logged_in(ours())
    assert sent(client.do("/inbox")) == ["INBOX"]
    out = client.feed(
        ":irc.test BATCH +i1 chathistory alice",
        "@time=2027-01-15T06:00:00.000Z;batch=i1 :bob!~b@h PRIVMSG alice :are you there?",
        ":irc.test BATCH -i1",
    )
    assert shown(out) == [
        "* Your inbox:",
        "[2027-01-15 06:00] [PM from bob] are you there?",
        "* End of your inbox (1 message)",
    ]
    assert sent(client.do("/inbox 5")) == ["INBOX 5"]
    out = client.feed(":irc.test BATCH +i2 chathistory alice", ":irc.test BATCH -i2")
    assert shown(out) == ["* Your inbox is empty"]


def test_inbox_between_notice_markers() -> None:
    client = logged_in(plain())
    client.do("/inbox")
    out = client.feed(
        ":irc.test NOTICE alice :*** inbox: 1 message(s) follow",
        ":bob!~b@h PRIVMSG alice :[2027-01-15 06:00:00] are you there?",
        ":irc.test NOTICE alice :*** end of inbox",
    )
    assert shown(out)[1] == "[2027-01-15 06:00] [PM from bob] are you there?"


def test_inbox_errors() -> None:
    client = ours()
    assert shown(client.do("/inbox")) == [
        "! You are not logged in; use /login user pass (or /register user pass)"
    ]
    client = logged_in(client)
    assert shown(client.do("/inbox x")) == ["! Invalid count 'x': use a number from 1 to 100"]
    assert shown(client.do("/inbox 1 2")) == ["! Usage: /inbox [n]"]
    client = logged_in(plain())
    client.do("/inbox")
    out = client.feed(":old.example 421 alice INBOX :Unknown command")
    assert shown(out) == [
        "! This server has no inbox; personal messages only reach you while you are online"
    ]


def test_unread_messages_at_login() -> None:
    client = ours()
    client.do("/login alice secretpw1")
    client.feed("AUTHENTICATE +")
    out = client.feed(
        ":irc.test 900 guest1 guest1!~g@h alice :You are now logged in as alice",
        ":irc.test NOTICE guest1 :You have 1 unread message(s)",
        ":irc.test BATCH +u chathistory guest1",
        "@time=2027-01-15T06:00:00.000Z;batch=u :bob!~b@h PRIVMSG alice :are you there?",
        ":irc.test BATCH -u",
    )
    assert shown(out) == [
        "* Logged in as alice",
        "* You have 1 unread message(s)",
        "* Your unread messages:",
        "[2027-01-15 06:00] [PM from bob] are you there?",
        "* End of your unread messages (1 message)",
    ]


# --- 15. exit, help, the rest ------------------------------------------------------------


def test_exit() -> None:
    out = Client().do("/exit")
    assert Quit() in out and sent(out) == []
    out = in_rooms(ours(), "#a").do("/quit")
    assert sent(out) == ["QUIT :Leaving"]
    assert out.index(Close()) < out.index(Quit())


def test_help_lists_every_operation() -> None:
    text = "\n".join(shown(Client().do("/help")))
    for usage in ["/connect host[:port] [--tls]", "/disconnect", "/register user pass",
                  "/login user pass", "/logout", "/create #room", "/rooms",
                  "/join #room[,#room...]", "/leave [#room]", "/switch #room", "text",
                  "/send #a,#b text", "/history [#room] [n]", "/members", "/msg user text",
                  "/inbox [n]", "/exit", "/help"]:  # fmt: skip
        assert usage in text, usage
    assert all(command.usage in text for command in COMMANDS.values())


def test_unknown_command() -> None:
    assert shown(ours().do("/frobnicate now")) == [
        "! Unknown command /frobnicate; /help lists the commands"
    ]
    assert shown(ours().do("/say hi")) == ["! Unknown command /say; /help lists the commands"]


def test_raw() -> None:
    client = ours()
    assert sent(client.do("/raw WHOIS bob")) == ["WHOIS bob"]
    out = client.feed(":irc.test 311 guest1 bob ~bob 127.0.0.1 * :Bob")
    assert shown(out) == ["* bob ~bob 127.0.0.1 * Bob"]


def test_prompt_shows_the_user_and_the_room() -> None:
    client = Client()
    assert client.session.prompt() == "(not connected)> "
    client = ours()
    assert client.session.prompt() == "(guest)> "
    in_rooms(logged_in(client), "#lobby")
    assert client.session.prompt() == "alice #lobby> "
