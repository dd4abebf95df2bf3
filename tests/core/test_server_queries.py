"""Transcript tests for LINKS (364/365) and the server target of INFO and the others."""

from __future__ import annotations

from harness import CoreHarness

LINKS_END = ":irc.test 365 alice * :End of /LINKS list"
ME = ":irc.test 364 alice irc.test irc.test :0 miniircd IRC server"


# -- LINKS -----------------------------------------------------------------------------------


def test_links_lists_this_server_alone(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("LINKS") == [ME, LINKS_END]


def test_links_shows_the_configured_description() -> None:
    core = CoreHarness(server_info="test server")
    alice = core.register("alice")
    assert alice.send("LINKS")[0] == ":irc.test 364 alice irc.test irc.test :0 test server"
    core = CoreHarness(network="ExampleNet")
    bob = core.register("bob")
    assert bob.send("LINKS")[0] == ":irc.test 364 bob irc.test irc.test :0 ExampleNet IRC server"


def test_links_mask_filters_case_insensitively(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("LINKS *.TEST") == [ME, ":irc.test 365 alice *.TEST :End of /LINKS list"]
    assert alice.send("LINKS irc.tes?") == [ME, ":irc.test 365 alice irc.tes? :End of /LINKS list"]
    assert alice.send("LINKS *.example.org") == [
        ":irc.test 365 alice *.example.org :End of /LINKS list"
    ]


def test_links_with_a_remote_server_and_a_mask(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("LINKS IRC.test *") == [ME, ":irc.test 365 alice * :End of /LINKS list"]
    assert alice.send("LINKS *.test nomatch") == [":irc.test 365 alice nomatch :End of /LINKS list"]
    assert alice.send("LINKS other.server *") == [
        ":irc.test 402 alice other.server :No such server"
    ]


def test_links_empty_mask_is_none_and_unusable_mask_is_star(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("LINKS :") == [ME, LINKS_END]
    assert alice.send("LINKS :a b") == [":irc.test 365 alice * :End of /LINKS list"]


def test_links_needs_registration(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("LINKS") == [":irc.test 451 * :You have not registered"]


# -- INFO (and the server target the other queries share) ------------------------------------


def test_info_is_371_lines_then_374(core: CoreHarness) -> None:
    alice = core.register("alice")
    lines = alice.send("INFO")
    assert {line.split()[1] for line in lines[:-1]} == {"371"}
    assert all(line.split()[2] == "alice" for line in lines)
    assert lines[-1] == ":irc.test 374 alice :End of INFO list"


def test_info_target_may_be_any_case_or_a_matching_mask(core: CoreHarness) -> None:
    alice = core.register("alice")
    expected = alice.send("INFO")
    for target in ("irc.test", "IRC.TEST", "*", "*.test", "irc.???t"):
        assert alice.send(f"INFO {target}") == expected, target
    assert alice.send("INFO invalid.server.example") == [
        ":irc.test 402 alice invalid.server.example :No such server"
    ]
    assert alice.send("INFO invalidserver") == [":irc.test 402 alice invalidserver :No such server"]
    assert alice.send("TIME IRC.Test")[0].startswith(":irc.test 391 alice irc.test ")
