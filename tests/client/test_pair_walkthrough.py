"""The walkthrough of docs/client.md, replayed: the real client on the real core (`Pair`)
shows, line for line, the two terminals the documentation shows."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pair import Pair, Terminal

DOC = Path(__file__).parents[2] / "docs" / "client.md"
WHEN = datetime(2026, 11, 24, 13, 17, tzinfo=UTC).timestamp()  # the walkthrough's time


def documented(first_line: str) -> list[str]:
    """The code block of docs/client.md that starts with `first_line`, less that line."""
    for fence in re.finditer(r"^```\w*\n(.*?)^```$", DOC.read_text(), re.S | re.M):
        lines = fence.group(1).splitlines()
        if lines and lines[0] == first_line:
            return lines[1:]
    raise LookupError(first_line)


class Screen:
    """A terminal's screen as the documentation shows it: prompts with what was typed."""

    def __init__(self, terminal: Terminal) -> None:
        self.terminal = terminal
        self.lines = list(terminal.screen)  # the greeting

    def type(self, text: str, echo: bool = True) -> None:
        self.lines += self.terminal.take()  # what arrived while the user did nothing
        if echo:
            self.lines.append(self.terminal.session.prompt() + text)
        self.lines += self.terminal.type(text)

    def waiting(self) -> list[str]:
        """The lines so far, then the prompt the user is left at."""
        return [*self.lines, *self.terminal.take(), self.terminal.session.prompt().rstrip()]


def test_the_walkthrough_of_the_documentation() -> None:
    pair = Pair()
    pair.core.clock.now = WHEN
    address = "127.0.0.1:6680"
    bob = Screen(pair.terminal("guest4114"))
    alice = Screen(pair.terminal("guest9556"))
    bob.type(f"/connect {address}", echo=False)  # `miniircd-client 127.0.0.1:6680`
    for text in ["/register bob bobsecret1", "/create #news"]:
        bob.type(text)
    bob.type("The paper is out: miniircd ships a client.")
    for text in [f"/connect {address}", "/register alice secretpw1", "/create #lobby"]:
        alice.type(text)
    for text in ["/create #lobby", "/rooms", "/join #nowhere", "/join #news"]:
        alice.type(text)
    alice.type("Congratulations!")
    bob.type("Thanks, alice.")
    for text in ["/switch #lobby", "Anyone here?", "/history #news 5", "/members #news"]:
        alice.type(text)
    alice.type("/msg bob See you in #lobby later")
    bob.type("/msg alice OK!")
    for text in ["/leave #lobby", "/disconnect"]:
        alice.type(text)
    bob.type("/msg alice Are you still there?")
    for text in [f"/connect {address}", "/login alice wrongpass", "/login alice secretpw1"]:
        alice.type(text)
    for text in ["/inbox", "/logout", "/exit"]:
        alice.type(text)

    assert alice.lines == documented("$ miniircd-client")
    assert bob.waiting() == documented(f"$ miniircd-client {address}")
