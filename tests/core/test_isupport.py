"""The 005 tokens about modes and channel names say what the code enforces.

CHANMODES, PREFIX, BOT, CHANTYPES (and the mode and channel-type parts of MAXLIST and
CHANLIMIT) are built from the tables in core/commands/modes.py, core/channel.py (PREFIXES,
which modes.PREFIX_MODES is made from) and protocol/casemap.py: changing a table changes
the token, and every letter advertised is one MODE accepts, every other one it refuses.
"""

from __future__ import annotations

import string

import pytest

from harness import CoreClient, CoreHarness, plain_python_only
from miniircd.core import channel
from miniircd.core.commands import modes
from miniircd.protocol import casemap


def advertised(client_lines: list[str]) -> dict[str, str]:
    """The 005 tokens of a welcome burst, as KEY -> value ('' for a bare token)."""
    tokens: dict[str, str] = {}
    for line in client_lines:
        words = line.split(" ")
        if words[1] == "005":
            for token in words[3:]:
                if token.startswith(":"):
                    break
                key, _, value = token.partition("=")
                tokens[key] = value
    return tokens


@plain_python_only
def test_changing_a_table_changes_the_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(modes, "LIST_MODES", "beI")
    monkeypatch.setattr(modes, "KEY_MODES", "kK")
    monkeypatch.setattr(modes, "LIMIT_MODES", "lj")
    monkeypatch.setattr(modes, "FLAG_MODES", "imnstC")
    monkeypatch.setattr(channel, "PREFIXES", (("q", "~"), ("o", "@"), ("v", "+")))
    monkeypatch.setattr(modes, "BOT_MODE", "b")
    monkeypatch.setattr(casemap, "CHANNEL_TYPES", "#&")
    core = CoreHarness()
    tokens = core.server.isupport()
    assert tokens["CHANMODES"] == "beI,kK,lj,imnstC"
    assert tokens["PREFIX"] == "(qov)~@+"
    assert tokens["BOT"] == "b"
    assert tokens["CHANTYPES"] == "#&"
    assert tokens["CHANLIMIT"] == "#&:50"
    assert tokens["MAXLIST"] == "beI:100"
    sent = advertised(core.connect().send("NICK alice", "USER alice 0 * :Alice"))
    assert sent["CHANMODES"] == "beI,kK,lj,imnstC" and sent["PREFIX"] == "(qov)~@+"


def test_the_defaults() -> None:
    tokens = CoreHarness().server.isupport()
    assert tokens["CHANMODES"] == "beI,k,l,Cimnst"
    assert tokens["PREFIX"] == "(ov)@+"
    assert tokens["BOT"] == "B"
    assert tokens["CHANTYPES"] == "#"
    assert tokens["MAXLIST"] == "beI:100"
    assert (tokens["EXCEPTS"], tokens["INVEX"]) == ("e", "I")
    assert (tokens["EXTBAN"], tokens["ACCOUNTEXTBAN"]) == ("$,am", "a")
    assert tokens["STATUSMSG"] == "@+"


def _mode_reply(client: CoreClient, target: str, letter: str, param: str | None) -> list[str]:
    return client.send(f"MODE {target} +{letter}" + (f" {param}" if param else ""))


def test_mode_accepts_exactly_the_advertised_channel_modes(core: CoreHarness) -> None:
    alice = core.connect()
    tokens = advertised(alice.send("NICK alice", "USER alice 0 * :Alice"))
    bob = core.register("bob")
    lists, always, when_set, flags = tokens["CHANMODES"].split(",")
    prefix_modes, symbols = tokens["PREFIX"][1:].split(")")
    channel = tokens["CHANTYPES"][0] + "room"
    alice.send(f"JOIN {channel}")
    bob.send(f"JOIN {channel}")
    params = {letter: "x!*@*" for letter in lists}
    params |= {letter: "secret" for letter in always}
    params |= {letter: "10" for letter in when_set}
    params |= {letter: "bob" for letter in prefix_modes}
    params |= {letter: None for letter in flags}
    for letter, param in params.items():
        replies = _mode_reply(alice, channel, letter, param)
        assert not any(" 472 " in line for line in replies), (letter, replies)
    for letter in set(string.ascii_letters) - set(params):
        assert _mode_reply(alice, channel, letter, None) == [
            f":irc.test 472 alice {letter} :is unknown mode char to me"
        ]
    # each prefix mode shows as its advertised symbol, highest first
    names = alice.send(f"NAMES {channel}")[0]
    assert names.endswith(f":@alice {symbols[0]}bob")


def test_the_advertised_bot_mode_is_the_user_mode_that_marks_a_bot(core: CoreHarness) -> None:
    alice = core.connect()
    bot = advertised(alice.send("NICK alice", "USER alice 0 * :Alice"))["BOT"]
    assert alice.send(f"MODE alice +{bot}") == [f":alice MODE alice +{bot}"]
    assert " 335 alice alice " in " ".join(alice.send("WHOIS alice"))
