"""Transcript tests for CHATHISTORY (IRCv3 draft/chathistory) and its ISUPPORT tokens."""

from __future__ import annotations

import re

from harness import CoreClient, CoreHarness
from miniircd.core.history import iso_time

A = "alice!~alice@127.0.0.1"
START = 1_700_000_000  # the harness clock's start: 2023-11-14T22:13:20.000Z
CAPS = "CAP REQ :draft/chathistory batch server-time message-tags"
NOT_RETRIEVED = "Messages could not be retrieved"


def modern(core: CoreHarness, nick: str, password: str | None = None) -> CoreClient:
    """A client that negotiated chathistory and its companions; with a new account if asked."""
    client = core.connect()
    client.send(CAPS, f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    assert client.send("CAP END")[0].startswith(f":irc.test 001 {nick} ")
    if password is not None:
        lines = client.send(f"REGISTER {nick} * {password}")
        assert lines[-1] == f":irc.test REGISTER SUCCESS {nick} :Account successfully registered"
    return client


def say(core: CoreHarness, client: CoreClient, target: str, *texts: str) -> None:
    """One PRIVMSG per text, a second apart (the first a second from now)."""
    for text in texts:
        core.tick(1)
        client.send(f"PRIVMSG {target} :{text}")


def stamp(seconds: float) -> str:
    """The timestamp reference `seconds` after the harness clock's start."""
    return "timestamp=" + iso_time(int((START + seconds) * 1000))


def batch(lines: list[str], kind: str = "chathistory") -> tuple[str, list[str]]:
    """Check a reply is one batch of `kind` with every line in it; return the batch's
    parameter and the lines inside it."""
    opened = re.fullmatch(rf":irc\.test BATCH \+(\w+) {kind}( \S+)?", lines[0])
    assert opened is not None, lines
    ref = opened.group(1)
    assert lines[-1] == f":irc.test BATCH -{ref}", lines
    for line in lines[1:-1]:
        assert line.startswith("@") and f"batch={ref}" in line[1:].split(" ", 1)[0].split(";")
    return (opened.group(2) or "").strip(), lines[1:-1]


def texts(client: CoreClient, command: str) -> list[str]:
    """The texts of the messages in the history batch `command` gets."""
    return [line.rsplit(" :", 1)[1] for line in batch(client.send(command))[1]]


def msgids(client: CoreClient, target: str) -> dict[str, str]:
    """text -> msgid of every message in the conversation."""
    found = {}
    for line in client.send(f"CHATHISTORY LATEST {target} * 100")[1:-1]:
        tags = dict(tag.split("=", 1) for tag in line[1:].split(" ", 1)[0].split(";"))
        found[line.rsplit(" :", 1)[1]] = tags["msgid"]
    return found


def room(core: CoreHarness, count: int = 5) -> tuple[CoreClient, dict[str, str]]:
    """alice in #r, which holds m0..m(count-1), sent 1..count seconds after START."""
    alice = modern(core, "alice")
    alice.send("JOIN #r")
    say(core, alice, "#r", *(f"m{i}" for i in range(count)))
    return alice, msgids(alice, "#r")


def test_isupport_advertises_the_limit_and_reference_types() -> None:
    for core, limit in ((CoreHarness(), "100"), (CoreHarness(chathistory_max=7), "7")):
        lines = core.connect().send("NICK a", "USER a 0 * :a")
        tokens = " ".join(line for line in lines if " 005 " in line).split()
        assert f"CHATHISTORY={limit}" in tokens
        assert "MSGREFTYPES=msgid,timestamp" in tokens


def test_latest_whole_batch_with_tags(core: CoreHarness) -> None:
    alice, ids = room(core, 2)
    # room() read them in batch1; msg1 is alice's JOIN, not shown without event-playback
    assert ids == {"m0": "msg2", "m1": "msg3"}
    assert alice.send("CHATHISTORY LATEST #R * 10") == [
        ":irc.test BATCH +batch2 chathistory #R",  # the target as the client wrote it
        f"@time=2023-11-14T22:13:21.000Z;msgid=msg2;batch=batch2 :{A} PRIVMSG #r :m0",
        f"@time=2023-11-14T22:13:22.000Z;msgid=msg3;batch=batch2 :{A} PRIVMSG #r :m1",
        ":irc.test BATCH -batch2",
    ]


def test_latest_star_and_after_a_reference(core: CoreHarness) -> None:
    alice, ids = room(core)
    assert texts(alice, "CHATHISTORY LATEST #r * 3") == ["m2", "m3", "m4"]
    assert texts(alice, f"CHATHISTORY LATEST #r msgid={ids['m1']} 2") == ["m3", "m4"]
    assert texts(alice, f"CHATHISTORY LATEST #r msgid={ids['m1']} 9") == ["m2", "m3", "m4"]
    assert texts(alice, f"CHATHISTORY LATEST #r {stamp(2)} 9") == ["m2", "m3", "m4"]  # m1 at 2s
    assert texts(alice, f"CHATHISTORY LATEST #r msgid={ids['m4']} 9") == []
    assert texts(alice, f"CHATHISTORY latest #r msgid={ids['m0']} 1") == ["m4"]


def test_limit_is_capped_at_chathistory_max() -> None:
    core = CoreHarness(chathistory_max=2)
    alice, ids = room(core)
    assert texts(alice, "CHATHISTORY LATEST #r * 50") == ["m3", "m4"]
    assert list(ids) == ["m3", "m4"]
    assert texts(alice, f"CHATHISTORY BEFORE #r msgid={ids['m4']} 99999999999999999999") == [
        "m2", "m3",
    ]  # fmt: skip


def test_before_and_after_exclude_their_reference(core: CoreHarness) -> None:
    alice, ids = room(core)
    assert texts(alice, f"CHATHISTORY BEFORE #r msgid={ids['m3']} 2") == ["m1", "m2"]
    assert texts(alice, f"CHATHISTORY BEFORE #r {stamp(4)} 10") == ["m0", "m1", "m2"]
    assert texts(alice, f"CHATHISTORY BEFORE #r {stamp(3.5)} 1") == ["m2"]
    assert texts(alice, f"CHATHISTORY BEFORE #r msgid={ids['m0']} 10") == []
    assert texts(alice, f"CHATHISTORY AFTER #r msgid={ids['m1']} 2") == ["m2", "m3"]
    assert texts(alice, f"CHATHISTORY AFTER #r {stamp(4)} 10") == ["m4"]
    assert texts(alice, f"CHATHISTORY AFTER #r {stamp(0)} 1") == ["m0"]
    assert texts(alice, f"CHATHISTORY AFTER #r msgid={ids['m4']} 10") == []


def test_around_centres_on_the_reference(core: CoreHarness) -> None:
    alice, ids = room(core)
    around = "CHATHISTORY AROUND #r msgid={} {}"
    assert texts(alice, around.format(ids["m2"], 3)) == ["m1", "m2", "m3"]
    assert texts(alice, around.format(ids["m2"], 1)) == ["m2"]
    assert texts(alice, around.format(ids["m2"], 4)) == ["m0", "m1", "m2", "m3"]
    assert texts(alice, around.format(ids["m0"], 3)) == ["m0", "m1", "m2"]  # later side fills in
    assert texts(alice, around.format(ids["m4"], 3)) == ["m2", "m3", "m4"]  # earlier side fills in
    assert texts(alice, around.format(ids["m4"], 50)) == ["m0", "m1", "m2", "m3", "m4"]
    assert texts(alice, f"CHATHISTORY AROUND #r {stamp(3.5)} 2") == ["m2", "m3"]
    assert texts(alice, f"CHATHISTORY AROUND #r {stamp(3)} 2") == ["m1", "m2"]  # m2 is at 3s


def test_between_in_both_directions(core: CoreHarness) -> None:
    alice, ids = room(core)
    first, last = f"msgid={ids['m0']}", f"msgid={ids['m4']}"
    assert texts(alice, f"CHATHISTORY BETWEEN #r {first} {last} 10") == ["m1", "m2", "m3"]
    assert texts(alice, f"CHATHISTORY BETWEEN #r {first} {last} 2") == ["m1", "m2"]
    assert texts(alice, f"CHATHISTORY BETWEEN #r {last} {first} 2") == ["m2", "m3"]
    assert texts(alice, f"CHATHISTORY BETWEEN #r {stamp(1)} msgid={ids['m3']} 9") == ["m1", "m2"]
    assert texts(alice, f"CHATHISTORY BETWEEN #r {stamp(9)} {stamp(0)} 2") == ["m3", "m4"]
    assert texts(alice, f"CHATHISTORY BETWEEN #r {first} {first} 9") == []
    assert texts(alice, f"CHATHISTORY BETWEEN #r {stamp(2)} {stamp(3)} 9") == []


def test_empty_history_is_an_empty_batch_named_as_asked(core: CoreHarness) -> None:
    alice = modern(core, "alice")
    alice.send("JOIN #Quiet")
    assert batch(alice.send("CHATHISTORY LATEST #QUIET * 10")) == ("#QUIET", [])
    assert batch(alice.send(f"CHATHISTORY BEFORE #quiet {stamp(100)} 10")) == ("#quiet", [])
    assert batch(alice.send(f"CHATHISTORY AROUND #quiet {stamp(100)} 10")) == ("#quiet", [])


def test_without_batch_the_reply_is_bracketed_by_notices(core: CoreHarness) -> None:
    room(core, 1)
    plain = core.connect()
    plain.send("CAP REQ :draft/chathistory", "NICK p", "USER p 0 * :p", "CAP END", "JOIN #r")
    plain.take()
    assert plain.send("CHATHISTORY LATEST #r * 5") == [
        ":irc.test NOTICE #r :*** chathistory: 1 message(s) follow",
        f":{A} PRIVMSG #r :[2023-11-14 22:13:21] m0",
        ":irc.test NOTICE #r :*** end of chathistory",
    ]


def test_bad_parameters(core: CoreHarness) -> None:
    alice, ids = room(core, 1)
    fail = ":irc.test FAIL CHATHISTORY "
    assert alice.send("CHATHISTORY") == [":irc.test 461 alice CHATHISTORY :Not enough parameters"]
    assert alice.send("CHATHISTORY FETCH #r * 5") == [
        fail + "INVALID_PARAMS FETCH :Unknown command"
    ]
    assert alice.send("CHATHISTORY LATEST #r *") == [
        fail + "INVALID_PARAMS LATEST :Insufficient parameters"
    ]
    assert alice.send("CHATHISTORY BETWEEN #r * 5") == [
        fail + "INVALID_PARAMS BETWEEN :Insufficient parameters"
    ]
    assert alice.send("CHATHISTORY AFTER #r * 5 6") == [
        fail + "INVALID_PARAMS AFTER :Too many parameters"
    ]
    wide_one = "\uff11"  # FULLWIDTH DIGIT ONE: a digit to Python, not an IRC number
    for limit, shown in (("0", "0"), ("-1", "-1"), ("ten", "ten"), (":", "*"), (wide_one,) * 2):
        assert alice.send(f"CHATHISTORY LATEST #r * {limit}") == [
            fail + f"INVALID_PARAMS LATEST {shown} :Invalid limit"
        ]
    for bad in (
        "timestamp=2023-11-14T22:13:21Z",
        "timestamp=2023-13-14T22:13:21.000Z",
        "timestamp=2023-11-14_22:13:21.000Z",
        "timestamp=",
        "timestamp=1700000000",
    ):
        assert alice.send(f"CHATHISTORY BEFORE #r {bad} 5") == [
            fail + f"INVALID_PARAMS BEFORE {bad} :Invalid timestamp"
        ]
    assert alice.send("CHATHISTORY BEFORE #r * 5") == [
        fail + "INVALID_PARAMS BEFORE * :Invalid message reference"
    ]
    assert alice.send("CHATHISTORY AFTER #r msgid= 5") == [
        fail + "INVALID_PARAMS AFTER msgid= :Invalid message reference"
    ]
    assert alice.send("CHATHISTORY AFTER #r id=5 5") == [
        fail + "INVALID_MSGREFTYPE AFTER #r id=5 :Unknown message reference type"
    ]
    assert alice.send(f"CHATHISTORY TARGETS msgid={ids['m0']} {stamp(9)} 5") == [
        fail + f"INVALID_PARAMS TARGETS msgid={ids['m0']} :Invalid timestamp"
    ]
    assert alice.send("CHATHISTORY TARGETS * * 5") == [
        fail + "INVALID_PARAMS TARGETS * :Invalid timestamp"
    ]


def test_unknown_or_foreign_msgid_is_a_message_error(core: CoreHarness) -> None:
    alice, _ = room(core, 1)
    alice.send("JOIN #other")
    say(core, alice, "#other", "elsewhere")
    foreign = msgids(alice, "#other")["elsewhere"]
    for msgid in (foreign, "nosuchid"):
        assert alice.send(f"CHATHISTORY AFTER #r msgid={msgid} 5") == [
            f":irc.test FAIL CHATHISTORY MESSAGE_ERROR AFTER #r msgid={msgid} :Unknown msgid"
        ]


def test_invisible_or_forbidden_targets(core: CoreHarness) -> None:
    alice = modern(core, "alice")
    alice.send("JOIN #secret", "MODE #secret +s", "JOIN #pub", "MODE #pub +b bob!*@*")
    say(core, alice, "#secret", "hush")
    say(core, alice, "#pub", "hello")
    bob, carol = modern(core, "bob"), modern(core, "carol")
    invalid = ":irc.test FAIL CHATHISTORY INVALID_TARGET {} {} :Messages could not be retrieved"
    assert bob.send("CHATHISTORY LATEST #secret * 5") == [invalid.format("LATEST", "#secret")]
    assert bob.send("CHATHISTORY LATEST #nowhere * 5") == [invalid.format("LATEST", "#nowhere")]
    assert bob.send(f"CHATHISTORY AFTER #pub {stamp(0)} 5") == [invalid.format("AFTER", "#pub")]
    # only members read a room's history: nothing tells an outsider what was said
    assert carol.send("CHATHISTORY LATEST #pub * 5") == [invalid.format("LATEST", "#pub")]
    carol.send("JOIN #pub")
    carol.take(), alice.take()
    assert texts(carol, "CHATHISTORY LATEST #pub * 5") == ["hello"]
    assert texts(alice, "CHATHISTORY LATEST #secret * 5") == ["hush"]
    # private history needs an account, and the other party must exist
    assert bob.send("CHATHISTORY LATEST alice * 5") == [invalid.format("LATEST", "alice")]
    assert bob.send("CHATHISTORY LATEST nobody * 5") == [invalid.format("LATEST", "nobody")]


def test_private_history_follows_accounts_not_nicks(core: CoreHarness) -> None:
    alice = modern(core, "alice", "password1")
    bob = modern(core, "bob", "password2")
    say(core, alice, "bob", "hello bob")
    say(core, bob, "alice", "hi alice")
    bob.send("NICK robert")
    alice.take()
    lines = alice.send("CHATHISTORY LATEST Robert * 10")
    assert batch(lines)[0] == "Robert"
    assert lines[1].endswith(f" :{A} PRIVMSG bob :hello bob")  # as it was sent
    assert lines[2].endswith(" :bob!~bob@127.0.0.1 PRIVMSG alice :hi alice")
    assert texts(bob, "CHATHISTORY LATEST alice * 10") == ["hello bob", "hi alice"]
    bob.send("QUIT")
    assert texts(alice, "CHATHISTORY LATEST bob * 10") == ["hello bob", "hi alice"]  # by account
    carol = modern(core, "carol", "password3")
    for other in ("bob", "alice"):  # theirs is not hers: to her they are no correspondents
        assert carol.send(f"CHATHISTORY LATEST {other} * 10") == [
            f":irc.test FAIL CHATHISTORY INVALID_TARGET LATEST {other} :{NOT_RETRIEVED}"
        ]


def test_targets_lists_channels_and_correspondents(core: CoreHarness) -> None:
    alice = modern(core, "alice", "password1")
    bob = modern(core, "bob", "password2")
    carol = modern(core, "carol", "password3")
    alice.send("JOIN #a", "JOIN #b")
    bob.send("JOIN #c")
    say(core, alice, "#a", "in a")  # 1s (plus the time REGISTER took: none, the clock is fake)
    say(core, bob, "alice", "psst")  # 2s
    say(core, alice, "#b", "in b")  # 3s
    say(core, carol, "alice", "hey")  # 4s
    say(core, alice, "#a", "in a again")  # 5s
    say(core, bob, "#c", "in c")  # 6s: alice is not in #c
    say(core, carol, "bob", "not for alice")  # 7s
    carol.send("NICK caroline")  # carol is still what finds that conversation (her account)
    alice.take()
    window = f"{stamp(0)} {stamp(60)}"
    lines = alice.send(f"CHATHISTORY TARGETS {window} 10")
    param, inside = batch(lines, "draft/chathistory-targets")
    assert param == ""
    assert [line.split(" ", 1)[1] for line in inside] == [
        ":irc.test CHATHISTORY TARGETS bob 2023-11-14T22:13:22.000Z",
        ":irc.test CHATHISTORY TARGETS #b 2023-11-14T22:13:23.000Z",
        ":irc.test CHATHISTORY TARGETS carol 2023-11-14T22:13:24.000Z",
        ":irc.test CHATHISTORY TARGETS #a 2023-11-14T22:13:25.000Z",
    ]

    def names(command: str) -> list[str]:
        return [line.split()[4] for line in alice.send(command)[1:-1]]

    assert names(f"CHATHISTORY TARGETS {window} 2") == ["bob", "#b"]
    assert names(f"CHATHISTORY TARGETS {stamp(60)} {stamp(0)} 2") == ["carol", "#a"]
    assert names(f"CHATHISTORY TARGETS {stamp(2)} {stamp(5)} 9") == ["#b", "carol"]
    assert names(f"CHATHISTORY TARGETS {stamp(1)} {stamp(1)} 9") == []
    # #a's latest message is at 5s, outside this window: it is not listed
    assert names(f"CHATHISTORY TARGETS {stamp(0)} {stamp(4.5)} 9") == ["bob", "#b", "carol"]
    guest = modern(core, "guest")
    guest.send("JOIN #b")
    assert names_of(guest.send(f"CHATHISTORY TARGETS {window} 9")) == ["#b"]
    plain = core.connect()
    plain.send("CAP REQ :draft/chathistory", "NICK p", "USER p 0 * :p", "CAP END", "JOIN #b")
    assert plain.send(f"CHATHISTORY TARGETS {window} 9") == [
        ":irc.test CHATHISTORY TARGETS #b 2023-11-14T22:13:23.000Z"
    ]


def names_of(lines: list[str]) -> list[str]:
    return [line.split()[4] for line in lines[1:-1]]


def test_targets_names_a_correspondent_that_went_offline_by_account(core: CoreHarness) -> None:
    alice = modern(core, "alice", "password1")
    bob = modern(core, "bob", "password2")
    bob.send("NICK bobby")
    say(core, bob, "alice", "from bobby")
    bob.send("QUIT")
    alice.take()
    lines = alice.send(f"CHATHISTORY TARGETS {stamp(0)} {stamp(60)} 9")
    assert names_of(lines) == ["bob"]  # "bobby" is nobody now; the account still answers
    assert texts(alice, "CHATHISTORY LATEST bob * 9") == ["from bobby"]


def test_private_batch_names_the_other_party_as_asked(core: CoreHarness) -> None:
    alice = modern(core, "alice", "password1")
    bob = modern(core, "Bob", "password2")
    gus = modern(core, "Gus")  # a guest
    say(core, alice, "Bob", "hi Bob")
    say(core, gus, "alice", "from Gus")
    say(core, alice, "Gus", "hi Gus")
    bob.send("QUIT")
    gus.send("QUIT")
    alice.take()
    # Bob by his account now, Gus by the messages exchanged with him; never case-folded
    assert batch(alice.send("CHATHISTORY LATEST BOB * 10"))[0] == "BOB"
    lines = alice.send("CHATHISTORY LATEST Gus * 10")
    assert batch(lines)[0] == "Gus"
    assert [line.split(" ", 1)[1] for line in lines[1:-1]] == [
        ":Gus!~Gus@127.0.0.1 PRIVMSG alice :from Gus",
        f":{A} PRIVMSG Gus :hi Gus",
    ]


def test_target_that_is_no_correspondent_is_invalid(core: CoreHarness) -> None:
    alice = modern(core, "alice", "password1")
    modern(core, "Carol", "password2")
    modern(core, "dave")  # a guest
    alice.send("JOIN #quiet")
    invalid = ":irc.test FAIL CHATHISTORY INVALID_TARGET {} {} :Messages could not be retrieved"
    for command, sub, target in (
        ("CHATHISTORY LATEST carol * 10", "LATEST", "carol"),  # an account, never written to
        (f"CHATHISTORY BEFORE Dave {stamp(9)} 10", "BEFORE", "Dave"),  # a guest, likewise
        (f"CHATHISTORY AFTER alice {stamp(0)} 10", "AFTER", "alice"),  # no notes to self
        (f"CHATHISTORY BETWEEN nobody {stamp(0)} {stamp(9)} 10", "BETWEEN", "nobody"),
    ):
        assert alice.send(command) == [invalid.format(sub, target)], command
    assert batch(alice.send("CHATHISTORY LATEST #quiet * 10")) == ("#quiet", [])  # a channel
    say(core, alice, "carol", "now we talk")
    assert texts(alice, "CHATHISTORY LATEST carol * 10") == ["now we talk"]


def test_messages_to_oneself_are_kept(core: CoreHarness) -> None:
    alice = modern(core, "Alice", "password1")
    say(core, alice, "alice", "note one")
    say(core, alice, "ALICE", "note two")
    lines = alice.send("CHATHISTORY LATEST Alice * 10")
    assert batch(lines)[0] == "Alice"
    assert [line.split(" ", 1)[1] for line in lines[1:-1]] == [
        ":Alice!~Alice@127.0.0.1 PRIVMSG Alice :note one",
        ":Alice!~Alice@127.0.0.1 PRIVMSG Alice :note two",
    ]
    alice.send("NICK ally")  # the conversation is the account's, under any nick
    assert texts(alice, f"CHATHISTORY BEFORE ally {stamp(2)} 10") == ["note one"]
    lines = alice.send(f"CHATHISTORY TARGETS {stamp(0)} {stamp(60)} 10")
    assert names_of(lines) == ["Alice"]  # the account: it finds the conversation again


# -- draft/event-playback ---------------------------------------------------------------------


def test_event_playback_replays_the_room_s_events(core: CoreHarness) -> None:
    alice = modern(core, "alice")
    assert alice.send("CAP REQ :draft/event-playback") == [
        ":irc.test CAP alice ACK :draft/event-playback"
    ]
    # the live lines carry the time and msgid their history rows have
    assert alice.send("JOIN #r")[0] == f"@time=2023-11-14T22:13:20.000Z;msgid=msg1 :{A} JOIN #r"
    bob = core.register("bob")
    bob.send("JOIN #r")
    core.tick(1)
    alice.take()
    assert alice.send("TOPIC #r :news") == [
        f"@time=2023-11-14T22:13:21.000Z;msgid=msg3 :{A} TOPIC #r :news"
    ]
    core.tick(1)
    bob.send("PRIVMSG #r :hi", "NICK robert")
    alice.send("KICK #r robert :bye")
    carol = core.register("carol")
    carol.send("JOIN #r", "PART #r :later")
    dave = core.register("dave")
    dave.send("JOIN #r", "QUIT :gone")
    t1, t2 = "@time=2023-11-14T22:13:21.000Z", "@time=2023-11-14T22:13:22.000Z"
    alice.take()
    assert alice.send("CHATHISTORY LATEST #r * 100") == [
        ":irc.test BATCH +batch1 chathistory #r",
        f"@time=2023-11-14T22:13:20.000Z;msgid=msg1;batch=batch1 :{A} JOIN #r",
        "@time=2023-11-14T22:13:20.000Z;msgid=msg2;batch=batch1 :bob!~bob@127.0.0.1 JOIN #r",
        f"{t1};msgid=msg3;batch=batch1 :{A} TOPIC #r :news",
        f"{t2};msgid=msg4;batch=batch1 :bob!~bob@127.0.0.1 PRIVMSG #r :hi",
        f"{t2};msgid=msg5;batch=batch1 :bob!~bob@127.0.0.1 NICK robert",
        f"{t2};msgid=msg6;batch=batch1 :{A} KICK #r robert :bye",
        f"{t2};msgid=msg7;batch=batch1 :carol!~carol@127.0.0.1 JOIN #r",
        f"{t2};msgid=msg8;batch=batch1 :carol!~carol@127.0.0.1 PART #r :later",
        f"{t2};msgid=msg9;batch=batch1 :dave!~dave@127.0.0.1 JOIN #r",
        f"{t2};msgid=msg10;batch=batch1 :dave!~dave@127.0.0.1 QUIT :Quit: gone",
        ":irc.test BATCH -batch1",
    ]
    # the limit counts the events, and a msgid reference may name one
    dave_joined = "dave!~dave@127.0.0.1 JOIN #r"  # (what `texts` makes of a JOIN)
    assert texts(alice, "CHATHISTORY LATEST #r * 2") == [dave_joined, "Quit: gone"]
    assert texts(alice, "CHATHISTORY BEFORE #r msgid=msg5 1") == ["hi"]
    assert texts(alice, "CHATHISTORY AFTER #r msgid=msg8 1") == [dave_joined]


def test_without_event_playback_only_messages_count(core: CoreHarness) -> None:
    alice = modern(core, "alice")
    alice.send("JOIN #r")
    for n in range(3):
        say(core, alice, "#r", f"m{n}")
        for _ in range(5):
            alice.send(f"TOPIC #r :topic {n}")
            core.register("guest").send("JOIN #r", "QUIT")
    alice.take()
    # as before events were kept: the 2 latest messages, none of the 30 events around them
    assert texts(alice, "CHATHISTORY LATEST #r * 2") == ["m1", "m2"]
    assert texts(alice, "HISTORY #r 2") == ["m1", "m2"]
    assert texts(alice, "CHATHISTORY AROUND #r msgid=msg2 3") == ["m0", "m1", "m2"]
    plain = core.register("plain")
    assert plain.send("JOIN #r")[6:-1] == [  # the replay on JOIN (after the topic, names)
        f":{A} PRIVMSG #r :[2023-11-14 22:13:21] m0",
        f":{A} PRIVMSG #r :[2023-11-14 22:13:22] m1",
        f":{A} PRIVMSG #r :[2023-11-14 22:13:23] m2",
    ]


def test_quit_and_nick_are_kept_in_every_room_of_the_user(core: CoreHarness) -> None:
    alice = modern(core, "alice")
    alice.send("CAP REQ :draft/event-playback extended-join", "JOIN #a", "JOIN #b")
    bob = core.register("bob")
    bob.send("JOIN #a", "JOIN #b")
    alice.take()
    bob.send("NICK robert")
    # one live NICK line, with the time only: each room's row has a msgid of its own
    assert alice.take() == ["@time=2023-11-14T22:13:20.000Z :bob!~bob@127.0.0.1 NICK robert"]
    bob.send("QUIT :bye")
    alice.take()
    for room_name in ("#a", "#b"):
        lines = batch(alice.send(f"CHATHISTORY LATEST {room_name} * 3"))[1]
        assert [line.split(" ", 1)[1] for line in lines] == [
            f":bob!~bob@127.0.0.1 JOIN {room_name} * :Bob",  # the extended-join form
            ":bob!~bob@127.0.0.1 NICK robert",
            ":robert!~bob@127.0.0.1 QUIT :Quit: bye",
        ]
    msgids = {
        line.split("msgid=")[1].split(";")[0]
        for line in alice.send("CHATHISTORY LATEST #a * 2", "CHATHISTORY LATEST #b * 2")
        if "msgid=" in line
    }
    assert len(msgids) == 4


def test_reactions_are_kept_for_event_playback_only(core: CoreHarness) -> None:
    alice = modern(core, "alice", "password1")
    alice.send("CAP REQ :draft/event-playback echo-message", "JOIN #r")
    bob = modern(core, "bob", "password2")
    bob.send("JOIN #r")
    alice.send("PRIVMSG bob :hi")  # bob is now a correspondent
    (react,) = alice.send("@+draft/react=1;+draft/reply=x TAGMSG #r")
    alice.send("@+typing=active TAGMSG #r")  # not kept
    (persist,) = alice.send("@+draft/persist;+x=y TAGMSG bob")
    bob.take()

    def same(line: str, replayed: list[str], ref: str) -> None:
        """`replayed` is `line` alone, in the batch `ref` (tags in any order)."""
        (one,) = replayed
        tags, rest = one.split(" ", 1)
        assert (set(tags[1:].split(";")), rest) == (
            {*line.split(" ", 1)[0][1:].split(";"), f"batch={ref}"},
            line.split(" ", 1)[1],
        )

    same(react, batch(alice.send("CHATHISTORY LATEST #r * 1"))[1], "batch1")
    same(persist, batch(alice.send("CHATHISTORY LATEST bob * 1"))[1], "batch2")
    assert texts(bob, "CHATHISTORY LATEST #r * 5") == []  # no event-playback: none
    assert texts(bob, "CHATHISTORY LATEST alice * 5") == ["hi"]
    assert core.store.unread_count("bob") == 0
    assert alice.send("INBOX")[1:-1] == []


def test_kept_reactions_are_replayed_only_with_message_tags(core: CoreHarness) -> None:
    alice = modern(core, "alice")
    alice.send("JOIN #r", "@+draft/react=1 TAGMSG #r")
    bare = core.connect()  # event-playback without message-tags: a TAGMSG would be empty
    bare.send("CAP REQ :draft/chathistory draft/event-playback batch", "NICK bare", "USER b 0 * :b")
    bare.send("CAP END", "JOIN #r")
    lines = bare.send("CHATHISTORY LATEST #r * 5")
    assert not any(" TAGMSG " in line for line in lines), lines
    assert any(" JOIN #r" in line for line in lines)

