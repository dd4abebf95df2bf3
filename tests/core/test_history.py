"""Transcript tests for issue 5: replay on join, HISTORY, INBOX, offline delivery, tags."""

from __future__ import annotations

import base64
import re

from harness import CoreClient, CoreHarness

A = "alice!~alice@127.0.0.1"
B = "bob!~bob@127.0.0.1"
WELCOME_NUMERICS = {"001", "002", "003", "004", "005", "251", "252", "253", "254", "255",
                    "265", "266", "375", "372", "376"}  # fmt: skip


def account(core: CoreHarness, nick: str, password: str = "password1") -> CoreClient:
    client = core.register(nick)
    lines = client.send(f"REGISTER * * {password}")
    assert lines[-1] == f":irc.test REGISTER SUCCESS {nick} :Account successfully registered"
    return client


def talk(core: CoreHarness, client: CoreClient, *lines: str) -> None:
    for line in lines:
        core.clock.now += 1
        client.send(line)


def without_welcome(lines: list[str]) -> list[str]:
    return [line for line in lines if line.split()[1] not in WELCOME_NUMERICS]


def test_replay_on_join_plain_client(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("JOIN #room")
    talk(core, alice, "PRIVMSG #room :first", "NOTICE #room :second")
    bob = core.register("bob")
    assert bob.send("JOIN #room")[3:] == [
        ":irc.test NOTICE #room :*** recent history: 2 message(s) follow",
        f":{A} PRIVMSG #room :[2023-11-14 22:13:21] first",
        f":{A} NOTICE #room :[2023-11-14 22:13:22] second",
        ":irc.test NOTICE #room :*** end of recent history",
    ]


def test_replay_with_server_time_and_batch(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("JOIN #room")
    talk(core, alice, "PRIVMSG #room :first")
    timed = core.connect()
    timed.send("CAP REQ :server-time", "NICK t", "USER t 0 * :t", "CAP END")
    replay = timed.send("JOIN #room")[3:]
    assert replay[0] == ":irc.test NOTICE #room :*** recent history: 1 message(s) follow"
    assert replay[1] == f"@time=2023-11-14T22:13:21.000Z :{A} PRIVMSG #room :first"
    batched = core.connect()
    batched.send("CAP REQ :server-time batch message-tags", "NICK b", "USER b 0 * :b", "CAP END")
    assert batched.send("JOIN #room")[3:] == [
        ":irc.test BATCH +batch1 chathistory #room",
        # msg1 is alice's JOIN (kept for event-playback, not replayed on JOIN)
        f"@time=2023-11-14T22:13:21.000Z;msgid=msg2;batch=batch1 :{A} PRIVMSG #room :first",
        ":irc.test BATCH -batch1",
    ]


def test_ctcp_queries_to_a_room_are_delivered_but_not_replayed(core: CoreHarness) -> None:
    alice, carol = core.register("alice"), core.register("carol")
    alice.send("JOIN #room")
    carol.send("JOIN #room")
    carol.take()
    talk(core, alice, "PRIVMSG #room :\x01VERSION\x01", "PRIVMSG #room :\x01ACTION waves\x01")
    assert carol.take() == [
        f":{A} PRIVMSG #room :\x01VERSION\x01",
        f":{A} PRIVMSG #room :\x01ACTION waves\x01",
    ]
    bob = core.register("bob")
    assert bob.send("JOIN #room")[3:6] == [
        ":irc.test NOTICE #room :*** recent history: 1 message(s) follow",
        f":{A} PRIVMSG #room :\x01ACTION [2023-11-14 22:13:22] waves\x01",
        ":irc.test NOTICE #room :*** end of recent history",
    ]


def test_no_replay_for_chathistory_clients_or_empty_rooms(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert [line for line in alice.send("JOIN #empty") if "NOTICE" in line] == []
    talk(core, alice, "PRIVMSG #empty :hi")
    modern = core.connect()
    modern.send("CAP REQ :draft/chathistory", "NICK m", "USER m 0 * :m", "CAP END")
    lines = modern.send("JOIN #empty")
    assert lines[-1] == ":irc.test 366 m #empty :End of /NAMES list"


def test_replay_limit_is_configurable() -> None:
    core = CoreHarness(history_replay=2)
    alice = core.register("alice")
    alice.send("JOIN #r")
    talk(core, alice, "PRIVMSG #r :1", "PRIVMSG #r :2", "PRIVMSG #r :3")
    lines = core.register("bob").send("JOIN #r")
    assert [line.rsplit(" ", 1)[1] for line in lines if "PRIVMSG" in line] == ["2", "3"]


def test_history_command_for_rooms(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("JOIN #r", "JOIN #secret", "MODE #secret +s")
    talk(core, alice, "PRIVMSG #r :1", "PRIVMSG #r :2", "PRIVMSG #secret :hush")
    bob = core.register("bob")
    assert bob.send("HISTORY #r 1") == [
        ":irc.test NOTICE #r :*** history: 1 message(s) follow",
        f":{A} PRIVMSG #r :[2023-11-14 22:13:22] 2",
        ":irc.test NOTICE #r :*** end of history",
    ]
    assert bob.send("HISTORY #secret") == [":irc.test 403 bob #secret :No such channel"]
    assert bob.send("HISTORY #nowhere") == [":irc.test 403 bob #nowhere :No such channel"]
    assert bob.send("HISTORY") == [":irc.test 461 bob HISTORY :Not enough parameters"]
    assert bob.send("HISTORY #r x") == [
        ":irc.test NOTICE bob :HISTORY failed: The count must be a positive number"
    ]


def test_private_history_needs_an_account_and_follows_it(core: CoreHarness) -> None:
    alice, bob = account(core, "alice"), account(core, "bob")
    talk(core, alice, "PRIVMSG bob :hello bob")
    bob.take()
    bob.send("NICK robert")
    lines = alice.send("HISTORY robert")
    assert lines[1] == f":{A} PRIVMSG bob :[2023-11-14 22:13:21] hello bob"
    assert lines[0] == ":irc.test NOTICE alice :*** history: 1 message(s) follow"
    guest = core.register("guest")
    assert guest.send("HISTORY alice") == [
        ":irc.test NOTICE guest :HISTORY failed: Log in to read private history"
    ]
    guest.send("CAP REQ standard-replies")
    assert guest.send("HISTORY alice") == [
        ":irc.test FAIL HISTORY ACCOUNT_REQUIRED alice :Log in to read private history"
    ]
    assert alice.send("HISTORY nobody") == [":irc.test 401 alice nobody :No such nick/channel"]


def test_history_with_a_guest_that_left(core: CoreHarness) -> None:
    alice, gus = account(core, "alice"), core.register("Gus")
    talk(core, gus, "PRIVMSG alice :bye now", "QUIT")
    alice.take()
    assert alice.send("HISTORY gus")[1:] == [
        ":Gus!~Gus@127.0.0.1 PRIVMSG alice :[2023-11-14 22:13:21] bye now",
        ":irc.test NOTICE alice :*** end of history",
    ]


def test_offline_account_gets_messages_at_login(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    bob = core.register("bob")
    core.clock.now += 1
    assert bob.send("PRIVMSG alice :are you there?", "PRIVMSG ghost :hi") == [
        ":irc.test NOTICE bob"
        " :alice is offline; your message will be delivered when they log in",
        ":irc.test 401 bob ghost :No such nick/channel",
    ]
    back = core.connect()
    lines = without_welcome(back.send("NICK alice", "USER a 0 * :a"))
    assert lines[:1] == [
        ":NickServ!NickServ@services NOTICE alice"
        " :alice is a registered account. Log in within 30 seconds"
    ]
    lines = back.send("PRIVMSG NickServ :IDENTIFY password1")
    start = lines.index(":irc.test NOTICE alice :You have 1 unread message(s)")
    assert lines[start : start + 4] == [
        ":irc.test NOTICE alice :You have 1 unread message(s)",
        ":irc.test NOTICE alice :*** unread messages: 1 message(s) follow",
        f":{B} PRIVMSG alice :[2023-11-14 22:13:21] are you there?",
        ":irc.test NOTICE alice :*** end of unread messages",
    ]
    again = core.connect()  # delivered once: marked read
    again.send("PASS alice:password1", "NICK alice2", "USER a 0 * :a")
    assert not any("unread" in line for line in again.take())


def test_unread_delivered_after_welcome_with_sasl_and_pass(core: CoreHarness) -> None:
    account(core, "alice").send("QUIT")
    bob = core.register("bob")
    bob.send("PRIVMSG alice :one")
    sasl = core.connect()
    payload = base64.b64encode(b"\0alice\0password1").decode()
    lines = sasl.send(
        "CAP REQ :sasl server-time", "NICK alice", "USER a 0 * :a",
        "AUTHENTICATE PLAIN", f"AUTHENTICATE {payload}", "CAP END",
    )  # fmt: skip
    after = lines[[line.split()[1] for line in lines].index("376") + 1 :]
    assert after[0] == ":irc.test NOTICE alice :You have 1 unread message(s)"
    assert after[2] == f"@time=2023-11-14T22:13:20.000Z :{B} PRIVMSG alice :one"
    sasl.send("QUIT")
    bob.send("PRIVMSG alice :two")
    by_pass = core.connect()
    lines = without_welcome(by_pass.send("PASS password1", "NICK alice", "USER a 0 * :a"))
    assert ":irc.test NOTICE alice :You have 1 unread message(s)" in lines
    assert any(line.endswith("PRIVMSG alice :[2023-11-14 22:13:20] two") for line in lines)


def test_message_to_account_online_under_another_nick(core: CoreHarness) -> None:
    alice = account(core, "alice")
    alice.send("NICK ally")
    bob = core.register("bob")
    assert bob.send("PRIVMSG alice :found you") == []
    assert alice.take() == [f":{B} PRIVMSG alice :found you"]


def test_inbox_lists_read_and_unread(core: CoreHarness) -> None:
    alice = account(core, "alice")
    bob = core.register("bob")
    talk(core, bob, "PRIVMSG alice :1", "PRIVMSG alice :2", "PRIVMSG alice :3")
    alice.take()
    assert alice.send("INBOX 2") == [
        ":irc.test NOTICE alice :*** inbox: 2 message(s) follow",
        f":{B} PRIVMSG alice :[2023-11-14 22:13:22] 2",
        f":{B} PRIVMSG alice :[2023-11-14 22:13:23] 3",
        ":irc.test NOTICE alice :*** end of inbox",
    ]
    assert len(alice.send("PRIVMSG NickServ :INBOX")) == 5
    assert bob.send("INBOX") == [":irc.test NOTICE bob :INBOX failed: Log in to read your inbox"]


def test_guest_to_guest_messages_are_not_stored(core: CoreHarness) -> None:
    one, two = core.register("one"), core.register("two")
    one.send("PRIVMSG two :ephemeral")
    stored = "SELECT count(*) FROM messages WHERE verb NOT IN ('JOIN')"  # the JOINs are kept
    assert core.store.db.execute(stored).fetchone()[0] == 0
    assert two.take() == [":one!~one@127.0.0.1 PRIVMSG two :ephemeral"]


def test_echo_message_and_message_tags(core: CoreHarness) -> None:
    modern = core.connect()
    modern.send("CAP REQ :echo-message message-tags", "NICK m", "USER m 0 * :m", "CAP END")
    plain = core.register("plain")
    modern.send("JOIN #t")
    plain.send("JOIN #t")
    modern.take()
    echo = modern.send("@+draft/react=x;secret=y PRIVMSG #t :hi")
    assert len(echo) == 1
    assert re.fullmatch(r"@msgid=[\w-]+;\+draft/react=x :m!~m@127\.0\.0\.1 PRIVMSG #t :hi", echo[0])
    assert plain.take() == [":m!~m@127.0.0.1 PRIVMSG #t :hi"]


def test_guest_private_message_tags_only_where_seen(core: CoreHarness) -> None:
    modern = core.connect()
    modern.send("CAP REQ :echo-message message-tags", "NICK m", "USER m 0 * :m", "CAP END")
    timed = core.connect()
    timed.send("CAP REQ :server-time", "NICK t", "USER t 0 * :t", "CAP END")
    plain = core.register("plain")
    (echo,) = modern.send("PRIVMSG plain :to a plain client")
    assert plain.take() == [":m!~m@127.0.0.1 PRIVMSG plain :to a plain client"]
    assert re.fullmatch(r"@msgid=[\w-]+ :m!~m@127\.0\.0\.1 PRIVMSG plain :to a plain client", echo)
    assert plain.send("PRIVMSG t :to a server-time client") == []
    (line,) = timed.take()
    assert re.fullmatch(r"@time=\S+Z :plain!\S+ PRIVMSG t :to a server-time client", line)
    to_self = ":plain!~plain@127.0.0.1 PRIVMSG plain :to myself"
    assert plain.send("PRIVMSG plain :to myself") == [to_self]


def test_tagmsg_only_to_message_tags_clients(core: CoreHarness) -> None:
    one, two = core.connect(), core.connect()
    for client, nick in ((one, "one"), (two, "two")):
        client.send("CAP REQ :message-tags", f"NICK {nick}", f"USER {nick} 0 * :x", "CAP END")
        client.send("JOIN #t")
    plain = core.register("plain")
    plain.send("JOIN #t")
    one.take()
    two.take()
    assert one.send("@+typing=active TAGMSG #t") == []
    (line,) = two.take()
    assert re.fullmatch(r"@msgid=[\w-]+;\+typing=active :one!~one@127\.0\.0\.1 TAGMSG #t", line)
    assert plain.take() == []
    stored = "SELECT count(*) FROM messages WHERE verb NOT IN ('JOIN')"  # the JOINs are kept
    assert core.store.db.execute(stored).fetchone()[0] == 0


def test_registered_room_survives_emptiness_and_restart(core: CoreHarness) -> None:
    alice = account(core, "alice")
    alice.send("JOIN #club", "TOPIC #club :members only", "MODE #club +kb sesame x!*@*")
    alice.send("PART #club")
    guest = core.register("guest")
    guest.send("JOIN #guestroom", "PART #guestroom")
    assert guest.send("LIST") == [
        ":irc.test 321 guest Channel :Users  Name",
        ":irc.test 322 guest #club 0 :members only",
        ":irc.test 323 guest :End of /LIST",
    ]
    restarted = CoreHarness.on_store(core.store)
    channel = restarted.server.state.find_channel("#club")
    assert channel is not None and channel.founder == "alice"
    assert channel.key == "sesame" and channel.topic == "members only"
    assert "x!*@*" in channel.bans
    assert restarted.server.state.find_channel("#guestroom") is None
    founder = restarted.connect()
    founder.send("PASS alice:password1", "NICK alice", "USER a 0 * :a")
    assert founder.send("JOIN #club sesame")[3] == ":irc.test 353 alice = #club :@alice"


def test_chanserv_info_and_drop(core: CoreHarness) -> None:
    alice = account(core, "alice")
    bob = core.register("bob")
    alice.send("JOIN #club")
    bob.send("JOIN #club")
    assert bob.send("PRIVMSG ChanServ :INFO #club") == [
        ":ChanServ!ChanServ@services NOTICE bob"
        " :#club was registered by alice on 2023-11-14 22:13 UTC."
    ]
    assert bob.send("PRIVMSG ChanServ :DROP #club") == [
        ":ChanServ!ChanServ@services NOTICE bob :Only the founder of #club may drop it."
    ]
    alice.take()
    assert alice.send("PRIVMSG ChanServ :DROP #club") == [
        ":ChanServ!ChanServ@services NOTICE alice :#club is no longer registered."
    ]
    assert core.store.load_rooms() == []
    alice.send("PART #club")
    bob.send("PART #club")
    assert core.server.state.find_channel("#club") is None


def test_a_full_inbox_refuses_more_and_changes_nothing() -> None:
    core = CoreHarness(inbox_max=2)
    account(core, "alice").send("QUIT")
    bob = core.register("bob")
    bob.send("PRIVMSG alice :one", "PRIVMSG alice :two")
    # standard-replies not negotiated: the FAIL falls back to a NOTICE
    assert bob.send("PRIVMSG alice :three") == [
        ":irc.test NOTICE bob :PRIVMSG failed: alice's inbox is full; try later"
    ]
    assert core.server.store.unread_count("alice") == 2
    back = core.connect()
    back.send("PASS alice:password1", "NICK alice", "USER a 0 * :a")
    assert core.server.store.unread_count("alice") == 0
    assert bob.send("PRIVMSG alice :now there is room") == []
