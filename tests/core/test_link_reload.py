"""Reloading the configuration with links open (core.s2s.reconfigure): a link whose
`[[links]]` block is gone is closed as a split, one whose block stays (changed or not)
goes on untouched."""

from __future__ import annotations

import dataclasses

from harness import CoreHarness
from miniircd.config import LinkBlock

HUB = LinkBlock("hub.test", send_password="leaf-to-hub", accept_password="hub-to-leaf")
OTHER = LinkBlock("other.test", send_password="a", accept_password="b")
HUB_LINES = (
    ":hub.test PASS hub-to-leaf 0210-IRC+ ngIRCd|26.1:CHLMSXZ PZ",
    ":hub.test SERVER hub.test 1 :test hub",
    ":hub.test 005 irc.test NICKLEN=30 CASEMAPPING=ascii :are supported on this server",
    ":hub.test 376 irc.test :End of MOTD command",
    ":hub.test NICK bob 1 ~b 10.0.0.2 1 + :Bob",
    ":hub.test NJOIN #room :bob",
    ":hub.test PING :hub.test",
)


def test_a_removed_block_closes_its_link_as_a_split() -> None:
    core = CoreHarness(links=(HUB, OTHER))
    alice = core.register("alice")
    alice.send("JOIN #room")
    peer = core.link()
    peer.take()
    peer.send(*HUB_LINES)
    alice.take()
    core.server.rehash(core.server.config.replace(links=(OTHER,)), "SIGHUP", core.clock.now)
    assert peer.take() == [":irc.test ERROR :Link removed from the configuration"]
    assert alice.take() == [":bob!~b@10.0.0.2 QUIT :irc.test hub.test"]
    assert core.server.state.links == {} and core.server.state.find_user("bob") is None


def test_a_kept_or_changed_block_leaves_its_link_alone() -> None:
    core = CoreHarness(links=(HUB,))
    alice = core.register("alice")
    peer = core.link()
    peer.take()
    peer.send(*HUB_LINES)
    alice.take()
    changed = dataclasses.replace(HUB, port=7000, retry=1.0)
    core.server.rehash(core.server.config.replace(links=(changed,)), "SIGHUP", core.clock.now)
    assert peer.take() == [] and alice.take() == []
    assert core.server.state.find_user("bob") is not None
    assert peer.link.id in core.server.state.links
    alice.send("PRIVMSG bob :still here")
    assert peer.take() == [":alice PRIVMSG bob :still here"]


def test_a_link_still_in_its_handshake_is_closed_too() -> None:
    core = CoreHarness(links=(HUB,))
    peer = core.link()
    peer.take()
    core.server.rehash(core.server.config.replace(links=()), "SIGHUP", core.clock.now)
    assert peer.take() == [":irc.test ERROR :Link removed from the configuration"]
    assert core.server.state.links == {}
