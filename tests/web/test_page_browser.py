"""The chat page in a real headless Chromium against a real server.

A person on the page and people on raw TCP connections (LineClient) do the course spec's
operations with each other, and what each side sees is checked: accounts, rooms, messages
to one and to several rooms, history and scrolling back, members, personal messages, the
inbox with unread counts, read markers across devices, reconnecting, errors in plain
words, and the page's safety (text is never HTML) and layout (desktop and phone).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

from browser import RECORD_SENT, REPO, Page

from liveserver import LineClient, LiveServer

if TYPE_CHECKING:
    from selenium.webdriver import Chrome

XSS = "<b>x</b><img src=x onerror=alert(1)>"
LINK = "https://example.org/paper?x=1&y=2"


def tcp_user(server: LiveServer, nick: str, password: str | None = None) -> LineClient:
    """A TCP user; with a password, also an account of that name (REGISTER)."""
    client = server.client(nick)
    if password is not None:
        client.send(f"REGISTER {nick} * {password}")
        client.expect("REGISTER SUCCESS")
    return client


def sync(client: LineClient) -> None:
    """Wait until the server has handled everything the client sent so far."""
    client.send("PING sync")
    client.expect("PONG .*sync")


def test_account_rooms_and_messages(page: Page, server: LiveServer) -> None:
    bob = tcp_user(server, "bob", "bobsecret1")
    bob.send("JOIN #news")
    bob.expect(" 366 ")
    bob.send("TOPIC #news :Daily news")
    bob.send(f"PRIVMSG #news :The paper is out: {LINK}.")
    bob.send(f"PRIVMSG #news :{XSS}")
    sync(bob)

    # Connect, then create an account: a name that is taken first, then a free one.
    page.connect()
    assert page.find("#status-text").text.endswith("(guest)")
    page.account_dialog("register", "bob", "secretpw1")
    page.text_of("#register-error", r"^The user name bob is already taken\. Pick another one\.$")
    page.account_dialog("register", "alice", "secretpw1")
    page.logged_in("alice")
    assert any(re.fullmatch(r"(@label=\S+ )?REGISTER alice \* secretpw1", s) for s in page.sent())

    # Create a room; creating one that exists is refused in words.
    page.create_room("#lobby")
    page.text_of("#conv-title", "^#lobby$")
    page.text_of("#message-list", r"You created #lobby")
    page.create_room("news")  # the # is added
    page.text_of("#create-room-error", r"^There is already a room called #news\.")
    page.click("#create-room-dialog .cancel")
    bob.send("JOIN #lobby")
    bob.expect(" 366 ")

    # List the rooms, refuse a bad name without asking the server, join from the list.
    page.click("#browse-button")
    page.text_of("#directory-list", r"#lobby[\s\S]*#news|#news[\s\S]*#lobby")
    page.text_of("#directory-list", r"#news\s+1 member\s+Daily news")
    page.fill("#join-name", "#a:b")
    page.click("#join-form button[type=submit]")
    page.text_of("#join-error", r"^#a:b cannot be a room name")
    page.click('#directory-list button[aria-label="Join #news"]')
    bob.expect(r"^:alice!\S+ JOIN #news")
    page.text_of("#conv-title", "^#news$")
    page.text_of("#conv-topic", "^Daily news$")

    # The earlier messages are shown on joining: the link clickable, the markup as text.
    page.wait_message(f"The paper is out: {LINK}.")
    link = page.find("#message-list a")
    assert link.get_attribute("href") == LINK
    assert link.text == LINK  # the full stop after it is not part of the link
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    page.wait_message(XSS)
    assert page.find_all("#message-list b, #message-list img") == []
    assert page.js("return document.querySelector('img[src=x]')") is None

    # Members: bob runs the room.
    page.text_of("#member-list", r"(?i)moderators\s+B\s+bob\s+everyone else\s+A\s+alice\s+you")
    page.text_of("#member-count", "^2$")

    # Talk in the room; bob answers.
    page.send("Congratulations!")
    bob.expect(r"^(@\S+ )?:alice!\S+ PRIVMSG #news :Congratulations!$")
    page.wait(lambda d: not page.find_all("#message-list .pending"), "the server's echo")
    assert page.message_texts().count("Congratulations!") == 1  # the echo replaced the copy
    bob.send("PRIVMSG #news :Thanks, alice.")
    page.wait_message("Thanks, alice.")

    # A message in another room: an unread badge; switching (click, Alt+arrows) reads it.
    bob.send("PRIVMSG #lobby :Anyone in the lobby?")
    page.wait_badge("#lobby", "1")
    page.alt_arrow("up")
    page.text_of("#conv-title", "^#lobby$")
    page.wait_message("Anyone in the lobby?")
    page.wait_badge("#lobby", "")
    page.alt_arrow("down")
    page.text_of("#conv-title", "^#news$")
    page.open("#lobby")

    # One message to two rooms at once: one PRIVMSG line with both targets.
    page.click("#multi-send-button")
    assert page.find('#multi-rooms input[value="#lobby"]').is_selected()
    page.find('#multi-rooms input[value="#news"]').click()
    page.fill("#multi-text", "Same news everywhere")
    page.click("#multi-submit")
    page.hidden("#multi-dialog")
    page.wait_sent(r"^@label=\S+ PRIVMSG #lobby,#news :Same news everywhere$")
    echo = r"PRIVMSG #(lobby|news) :Same news everywhere$"
    got = {bob.expect(echo).split()[-4] for _ in range(2)}
    assert got == {"#lobby", "#news"}
    page.wait_message("Same news everywhere")
    page.open("#news")
    page.wait_message("Same news everywhere")

    # Leave a room: it goes from the list, bob sees it.
    page.open("#lobby")
    page.click("#leave-button")
    bob.expect(r"^:alice!\S+ PART :?#lobby")
    page.hidden(page.conversation("#lobby"))
    page.text_of("#conv-title", "^#news$")

    # Leaving a room one is not in: the server's refusal, in words, where it was typed.
    page.send("/leave #nowhere")
    page.text_of("#message-list .line-error", r"^There is no room called #nowhere\.")

    # Talking where only some may talk: the sentence is under the message that failed.
    bob.send("MODE #news +m")
    bob.expect(r"MODE #news \+m")
    page.send("Can anyone hear me?")
    failed = "#message-list .msg.failed .msg-error"
    page.text_of(failed, r"^Your message could not be sent to #news")

    # A room that does not exist, and one that bans us: refusals under the join form.
    page.click("#browse-button")
    page.fill("#join-name", "nowhere")
    page.click("#join-form button[type=submit]")
    page.text_of("#join-error", r"^There is no room called #nowhere\. You can make it with Create")
    bob.send("JOIN #club", "MODE #club +b alice!*@*")
    bob.expect(r"MODE #club \+b")
    page.fill("#join-name", "#club")
    page.click("#join-form button[type=submit]")
    page.text_of("#join-error", r"^You are banned from #club\.$")
    bob.close()


def test_personal_messages_inbox_and_logout(page: Page, server: LiveServer) -> None:
    bob = tcp_user(server, "bob", "bobsecret1")
    squatter = tcp_user(server, "visitor")
    page.connect("visitor")
    page.text_of("#toasts", r"Someone is already using the name visitor, so others see you as vis")
    squatter.close()
    page.account_dialog("register", "alice", "secretpw1")
    page.logged_in("alice")
    page.wait_sent(r"^NICK alice$")  # the page takes its account's name

    # A personal message to bob, from the New message dialog; his answer.
    page.click("#new-pm-button")
    page.fill("#pm-to", "bob")
    page.fill("#pm-text", "Hello bob")
    page.click("#pm-submit")
    bob.expect(r"^(@\S+ )?:alice!\S+ PRIVMSG bob :Hello bob$")
    page.hidden("#pm-dialog")
    page.text_of("#conv-title", "^bob$")
    page.wait_message("Hello bob")
    bob.send("PRIVMSG alice :Hi alice!")
    page.wait_message("Hi alice!")

    # To someone who does not exist: said in words, in the dialog.
    page.click("#new-pm-button")
    page.fill("#pm-to", "nobody")
    page.fill("#pm-text", "Are you there?")
    page.click("#pm-submit")
    page.text_of("#pm-error", r"^There is no one called nobody .*not delivered\.$")
    page.click("#pm-dialog .cancel")

    # Log out: the account's conversations leave the page.
    page.click("#logout-button")
    page.wait_sent(r"PRIVMSG NickServ :LOGOUT$")
    page.visible("#login-button")
    page.text_of("#status-text", r"\(guest\)$")
    page.hidden(page.conversation("@bob"))

    # Disconnect; bob writes meanwhile: it waits in alice's inbox.
    page.click("#disconnect-button")
    page.visible("#connect-submit")
    page.wait_sent(r"^QUIT :Leaving$")
    bob.send("PRIVMSG alice :Are you still there?")
    bob.expect(r"NOTICE bob :alice is offline; your message will be delivered when they log in")
    # A disconnect the person asked for is not undone by the reconnect logic.
    after = page.js("return [chatDebug.conn.phase, chatDebug.conn.retryTimer]")
    assert after == ["disconnected", None]

    # A wrong password is said in words under the form; the right one logs in.
    page.account_dialog("login", "alice", "wrong-password")
    page.text_of("#login-error", r"^Wrong user name or password\.")
    page.find("#login-password").clear()
    page.fill("#login-password", "secretpw1")
    page.find("#login-stay").click()  # stay logged in
    page.click("#login-submit")
    page.logged_in("alice")
    page.wait_sent(r"^AUTHENTICATE PLAIN$")

    # The message that waited: unread on bob's conversation and on the inbox.
    page.wait_badge("@bob", "1")
    page.wait_badge("inbox", "1")
    page.open("inbox")
    page.wait_message("Are you still there?")
    page.click("#message-list button.reply")
    page.text_of("#conv-title", "^bob$")
    page.wait_message("Are you still there?")
    page.wait_badge("@bob", "")
    page.wait_badge("inbox", "")

    # Staying logged in never puts the password in the page's storage.
    stored = page.js("return JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert "secretpw1" not in stored and "alice" in stored

    # Exit: the goodbye view; the server sees the page quit.
    bob.send("MONITOR + alice")
    bob.expect(" 730 ")
    page.click("#exit-button")
    page.visible("#goodbye-view")
    bob.expect(r" 731 bob :alice")
    bob.close()


def test_scrolling_back_loads_earlier_messages(page: Page, server: LiveServer) -> None:
    bob = tcp_user(server, "bob")
    bob.send("JOIN #history", *(f"PRIVMSG #history :message {n}" for n in range(1, 121)))
    sync(bob)
    page.connect()
    page.click("#browse-button")
    page.click('#directory-list button[aria-label="Join #history"]')
    page.wait_message("message 120")
    assert "message 70" not in page.message_texts()  # only the latest 50 at first
    page.text_of("#message-list .day", "^Today$")

    for oldest in ("message 21", "message 1"):
        page.js("document.querySelector('#messages').scrollTop = 0")
        page.wait_message(oldest)
        page.wait_sent(r"^@label=\S+ CHATHISTORY BEFORE #history msgid=\S+ 50$")
        # The view stays where it was: the messages come in above it.
        assert page.js("return document.querySelector('#messages').scrollTop") > 0
    page.text_of("#history-start", r"^This is the beginning of #history\.$")
    page.hidden("#older-button")
    texts = page.message_texts()
    assert texts == [f"message {n}" for n in range(1, 121)]
    bob.close()


def test_reconnecting_rejoins_and_catches_up(page: Page, server: LiveServer) -> None:
    page.connect("sam")
    page.create_room("#live")
    page.text_of("#conv-title", "^#live$")
    bob = tcp_user(server, "bob")
    bob.send("JOIN #live")
    bob.expect(" 366 ")
    bob.send("PRIVMSG #live :Before the drop")
    page.wait_message("Before the drop")

    # The socket drops (and the first attempts to come back fail): the page retries.
    # (an address the server refuses, as if it were down: its request head is too large
    # (431); the CSP would block any other host or port, as it should)
    page.js(
        "const c = chatDebug.conn; c.realUrl = c.url; c.url = arguments[0]; c.ws.close();",
        f"ws://127.0.0.1:{server.web_port}/socket?{'x' * 9000}",
    )
    bob.expect(r"^:sam!\S+ QUIT ")
    page.text_of("#banner-text", r"^Connection lost\.")
    bob.send("PRIVMSG #live :Said while you were away")
    sync(bob)
    page.wait(lambda d: page.js("return chatDebug.conn.attempt") >= 2, "a second attempt")
    assert page.find("#composer-input").get_attribute("disabled") is not None

    # The network is back: "Reconnect now" rejoins the room and fetches what was missed.
    page.js("const c = chatDebug.conn; c.url = c.realUrl;")
    page.click("#reconnect-button")
    bob.expect(r"^:sam!\S+ JOIN #live")
    page.wait_sent(r"CHATHISTORY LATEST #live timestamp=\S+ 100$")
    page.wait_message("Said while you were away")
    page.hidden("#banner")
    page.send("Back again")
    bob.expect(r"PRIVMSG #live :Back again$")

    # The server's keepalive PING (sent after 90 s of silence) is answered.
    page.js("chatDebug.conn.receive('PING :are-you-there')")
    page.wait_sent(r"^PONG are-you-there$")
    bob.close()


def test_read_markers_follow_the_account(page: Page, server: LiveServer) -> None:
    page.connect()
    page.account_dialog("register", "carol", "secretpw1")
    page.logged_in("carol")
    page.create_room("#marks")
    page.text_of("#conv-title", "^#marks$")
    bob = tcp_user(server, "bob")
    bob.send("JOIN #marks")
    bob.expect(" 366 ")
    page.click("#browse-button")  # away from the room
    bob.send("PRIVMSG #marks :one", "PRIVMSG #marks :two")
    page.wait_badge("#marks", "2")

    # carol on another device (a TCP client) reads the room: the badge goes here too.
    phone = LineClient(server.port)
    phone.send("CAP LS 302", "NICK carolphone", "USER c 0 * :c")
    phone.send("CAP REQ :sasl draft/read-marker server-time", "AUTHENTICATE PLAIN")
    phone.expect("^AUTHENTICATE")
    phone.send("AUTHENTICATE AGNhcm9sAHNlY3JldHB3MQ==", "CAP END")  # \0carol\0secretpw1
    phone.expect(" 376 ")
    now = time.strftime("%Y-%m-%dT%H:%M:%S.999Z", time.gmtime(time.time() + 1))
    phone.send(f"MARKREAD #marks timestamp={now}")
    page.wait_badge("#marks", "")

    # And what is read on the page moves the marker of the other device.
    bob.send("PRIVMSG #marks :three")
    page.wait_badge("#marks", "1")
    page.open("#marks")
    page.wait_message("three")
    phone.expect(r"^:irc\.test MARKREAD #marks timestamp=20\d\d-")
    page.wait_badge("#marks", "")
    phone.close()
    bob.close()


def test_phone_layout(page: Page, server: LiveServer) -> None:
    page.connect("pat")
    page.create_room("#pocket")  # on a wide screen the members show beside the messages
    page.visible("#members")
    page.viewport(390, 844, mobile=True)  # the window made narrow: they must not cover them
    page.hidden("#members")
    page.click("#menu-button")  # the room list is tucked away behind the Rooms button
    page.click("#create-room-button")
    page.fill("#create-room-name", "#pouch")
    page.click("#create-room-submit")
    page.text_of("#conv-title", "^#pouch$")

    # The room list hides behind the Rooms button; the message box is on screen.
    assert not page.find("#sidebar").is_displayed()
    page.visible("#menu-button")
    box = page.find("#composer-input").rect
    assert box["width"] > 250 and box["y"] + box["height"] <= 844
    assert page.js("return document.documentElement.scrollWidth") <= 390
    page.send("Typed on a phone")
    page.wait_message("Typed on a phone")

    page.click("#menu-button")
    page.visible("#sidebar")
    assert page.find("#menu-button").get_attribute("aria-expanded") == "true"
    page.click(page.conversation("#pocket"))
    page.hidden("#sidebar")
    page.text_of("#conv-title", "^#pocket$")

    page.click("#members-button")
    page.text_of("#member-list", r"pat")
    page.click("#members-close")
    page.hidden("#members")
    page.screenshot(server.tmp_path / "phone.png")


def test_screenshot_of_a_busy_page(page: Page, server: LiveServer) -> None:
    """docs/web-page.png: the page as someone in two lively rooms sees it, at 1280x800."""
    bob = tcp_user(server, "bob", "bobsecret1")
    dana = tcp_user(server, "dana", "danasecret1")
    eve = tcp_user(server, "eve")
    for client in (bob, dana):
        client.send("JOIN #general,#design")
        client.expect(r" 366 \S+ #design")
    bob.send("TOPIC #design :Mock-ups and reviews; the board: https://example.org/board")
    bob.send("TOPIC #general :Everything else. Demo today at 3 pm in the big room")
    eve.send("JOIN #general")
    eve.expect(" 366 ")
    talk = [
        (dana, "#design", "New header mock-up is ready for review"),
        (bob, "#design", "Looks great. Can we try a darker accent?"),
        (dana, "#design", "Sure, I'll push a variant after lunch"),
        (bob, "#general", "Morning all! The release notes are up: https://example.org/notes"),
        (dana, "#general", "Nice, reading them now"),
        (dana, "#general", "The new search is so much faster"),
        (eve, "#general", "Is the demo still at 3?"),
        (bob, "#general", "Yes, same room as last week"),
        (eve, "#general", "Great, I'll bring the laptop with the test data"),
    ]
    for client, room, text in talk:  # one at a time, so the server stores them in this order
        client.send(f"PRIVMSG {room} :{text}")
        sync(client)
    page.connect()
    page.account_dialog("register", "alice", "secretpw1")
    page.logged_in("alice")
    for room in ("#design", "#general"):
        page.click("#browse-button")
        page.click(f'#directory-list button[aria-label="Join {room}"]')
        page.text_of("#conv-title", f"^{room}$")
    page.wait_message("Great, I'll bring the laptop with the test data")
    page.send("Thanks! I'll look at the notes before the demo")
    page.wait(lambda d: not page.find_all("#message-list .pending"), "the echo")
    dana.send("PRIVMSG #design :alice, does the dark header work for you?")
    bob.send("PRIVMSG alice :Lunch later?")
    page.wait_badge("#design", "1")
    page.wait_badge("@bob", "1")
    page.text_of("#member-list", r"(?i)moderators[\s\S]*eve")
    page.js("document.activeElement.blur(); document.querySelector('#toasts').replaceChildren()")
    assert page.message_texts().count("Thanks! I'll look at the notes before the demo") == 1
    page.screenshot(REPO / "docs" / "web-page.png")
    for client in (bob, dana, eve):
        client.close()


def saved_login(page: Page) -> dict[str, object] | None:
    saved: dict[str, object] | None = page.js(
        "return JSON.parse(localStorage.getItem('miniircd.stay') || 'null')"
    )
    return saved


def test_staying_logged_in_keeps_a_token_never_the_password(page: Page, server: LiveServer) -> None:
    bob = tcp_user(server, "bob")
    page.connect()
    page.account_dialog("register", "alice", "secretpw1", stay=True)
    page.logged_in("alice")
    page.wait_sent(r"^PRIVMSG NickServ :TOKEN$")
    page.wait(lambda d: (saved_login(page) or {}).get("token"), "a saved login token")
    saved = saved_login(page)
    assert saved is not None and saved["account"] == "alice"
    token = str(saved["token"])
    assert token.startswith("miniircd-token-")
    stored = page.js("return JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert "secretpw1" not in stored
    assert not any("login token" in text for text in page.message_texts())  # not shown

    # Another visit: the page connects and logs in with the token by itself (SASL).
    page.driver.get(page.url)
    page.logged_in("alice")
    page.js(RECORD_SENT)
    bob.send("WHOIS alice")
    bob.expect(r" 330 bob alice alice :is logged in as")

    # Log out: this device's token is revoked on the server, then forgotten.
    page.click("#logout-button")
    page.wait_sent(rf"^PRIVMSG NickServ :TOKEN REVOKE {re.escape(token)}$")
    page.wait(lambda d: saved_login(page) is None, "the saved login to be forgotten")
    page.wait(lambda d: page.js("return chatDebug.state.account") is None, "the logout")

    # A token the server no longer takes: the person is asked to log in again, in words.
    page.js(
        "localStorage.setItem('miniircd.stay', JSON.stringify(arguments[0]))",
        {"account": "alice", "token": token, "rooms": []},
    )
    page.driver.get(page.url)
    page.text_of("#login-error", r"^Your saved login has ended\. Log in again\.$")
    assert saved_login(page) is None
    bob.close()


def test_the_page_lives_within_the_default_flood_limits(chromium: Chrome, tmp_path: Path) -> None:
    """The other tests lift flood control for their TCP users; a person on the page meets
    the defaults (a burst of 20 lines, then 4 a second): logging in with several rooms and
    conversations to catch up on must not be cut off as a flood."""
    live = LiveServer(tmp_path)
    live.start()
    bob = tcp_user(live, "bob", "bobsecret1")
    page = Page(chromium, live.web_port)
    page.load()
    page.connect()
    page.account_dialog("register", "alice", "secretpw1", stay=True)
    page.logged_in("alice")
    rooms = [f"#room{n}" for n in range(6)]

    def wait_joined(what: str) -> None:
        for room in rooms:
            page.wait(lambda d, r=room: page.js(  # type: ignore[misc]
                "return chatDebug.state.buffers.get(arguments[0].toLowerCase())?.joined === true",
                r,
            ), f"{room} {what}")  # fmt: skip

    for room in rooms:
        page.create_room(room)
    wait_joined("joined")  # flood control may hold the last JOINs back a moment
    for n in range(6):
        bob.send(f"PRIVMSG alice :note {n}")
    page.wait_badge("@bob", "6")
    page.wait(lambda d: (saved_login(page) or {}).get("token"), "a saved login token")
    assert (saved_login(page) or {}).get("rooms") == rooms
    page.driver.get(page.url)  # a new visit: log in, rejoin six rooms, catch up
    page.logged_in("alice")
    wait_joined("rejoined")
    bob.send("JOIN #room5", "PRIVMSG #room5 :still here?")
    page.open("#room5")
    page.wait_message("still here?")
    assert page.js("return chatDebug.state.phase") == "ready"
    assert "Excess Flood" not in live.log_path.read_text()
    page.driver.get("about:blank")
    bob.close()
    live.stop()
