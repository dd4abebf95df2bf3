"""Real sockets: INVITE, bans and other channel modes, and the lists in the burst, between
Debian's ngIRCd as a hub and a miniircd leaf (docs/linking.md, core.s2s_channels)."""

from __future__ import annotations

from pathlib import Path

import pytest

from linknet import wait_sees
from liveserver import LineClient, LiveServer
from ngircd import NGIRCD, NgircdHub, doc_block, start_leaf, wait_linked

pytestmark = pytest.mark.skipif(NGIRCD is None, reason="needs ngircd (apt-get install ngircd)")


def hub_and_leaf(tmp_path: Path) -> tuple[NgircdHub, LiveServer]:
    """The hub and the leaf exactly as docs/linking.md configures them (ports aside)."""
    hub = NgircdHub(tmp_path / "hub", doc_block("hub-config"))
    hub.start()
    leaf = start_leaf(tmp_path, "leaf.test", "127.0.0.2", hub, doc_block("leaf-config"))
    return hub, leaf


def test_invitations_both_ways_let_the_guest_past_invite_only(tmp_path: Path) -> None:
    hub, leaf = hub_and_leaf(tmp_path)
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    leafy = leaf.client("leafy")
    wait_sees(leafy, "hubby")  # ngIRCd has told the leaf of hubby: the PM below can reach it
    leafy.send("JOIN #here", "MODE #here +i", "PRIVMSG hubby :ready")
    hubby.expect(r"^:leafy!\S+ PRIVMSG hubby :ready$")  # the link keeps the order
    hubby.send("JOIN #here")
    hubby.expect(r" 473 hubby #here ")  # ngIRCd knows #here is +i
    leafy.send("INVITE hubby #here")
    leafy.expect(r"^:hub\.test 341 leafy hubby :?#here$")  # ngIRCd answers (as :hubby)
    hubby.expect(r"^:leafy!~leafy@127\.0\.0\.1 INVITE hubby :?#here$")
    hubby.send("JOIN #here")
    leafy.expect(r"^:hubby!~hubby@127\.0\.0\.1 JOIN #here$")
    # and the other way: an op on the hub invites a user of the leaf into its +i channel
    other = leaf.client("other")
    hubby.send("JOIN #there", "MODE #there +i", "PRIVMSG other :ready")
    other.expect(r"^:hubby!\S+ PRIVMSG other :ready$")
    other.send("JOIN #there")
    other.expect(r" 473 other #there ")  # the leaf knows #there is +i
    hubby.send("INVITE other #there")
    hubby.expect(r" 341 hubby other :?#there$")  # the leaf answered
    other.expect(r"^:hubby!~hubby@127\.0\.0\.1 INVITE other #there$")
    other.send("JOIN #there")
    other.expect(r"^:other!~other@127\.0\.0\.1 JOIN #there$")
    hubby.expect(r"^:other!~other@127\.0\.0\.1 JOIN :?#there$")


def test_bans_and_modes_cross_the_link_and_come_with_the_burst(tmp_path: Path) -> None:
    hub, leaf = hub_and_leaf(tmp_path)
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    leafy = leaf.client("leafy")
    leafy.send("JOIN #room")
    leafy.expect(r" 366 leafy #room ")
    hubby.send("JOIN #room")
    leafy.expect(r"^:hubby!\S+ JOIN #room$")
    hubby.expect(r" 366 hubby #room ")
    hubby.send("MODE #room")  # the leaf told the hub the modes of the channel it opened
    hubby.expect(r" 324 hubby #room \+nt")
    hubby.send("AWAY :back soon", "MODE hubby +i", "PRIVMSG leafy :sync")
    leafy.expect(r"^:hubby!\S+ PRIVMSG leafy :sync$")  # the link keeps the order
    leafy.send("WHO #room")  # ngIRCd carries AWAY as MODE +a, without its text
    leafy.expect(r"^:leaf\.test 352 leafy #room ~hubby 127\.0\.0\.1 hub\.test hubby G :1 hubby$")
    leafy.send("AWAY :afk", "PRIVMSG hubby :sync")
    hubby.expect(r"^:leafy!\S+ PRIVMSG hubby :sync$")
    hubby.send("WHO #room")
    hubby.expect(r" 352 hubby #room ~leafy 127\.0\.0\.1 leaf\.test leafy G@ ")
    leafy.send("MODE #room +b hubby!*@*")
    hubby.expect(r"^:leafy!\S+ MODE #room \+b hubby!\*@\*$")
    hubby.send("PRIVMSG #room :can I speak")
    hubby.expect(r" 404 hubby #room ")  # ngIRCd applies our ban
    leafy.send("MODE #room -b+o hubby!*@* hubby")
    hubby.expect(r"^:leafy!\S+ MODE #room -b hubby!\*@\*$")  # ngIRCd: a line per mask
    hubby.expect(r"^:leafy!\S+ MODE #room \+o hubby$")
    hubby.send("MODE #room +bkm bad!*@* sekrit")
    leafy.expect(r"^:hubby!~hubby@127\.0\.0\.1 MODE #room \+b bad!\*@\*$")
    leafy.expect(r"^:hubby!~hubby@127\.0\.0\.1 MODE #room \+km sekrit$")
    leafy.send("MODE #room b")
    leafy.expect(r"^:leaf\.test 367 leafy #room bad!\*@\* hubby!~hubby@127\.0\.0\.1 :\d+$")
    leafy.send("MODE #room")
    leafy.expect(r"^:leaf\.test 324 leafy #room \+kmnt :?sekrit$")
    # a banned user of the leaf is kept out by the leaf
    bad = leaf.client("bad")
    bad.send("JOIN #room sekrit")
    bad.expect(r" 474 bad #room ")
    # the hub restarts: its burst brings #room back with hubby, and our burst tells it the
    # list and modes it lost (ngIRCd's L flag: one MODE line per mask)
    hub.stop()
    leafy.expect(r"^:hubby!\S+ QUIT :leaf\.test hub\.test$")
    leafy.send("MODE #room +e good!*@*")
    leafy.expect(r"^:leafy!\S+ MODE #room \+e good!\*@\*$")
    hub.start()
    wait_linked(leaf, 2)
    again = LineClient(hub.port, hub.host)
    again.register("again")
    again.send("JOIN #room sekrit", "MODE #room b", "MODE #room e")
    again.expect(r" 367 again #room bad!\*@\* leaf\.test ")
    again.expect(r" 348 again #room good!\*@\* leaf\.test ")
