"""One client's lines are answered in the order it sent them, even when one waits on work
off the loop (a password check, REHASH); other clients are never held up by it."""

from __future__ import annotations

import base64

from harness import CoreClient, CoreHarness
from miniircd.config import Operator
from miniircd.store.passwords import hash_password

PW = "correct-horse"
FLOODY = {"flood_enabled": True, "flood_burst": 5, "flood_rate": 1.0, "flood_backlog": 10}


def verbs(lines: list[str]) -> list[str]:
    """Each line's verb (or numeric), tags and source skipped."""
    verbs = []
    for words in (line.split() for line in lines):
        while words[0][0] in "@:":
            del words[0]
        verbs.append(words[0])
    return verbs


def with_account(core: CoreHarness, nick: str) -> CoreClient:
    client = core.register(nick)
    assert client.send(f"REGISTER * * {PW}")[-1].startswith(":irc.test REGISTER SUCCESS")
    client.send("QUIT")
    return client


def held(core: CoreHarness) -> CoreHarness:
    core.hold_jobs = True
    return core


def test_register_is_answered_before_a_later_ping(core: CoreHarness) -> None:
    client = core.register("alice")
    lines = client.send(f"REGISTER * * {PW}", "PING :after")
    assert verbs(lines) == ["900", "REGISTER", "PONG"]


def test_later_lines_wait_for_the_job_and_others_do_not(core: CoreHarness) -> None:
    held(core)
    alice, bob = core.register("alice"), core.register("bob")
    assert alice.send(f"REGISTER * * {PW}", "PING :1", "PRIVMSG bob :hi", "PING :2") == []
    assert len(core.pending_jobs) == 1
    assert verbs(bob.send("PING :bob")) == ["PONG"]  # bob is not held up
    core.finish_jobs()
    assert verbs(alice.take()) == ["900", "REGISTER", "PONG", "PONG"]
    assert bob.take() == [":alice!~alice@127.0.0.1 PRIVMSG bob :hi"]
    assert alice.session.backlog is None  # back on the fast path
    assert verbs(alice.send("PING :3")) == ["PONG"]


def test_identify_then_join_with_accounts_required() -> None:
    core = CoreHarness(require_account=True)
    with_account(core, "alice")
    bot = held(core).register("alice")
    lines = bot.send(f"PRIVMSG NickServ :IDENTIFY {PW}", "JOIN #room")
    assert lines == []
    core.finish_jobs()
    lines = bot.take()
    assert verbs(lines)[:2] == ["900", "NOTICE"]  # logged in, NickServ says so
    assert ":alice!~alice@127.0.0.1 JOIN #room" in lines


def test_sasl_then_ping_in_order(core: CoreHarness) -> None:
    with_account(core, "alice")
    client = held(core).connect()
    payload = base64.b64encode(f"\0alice\0{PW}".encode()).decode()
    lines = client.send("CAP LS 302", "NICK alice", "USER alice 0 * :A", "CAP REQ :sasl")
    assert verbs(lines) == ["CAP", "CAP", "CAP"]  # LS takes two lines, then ACK
    lines = client.send("AUTHENTICATE PLAIN", f"AUTHENTICATE {payload}", "PING :x", "CAP END")
    assert lines == ["AUTHENTICATE +"]
    core.finish_jobs()
    assert verbs(client.take())[:4] == ["900", "903", "PONG", "001"]


def test_pass_login_then_ping_in_order(core: CoreHarness) -> None:
    with_account(core, "alice")
    client = held(core).connect()
    assert client.send(f"PASS alice:{PW}", "NICK alice", "USER alice 0 * :A", "PING :x") == []
    core.finish_jobs()
    lines = client.take()
    assert verbs(lines)[:2] == ["900", "001"]
    assert verbs(lines)[-1] == "PONG"  # after the whole welcome burst


def test_oper_then_ping_in_order() -> None:
    core = held(CoreHarness(operators=(Operator("admin", hash_password("pw")),)))
    client = core.register("admin")
    assert client.send("OPER admin pw", "PING :x") == []
    core.finish_jobs()
    assert verbs(client.take()) == ["381", "MODE", "PONG"]


def test_rehash_then_ping_in_order() -> None:
    core = CoreHarness(operators=(Operator("admin", hash_password("pw")),))
    client = core.register("admin")
    client.send("OPER admin pw")
    assert client.send("REHASH", "PING :x") == []  # the loop rereads the file at turn's end
    core.server.rehash(core.server.config, "test.toml", core.clock.now)
    core.deliver()
    assert verbs(client.take()) == ["382", "NOTICE", "PONG"]


def test_labels_stay_on_their_replies(core: CoreHarness) -> None:
    client = held(core).register("alice")
    client.send("CAP REQ :labeled-response batch")
    assert client.send(f"@label=r REGISTER * * {PW}", "@label=p PING :x") == []
    core.finish_jobs()
    lines = client.take()
    assert lines[0].startswith("@label=r :irc.test BATCH +")
    assert " 900 " in lines[1] and " REGISTER SUCCESS " in lines[2]
    assert lines[3].startswith(":irc.test BATCH -")
    assert lines[4] == "@label=p :irc.test PONG irc.test :x"


def test_quit_waits_for_the_job_and_the_lines_before_it(core: CoreHarness) -> None:
    held(core)
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #room")
    bob.send("JOIN #room")
    alice.take(), bob.take()
    lines = alice.send(f"REGISTER * * {PW}", "PRIVMSG #room :bye all", "QUIT :bye", "PING :x")
    assert lines == []
    core.finish_jobs()
    assert verbs(alice.take()) == ["900", "REGISTER", "ERROR"]  # nothing after the QUIT
    assert bob.take() == [
        ":alice!~alice@127.0.0.1 PRIVMSG #room :bye all",
        ":alice!~alice@127.0.0.1 QUIT :Quit: bye",
    ]
    assert core.store.get_account("alice") is not None
    assert alice.closed


def test_a_held_quit_that_is_refused_as_a_line_still_ends_the_session(
    core: CoreHarness,
) -> None:
    """Found by the random-input test: a QUIT with a NUL byte waited behind REGISTER, was
    then refused (400) and left the session ignoring every later line."""
    client = held(core).register("alice")
    assert client.send(f"REGISTER * * {PW}", "QUIT :\x00", "PING :x") == []
    core.finish_jobs()
    assert verbs(client.take()) == ["900", "REGISTER", "400", "ERROR"]
    assert client.closed


def test_quit_behind_flood_control_ends_the_session_at_once() -> None:
    core = CoreHarness(**FLOODY)
    client = core.register("alice")  # NICK and USER took two of the five tokens
    lines = client.send(*(f"PING :{n}" for n in range(6)), "QUIT :enough")
    assert lines[:3] == [f":irc.test PONG irc.test :{n}" for n in range(3)]
    assert lines[3:] == ["ERROR :Closing link: alice[127.0.0.1] (Quit: enough)"]
    assert client.closed


def test_a_flood_while_waiting_is_cut_off() -> None:
    core = held(CoreHarness(**FLOODY))
    client = core.register("alice")
    lines = client.send(f"REGISTER * * {PW}", *(f"PING :{n}" for n in range(50)))
    assert lines == ["ERROR :Closing link: alice[127.0.0.1] (Excess Flood)"]
    assert client.session.backlog is None  # nothing kept for a closed session


def test_the_backlog_bound_holds_without_flood_control(core: CoreHarness) -> None:
    """With flood control off a waiting client may still only queue so much."""
    client = held(core).register("alice")
    limit = core.server.config.flood_backlog
    assert client.send(f"REGISTER * * {PW}", *(["PING :x"] * limit)) == []
    assert client.send("PING :one-too-many") == [
        "ERROR :Closing link: alice[127.0.0.1] (Excess Flood)"
    ]


def test_after_the_job_the_backlog_still_pays_its_tokens() -> None:
    core = held(CoreHarness(**FLOODY))
    client = core.register("alice")  # NICK and USER took two of the five tokens
    lines = client.send(f"REGISTER * * {PW}", *(f"PING :{n}" for n in range(5)))
    assert lines == []
    core.finish_jobs()
    assert verbs(client.take()) == ["900", "REGISTER", "PONG", "PONG"]  # tokens 4 and 5
    core.clock.now += 1.0
    assert core.server.release_held(core.clock.now) == 1.0
    core.deliver()
    assert client.take() == [":irc.test PONG irc.test :2"]
