"""Transcript tests for IRCv3 draft/multiline: BATCH from clients, delivery, limits, history."""

from __future__ import annotations

import pytest

from harness import CoreClient, CoreHarness
from miniircd.config import Config, ConfigError, validate

BASE = "message-tags batch echo-message server-time labeled-response"
ML = "draft/multiline"
ALICE = ":alice!~alice@127.0.0.1"
TIME = "2023-11-14T22:13:20.000Z"  # the harness clock


def client(core: CoreHarness, nick: str, caps: str, *channels: str) -> CoreClient:
    c = core.connect()
    c.send(f"CAP REQ :{caps}", f"NICK {nick}", f"USER {nick} 0 * :x", "CAP END")
    for channel in channels:
        c.send(f"JOIN {channel}")
    return c


def trio(core: CoreHarness) -> tuple[CoreClient, CoreClient, CoreClient]:
    """alice and bob with multiline, charlie without, all in #test."""
    alice = client(core, "alice", f"{BASE} {ML}", "#test")
    bob = client(core, "bob", f"{BASE} {ML}", "#test")
    charlie = client(core, "charlie", BASE, "#test")
    for c in (alice, bob, charlie):
        c.take()
    return alice, bob, charlie


BASIC = (
    f"@label=xyz BATCH +123 {ML} #test",
    "@batch=123 PRIVMSG #test hello",
    "@batch=123 PRIVMSG #test :#how is ",
    "@batch=123;draft/multiline-concat PRIVMSG #test :everyone?",
    "BATCH -123",
)


def test_cap_value_advertises_the_configured_limits() -> None:
    for core, value in (
        (CoreHarness(), "draft/multiline=max-bytes=4096,max-lines=32"),
        (
            CoreHarness(multiline_max_bytes=100, multiline_max_lines=3),
            "draft/multiline=max-bytes=100,max-lines=3",
        ),
    ):
        c = core.connect()
        lines = c.send("CAP LS 302")
        assert value in " ".join(lines).split()


def test_limits_below_one_are_refused() -> None:
    for field in ("multiline_max_bytes", "multiline_max_lines"):
        with pytest.raises(ConfigError, match="must be at least 1"):
            validate(Config().replace(**{field: 0}))


def test_batch_goes_as_one_message_to_each_kind_of_client(core: CoreHarness) -> None:
    alice, bob, charlie = trio(core)
    alice.send(*BASIC[:-1])
    assert alice.take() == bob.take() == charlie.take() == []  # nothing before it closes
    # the echo: one batch, labelled on its opening line; one msgid and time, on it only
    assert alice.send(BASIC[-1]) == [
        f"@time={TIME};msgid=msg4;label=xyz {ALICE} BATCH +batch1 {ML} #test",
        f"@batch=batch1 {ALICE} PRIVMSG #test :hello",
        f"@batch=batch1 {ALICE} PRIVMSG #test :#how is ",
        f"@batch=batch1;draft/multiline-concat {ALICE} PRIVMSG #test :everyone?",
        f"{ALICE} BATCH -batch1",
    ]
    assert bob.take() == [
        f"@time={TIME};msgid=msg4 {ALICE} BATCH +batch1 {ML} #test",
        f"@batch=batch1 {ALICE} PRIVMSG #test :hello",
        f"@batch=batch1 {ALICE} PRIVMSG #test :#how is ",
        f"@batch=batch1;draft/multiline-concat {ALICE} PRIVMSG #test :everyone?",
        f"{ALICE} BATCH -batch1",
    ]
    # without the capability: the lines as sent, the msgid on the first, the time on each
    assert charlie.take() == [
        f"@time={TIME};msgid=msg4 {ALICE} PRIVMSG #test :hello",
        f"@time={TIME} {ALICE} PRIVMSG #test :#how is ",
        f"@time={TIME} {ALICE} PRIVMSG #test :everyone?",
    ]


def test_blank_lines_and_client_tags(core: CoreHarness) -> None:
    alice, bob, charlie = trio(core)
    alice.send(
        f"@label=xyz;+client-only-tag BATCH +123 {ML} #test",
        "@batch=123 PRIVMSG #test :",
        "@batch=123 PRIVMSG #test :#how is ",
        "@batch=123;draft/multiline-concat PRIVMSG #test :everyone?",
        "BATCH -123",
    )
    relay = bob.take()
    assert relay[0] == f"@time={TIME};msgid=msg4;+client-only-tag {ALICE} BATCH +batch1 {ML} #test"
    assert relay[1] == f"@batch=batch1 {ALICE} PRIVMSG #test :"
    assert len(relay) == 5
    # no blank line to a client without the capability; the client tags on every line
    assert charlie.take() == [
        f"@time={TIME};msgid=msg4;+client-only-tag {ALICE} PRIVMSG #test :#how is ",
        f"@time={TIME};+client-only-tag {ALICE} PRIVMSG #test :everyone?",
    ]


def test_clients_without_tag_capabilities_get_bare_lines(core: CoreHarness) -> None:
    alice, _, _ = trio(core)
    dave = core.register("dave")
    dave.send("JOIN #test")
    dave.take()
    alice.send(*BASIC)
    assert dave.take() == [
        f"{ALICE} PRIVMSG #test :hello",
        f"{ALICE} PRIVMSG #test :#how is ",
        f"{ALICE} PRIVMSG #test :everyone?",
    ]


def test_without_labeled_response_or_echo(core: CoreHarness) -> None:
    alice = client(core, "alice", f"batch {ML}", "#test")
    alice.take()
    assert alice.send(*BASIC) == []  # no echo asked for, no label understood


def test_echo_without_other_tags_still_takes_the_label_on_its_opening(core: CoreHarness) -> None:
    alice = client(core, "alice", f"batch labeled-response echo-message {ML}", "#test")
    alice.take()
    assert alice.send(*BASIC) == [
        f"@label=xyz {ALICE} BATCH +batch1 {ML} #test",
        f"@batch=batch1 {ALICE} PRIVMSG #test :hello",
        f"@batch=batch1 {ALICE} PRIVMSG #test :#how is ",
        f"@batch=batch1;draft/multiline-concat {ALICE} PRIVMSG #test :everyone?",
        f"{ALICE} BATCH -batch1",
    ]


def test_label_without_echo_gets_ack(core: CoreHarness) -> None:
    alice = client(core, "alice", f"batch labeled-response {ML}", "#test")
    alice.take()
    assert alice.send(*BASIC) == ["@label=xyz :irc.test ACK"]


def test_private_multiline_with_away_reply_nests_in_a_labelled_batch(core: CoreHarness) -> None:
    alice = client(core, "alice", f"{BASE} {ML}")
    bob = client(core, "bob", f"{BASE} {ML}")
    bob.send("AWAY :lunch")
    alice.take()
    bob.take()
    lines = alice.send(
        f"@label=p1 BATCH +x {ML} bob",
        "@batch=x PRIVMSG bob :one",
        "@batch=x PRIVMSG bob :two",
        "BATCH -x",
    )
    assert lines[0] == "@label=p1 :irc.test BATCH +batch2 labeled-response"
    assert lines[1] == f"@batch=batch2;time={TIME};msgid=msg1 {ALICE} BATCH +batch1 {ML} bob"
    assert lines[2:5] == [
        f"@batch=batch1 {ALICE} PRIVMSG bob :one",
        f"@batch=batch1 {ALICE} PRIVMSG bob :two",
        f"@batch=batch2 {ALICE} BATCH -batch1",
    ]
    assert lines[5] == "@batch=batch2 :irc.test 301 alice bob :lunch"
    assert lines[6] == ":irc.test BATCH -batch2"
    assert bob.take()[0] == f"@time={TIME};msgid=msg1 {ALICE} BATCH +batch1 {ML} bob"


def test_notice_batch(core: CoreHarness) -> None:
    alice, bob, charlie = trio(core)
    alice.send(f"BATCH +n {ML} #test", "@batch=n NOTICE #test :a", "@batch=n NOTICE #test :b")
    alice.send("BATCH -n")
    assert bob.take()[1:3] == [
        f"@batch=batch1 {ALICE} NOTICE #test :a",
        f"@batch=batch1 {ALICE} NOTICE #test :b",
    ]
    assert [line.split(" ", 1)[1] for line in charlie.take()] == [
        f"{ALICE} NOTICE #test :a",
        f"{ALICE} NOTICE #test :b",
    ]


def test_one_line_batch_is_an_ordinary_message(core: CoreHarness) -> None:
    alice, bob, _ = trio(core)
    alice.send(f"BATCH +1 {ML} #test", "@batch=1 PRIVMSG #test :only", "BATCH -1")
    assert bob.take() == [f"@time={TIME};msgid=msg4 {ALICE} PRIVMSG #test :only"]


def test_a_ctcp_on_any_line_meets_no_ctcp_mode_and_is_not_kept(core: CoreHarness) -> None:
    alice, bob, charlie = trio(core)
    ctcp = (
        f"BATCH +1 {ML} #test",
        "@batch=1 PRIVMSG #test :hi",
        "@batch=1 PRIVMSG #test :\x01VERSION\x01",
    )
    alice.send(*ctcp, "BATCH -1")
    assert len(bob.take()) == 4 and len(charlie.take()) == 2  # delivered...
    stored = core.store.messages("#test", limit=10)
    assert [row.text for row in stored] == []  # ...but not kept
    alice.send("MODE #test +C")
    bob.take()
    charlie.take()
    assert alice.send(*ctcp, "BATCH -1")[-1].endswith(
        "404 alice #test :Cannot send CTCP to channel (+C: only ACTION is allowed)"
    )
    assert bob.take() == [] and charlie.take() == []


# -- refusals --------------------------------------------------------------------------


def fail(code: str, *params: str) -> str:
    return " ".join([":irc.test FAIL BATCH", code, *params])


def test_wrong_batch_reference_fails_and_drops_the_rest(core: CoreHarness) -> None:
    alice, bob, _ = trio(core)
    assert alice.send(f"BATCH +123 {ML} #test", "@batch=231 PRIVMSG #test :hi") == [
        fail("MULTILINE_INVALID", ":Unexpected batch reference")
    ]
    # the refused batch's other lines go nowhere, silently, until it closes
    assert alice.send("@batch=123 PRIVMSG #test :more", "BATCH -123") == []
    assert bob.take() == []
    assert alice.session.multiline is None
    alice.send("PRIVMSG #test :plain")  # and then all is as usual
    assert len(bob.take()) == 1


def test_blank_concat_line_is_invalid(core: CoreHarness) -> None:
    alice, bob, _ = trio(core)
    alice.send(f"@label=l BATCH +123 {ML} #test", "@batch=123 PRIVMSG #test :hi")
    assert alice.send("@batch=123;draft/multiline-concat PRIVMSG #test :") == [
        "@label=l " + fail("MULTILINE_INVALID", ":A blank line cannot be concatenated")
    ]
    assert alice.send("BATCH -123") == []
    assert bob.take() == []


def test_only_blank_lines_or_no_lines_are_invalid(core: CoreHarness) -> None:
    alice, bob, _ = trio(core)
    expected = [fail("MULTILINE_INVALID", ":A multiline message needs some text")]
    assert alice.send(f"BATCH +1 {ML} #test", "BATCH -1") == expected
    assert alice.send(f"BATCH +2 {ML} #test", "@batch=2 PRIVMSG #test :", "BATCH -2") == expected
    assert bob.take() == []


def test_line_limit_is_exact(core: CoreHarness) -> None:
    alice, bob, _ = trio(core)
    alice.send(f"BATCH +a {ML} #test")
    assert alice.send(*["@batch=a PRIVMSG #test hi"] * 32) == []
    assert alice.send("@batch=a PRIVMSG #test hi") == [
        fail("MULTILINE_MAX_LINES", "32", ":Multiline batch max-lines exceeded")
    ]
    alice.send("BATCH -a")
    assert bob.take() == []
    alice.send(f"BATCH +b {ML} #test", *["@batch=b PRIVMSG #test hi"] * 32, "BATCH -b")
    assert len(bob.take()) == 34


def test_byte_limit_counts_line_feeds_but_not_concatenations() -> None:
    core = CoreHarness(multiline_max_bytes=10)
    alice = client(core, "alice", f"batch {ML}", "#test")
    bob = client(core, "bob", f"batch {ML}", "#test")
    # 4 + 1 (line feed) + 5 = 10: just fits
    alice.send(
        f"BATCH +a {ML} #test", "@batch=a PRIVMSG #test abcd", "@batch=a PRIVMSG #test efghi"
    )
    assert alice.send("BATCH -a") == []
    assert len(bob.take()) == 4
    # concatenated: no line feed, so 5 + 5 fits; one byte more does not
    alice.send(f"BATCH +b {ML} #test", "@batch=b PRIVMSG #test abcde")
    assert alice.send("@batch=b;draft/multiline-concat PRIVMSG #test fghij") == []
    assert alice.send("@batch=b PRIVMSG #test :") == [
        fail("MULTILINE_MAX_BYTES", "10", ":Multiline batch max-bytes exceeded")
    ]
    alice.send("BATCH -b")
    assert bob.take() == []


def test_ergo_byte_limit(core: CoreHarness) -> None:
    alice, _, _ = trio(core)
    alice.send(f"BATCH +234 {ML} #test")
    lines = alice.send(*["@batch=234 PRIVMSG #test " + "x" * 400] * 11)
    assert lines == [fail("MULTILINE_MAX_BYTES", "4096", ":Multiline batch max-bytes exceeded")]


def test_mismatched_target(core: CoreHarness) -> None:
    alice, _, _ = trio(core)
    alice.send("JOIN #bar")
    alice.take()
    assert alice.send(f"BATCH +4 {ML} #test", "@batch=4 PRIVMSG #bar hello") == [
        fail("MULTILINE_INVALID_TARGET", "#test", "#bar", ":Invalid multiline target")
    ]
    # the target is compared case-insensitively
    alice.send(
        "BATCH -4", f"BATCH +5 {ML} #test", "@batch=5 PRIVMSG #TEST :x", "@batch=5 PRIVMSG #test :y"
    )
    assert alice.send("BATCH -5")[0].endswith(f"BATCH +batch1 {ML} #test")


def test_mixed_verbs_and_other_commands_are_invalid(core: CoreHarness) -> None:
    alice, _, _ = trio(core)
    text = ":A multiline batch holds only PRIVMSG or only NOTICE lines"
    assert alice.send(
        f"BATCH +m {ML} #test", "@batch=m PRIVMSG #test a", "@batch=m NOTICE #test b"
    ) == [fail("MULTILINE_INVALID", text)]
    alice.send("BATCH -m")
    assert alice.send(f"BATCH +t {ML} #test", "@batch=t TAGMSG #test") == [
        fail("MULTILINE_INVALID", text)
    ]


def test_line_outside_the_batch_ends_it_and_runs(core: CoreHarness) -> None:
    alice, bob, _ = trio(core)
    alice.send(f"BATCH +o {ML} #test", "@batch=o PRIVMSG #test a")
    lines = alice.send("PING x")
    assert lines == [
        fail("MULTILINE_INVALID", ":The multiline batch was never closed"),
        ":irc.test PONG irc.test :x",
    ]
    assert alice.session.multiline is None
    assert bob.take() == []


def test_nested_batch_is_invalid(core: CoreHarness) -> None:
    alice, _, _ = trio(core)
    assert alice.send(f"BATCH +o {ML} #test", f"BATCH +p {ML} #test") == [
        fail("MULTILINE_INVALID", ":Batches cannot be nested")
    ]
    # after a refusal a new batch may open
    alice.send(f"BATCH +q {ML} #test", "@batch=q PRIVMSG #test a", "@batch=q PRIVMSG #test b")
    assert alice.send("BATCH -q")[0].endswith(f"BATCH +batch1 {ML} #test")


def test_opening_refusals(core: CoreHarness) -> None:
    alice, _, charlie = trio(core)
    cases = [
        ("BATCH -9", "No such batch is open"),
        ("BATCH 9 draft/multiline #test", "Invalid batch reference"),
        ("BATCH +9 chathistory #test", "Only draft/multiline batches can be sent"),
        ("BATCH +9 draft/multiline", "A multiline batch needs exactly one target"),
    ]
    for line, text in cases:
        assert alice.send(line) == [fail("MULTILINE_INVALID", f":{text}")]
    assert alice.send(f"BATCH +9 {ML} NickServ") == [
        fail("MULTILINE_INVALID_TARGET", "NickServ", "NickServ", ":Invalid multiline target")
    ]
    assert alice.send(f"BATCH +9 {ML} #a,#b") == [
        fail("MULTILINE_INVALID_TARGET", "#a,#b", "#a,#b", ":Invalid multiline target")
    ]
    assert charlie.send(f"BATCH +9 {ML} #test") == [
        fail("MULTILINE_INVALID", ":Negotiate draft/multiline and batch first")
    ]
    assert alice.send("BATCH") == [":irc.test 461 alice BATCH :Not enough parameters"]
    assert alice.session.multiline is None


def test_before_registration() -> None:
    core = CoreHarness()
    c = core.connect()
    assert c.send(f"BATCH +1 {ML} #test") == [":irc.test 451 * :You have not registered"]


def test_delivery_refusals_answer_the_batch(core: CoreHarness) -> None:
    alice = client(core, "alice", f"{BASE} {ML}")
    lines = alice.send(
        f"@label=n BATCH +1 {ML} nobody",
        "@batch=1 PRIVMSG nobody :a",
        "@batch=1 PRIVMSG nobody :b",
        "BATCH -1",
    )
    assert lines == ["@label=n :irc.test 401 alice nobody :No such nick/channel"]
    alice.send(f"BATCH +2 {ML} nobody", "@batch=2 NOTICE nobody :a", "@batch=2 NOTICE nobody :b")
    assert alice.send("BATCH -2") == []  # NOTICE: never an error reply


def test_message_to_oneself(core: CoreHarness) -> None:
    alice = client(core, "alice", f"{BASE} {ML}")
    alice.take()
    lines = alice.send(
        f"@label=s BATCH +1 {ML} alice",
        "@batch=1 PRIVMSG alice :a",
        "@batch=1 PRIVMSG alice :b",
        "BATCH -1",
    )
    # the delivered copy first, unlabelled; then the echo, labelled on its opening
    assert lines[0] == f"@time={TIME};msgid=msg1 {ALICE} BATCH +batch1 {ML} alice"
    assert lines[3] == f"{ALICE} BATCH -batch1"
    assert lines[4] == f"@time={TIME};msgid=msg1;label=s {ALICE} BATCH +batch2 {ML} alice"
    assert len(lines) == 8


# -- history -----------------------------------------------------------------------------


def test_stored_as_one_message_and_replayed(core: CoreHarness) -> None:
    alice, _, _ = trio(core)
    alice.send(*BASIC)
    stored = core.store.messages("#test")
    assert [m.text for m in stored] == ["hello\n#how is \n\reveryone?"]
    late = client(core, "late", f"batch server-time message-tags {ML}")
    lines = late.send("JOIN #test")
    start = lines.index(":irc.test BATCH +batch2 chathistory #test")
    assert lines[start + 1 : start + 7] == [
        f"@time={TIME};msgid=msg4;batch=batch2 {ALICE} BATCH +batch3 {ML} #test",
        f"@batch=batch3 {ALICE} PRIVMSG #test :hello",
        f"@batch=batch3 {ALICE} PRIVMSG #test :#how is ",
        f"@batch=batch3;draft/multiline-concat {ALICE} PRIVMSG #test :everyone?",
        f"@batch=batch2 {ALICE} BATCH -batch3",
        ":irc.test BATCH -batch2",
    ]
    old = core.register("old")
    lines = old.send("JOIN #test")
    start = lines.index(":irc.test NOTICE #test :*** recent history: 1 message(s) follow")
    assert lines[start + 1 : start + 5] == [
        f"{ALICE} PRIVMSG #test :[2023-11-14 22:13:20] hello",
        f"{ALICE} PRIVMSG #test :#how is ",
        f"{ALICE} PRIVMSG #test :everyone?",
        ":irc.test NOTICE #test :*** end of recent history",
    ]


def test_chathistory_and_inbox(core: CoreHarness) -> None:
    alice = client(core, "alice", f"{BASE} {ML} draft/chathistory")
    alice.send("REGISTER * * alice-password")
    bob = client(core, "bob", f"batch {ML}")
    bob.send("REGISTER * * bob-password")
    bob.send("QUIT")
    alice.take()
    alice.send(
        f"BATCH +1 {ML} bob",
        "@batch=1 PRIVMSG bob :first",
        "@batch=1 PRIVMSG bob :second",
        "BATCH -1",
    )
    lines = alice.send("CHATHISTORY LATEST bob * 10")
    assert lines[1].endswith(f"BATCH +batch3 {ML} bob")
    assert lines[2:4] == [
        f"@batch=batch3 {ALICE} PRIVMSG bob :first",
        f"@batch=batch3 {ALICE} PRIVMSG bob :second",
    ]
    # bob logs in later without the capability: the inbox delivers the lines
    later = client(core, "bob", "")
    unread = later.send("PRIVMSG NickServ :IDENTIFY bob-password")
    start = unread.index(":irc.test NOTICE bob :*** unread messages: 1 message(s) follow")
    assert unread[start + 1 : start + 3] == [
        f"{ALICE} PRIVMSG bob :[2023-11-14 22:13:20] first",
        f"{ALICE} PRIVMSG bob :second",
    ]
    assert later.send("INBOX")[1:3] == unread[start + 1 : start + 3]


# -- flood control -------------------------------------------------------------------------


def test_flood_control_lets_a_batch_through_whole_then_charges_its_lines() -> None:
    core = CoreHarness(flood_enabled=True, flood_burst=5, flood_rate=1.0, flood_backlog=50)
    alice = client(core, "alice", f"batch {ML}", "#test")
    bob = client(core, "bob", f"batch {ML}", "#test")
    core.clock.now += 10  # full buckets
    alice.take()
    bob.take()
    # 10 lines in a batch: more than the burst, yet delivered at once, whole
    lines = [f"@batch=f PRIVMSG #test :{n}" for n in range(10)]
    alice.send(f"BATCH +f {ML} #test", *lines, "BATCH -f")
    assert len(bob.take()) == 12
    # the opening and the closing took a token each, the ten lines ten more: 5 - 12 = -7
    assert alice.session.flood_tokens == -7
    assert alice.send("PING :x") == []  # waits for the bucket to refill
    assert core.server.release_held(core.clock.now) == 8.0
    core.clock.now += 8
    core.server.release_held(core.clock.now)
    core.deliver()
    assert alice.take() == [":irc.test PONG irc.test :x"]


def test_a_refused_batch_is_charged_and_its_dropped_lines_cost_tokens() -> None:
    core = CoreHarness(
        flood_enabled=True, flood_burst=5, flood_rate=1.0, flood_backlog=50, multiline_max_lines=2
    )
    alice = client(core, "alice", f"batch {ML}", "#test")
    core.clock.now += 10
    alice.take()
    alice.send(f"BATCH +f {ML} #test", *["@batch=f PRIVMSG #test :x"] * 3)
    assert alice.session.flood_tokens == 5 - 1 - 2  # the opening, then the two lines taken
    alice.send("@batch=f PRIVMSG #test :x")  # refused batch: this line is not free
    assert alice.session.flood_tokens == 1
