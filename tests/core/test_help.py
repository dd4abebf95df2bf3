"""Transcript tests for HELP and HELPOP (704-706, 524), and the help texts' coverage."""

from __future__ import annotations

import pytest

from harness import CoreHarness
from miniircd.core import help as help_texts
from miniircd.core.dispatch import COMMANDS


def numerics(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines]


# -- the texts -------------------------------------------------------------------------------


def test_every_command_has_help_and_every_help_a_command() -> None:
    assert sorted(set(COMMANDS) - set(help_texts.TEXTS)) == [], "commands without help"
    assert sorted(set(help_texts.TEXTS) - set(COMMANDS)) == [], "help for no command"


@pytest.mark.parametrize("verb", sorted(help_texts.TEXTS))
def test_each_text_is_a_syntax_line_and_a_description(verb: str) -> None:
    syntax, *body = help_texts.TEXTS[verb]
    assert syntax.split()[0] == verb
    assert body, f"{verb} has only its syntax"
    for line in (syntax, *body):
        assert line and line == line.strip(), (verb, line)
        assert len(line.encode()) <= 100, (verb, line)  # fits a numeric, reads on a screen


# -- HELP without a subject ------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["HELP", "HELPOP", "help"])
def test_no_subject_lists_every_command(core: CoreHarness, verb: str) -> None:
    alice = core.register("alice")
    lines = alice.send(verb)
    kinds = numerics(lines)
    assert kinds[0] == "704" and kinds[-1] == "706"
    assert set(kinds[1:-1]) == {"705"}
    assert all(line.split()[2:4] == ["alice", "*"] for line in lines)
    assert lines[:3] == [
        ":irc.test 704 alice * :miniircd help",
        ":irc.test 705 alice * :",  # the first 705 is empty, as modern.ircdocs.horse asks
        ":irc.test 705 alice * :HELP <command> explains one of these commands:",
    ]
    listed = " ".join(line.split(" :", 1)[1] for line in lines[3:-1]).split()
    assert listed == sorted(COMMANDS)
    assert lines[-1] == (
        ":irc.test 706 alice * :The services have their own: /msg NickServ HELP, "
        "/msg ChanServ HELP, /msg MemoServ HELP."
    )


def test_an_empty_subject_is_no_subject(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("HELP :") == alice.send("HELP")


# -- HELP <subject> --------------------------------------------------------------------------


def test_subject_is_answered_with_its_text_and_echoed_as_given(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("HELP PrivMsg") == [
        ":irc.test 704 alice PrivMsg :PRIVMSG <target>{,<target>} :<text>",
        ":irc.test 705 alice PrivMsg :",
        ":irc.test 705 alice PrivMsg :Sends a message to channels, nicks or account names "
        "(at most TARGMAX targets).",
        ":irc.test 705 alice PrivMsg :To an account with nobody logged in, it waits in the "
        "account's inbox.",
        ":irc.test 706 alice PrivMsg :@#channel reaches only its operators, +#channel its "
        "voiced members and ops.",
    ]


def test_a_one_line_text_still_starts_and_ends(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("HELP ping") == [
        ":irc.test 704 alice ping :PING <token>",
        ":irc.test 705 alice ping :",
        ":irc.test 706 alice ping :The server answers PONG with the same token.",
    ]


def test_helpop_answers_as_help(core: CoreHarness) -> None:
    alice = core.register("alice")
    for subject in ("WALLOPS", "links", "nosuchthing"):
        assert alice.send(f"HELPOP {subject}") == alice.send(f"HELP {subject}")


def test_unknown_subject_is_524(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("HELP THISISNOTACOMMAND") == [
        ":irc.test 524 alice THISISNOTACOMMAND :No help available on this topic"
    ]
    assert alice.send("HELPOP nickserv") == [
        ":irc.test 524 alice nickserv :No help available on this topic"
    ]
    dotless = "\u0131nfo"  # str.upper() makes it INFO
    assert alice.send(f"HELP {dotless}") == [
        f":irc.test 524 alice {dotless} :No help available on this topic"
    ]


def test_a_subject_that_cannot_be_echoed_is_star(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("HELP :unknown subject") == [
        ":irc.test 524 alice * :No help available on this topic"
    ]
    assert alice.send("HELP ::x") == [":irc.test 524 alice * :No help available on this topic"]


def test_help_needs_registration(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("HELP") == [":irc.test 451 * :You have not registered"]
    assert client.send("HELPOP JOIN") == [":irc.test 451 * :You have not registered"]
