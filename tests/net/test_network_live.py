"""Real sockets: the network commands across Debian's ngIRCd as the hub with miniircd
leaves, each on its own 127.0.0.x (docs/linking.md "Operators and the network"): LINKS,
MAP, WHOIS asked of another server, CONNECT and SQUIT (here and asked of the hub)."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveserver import LineClient, LiveServer
from miniircd.store.passwords import hash_password
from ngircd import (
    NGIRCD,
    NgircdHub,
    doc_block,
    free_port,
    leaf_block,
    start_leaf,
    wait_linked,
)

pytestmark = pytest.mark.skipif(NGIRCD is None, reason="needs ngircd (apt-get install ngircd)")

OPERATOR = f'\n[[operators]]\nname = "admin"\npassword_hash = "{hash_password("pw")}"\n'


def hub_config() -> str:
    """The hub of docs/linking.md, letting remote operators act on it."""
    return doc_block("hub-config").replace("[Options]\n", "[Options]\n\tAllowRemoteOper = yes\n")


def network(tmp_path: Path) -> tuple[NgircdHub, LiveServer, LiveServer]:
    """The hub of docs/linking.md (letting remote operators act on it), leaf.test on
    127.0.0.2 with an operator `admin`, and two.test on 127.0.0.3."""
    config = hub_config()
    hub = NgircdHub(tmp_path / "hub", config + leaf_block("two.test"))
    hub.start()
    toml = doc_block("leaf-config") + OPERATOR
    leaf = start_leaf(tmp_path, "leaf.test", "127.0.0.2", hub, toml)
    two_toml = doc_block("leaf-config").replace("leaf.test", "two.test")
    two_toml = two_toml.replace("127.0.0.2", "127.0.0.3")
    two = start_leaf(tmp_path, "two.test", "127.0.0.3", hub, two_toml)
    return hub, leaf, two


def together(leafy: LineClient, bob: LineClient) -> None:
    """leafy and bob in #room, each having seen the other there."""
    leafy.send("OPER admin pw", "JOIN #room")
    leafy.expect(r" 381 leafy ")
    bob.send("JOIN #room")
    leafy.expect(r"^:bob!\S+ JOIN #room$")


def seen_by(client: LineClient, nick: str) -> None:
    """Wait until `client`'s server knows `nick` (its NICK came through the hub)."""
    for _ in range(100):
        client.send(f"ISON {nick}")
        if client.expect(r" 303 ").endswith(f":{nick}"):
            return
    raise AssertionError(f"{nick} never showed up")


def test_links_map_and_whois_across_the_network(tmp_path: Path) -> None:
    hub, leaf, two = network(tmp_path)
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    bob = two.client("bob")
    leafy = leaf.client("leafy")
    seen_by(leafy, "bob")
    seen_by(leafy, "hubby")
    leafy.send("LINKS")
    assert leafy.lines_until(r" 365 ") == [
        ":leaf.test 364 leafy leaf.test leaf.test :0 a miniircd leaf",
        ":leaf.test 364 leafy hub.test leaf.test :1 the hub",
        ":leaf.test 364 leafy two.test hub.test :2 a miniircd leaf",
        ":leaf.test 365 leafy * :End of /LINKS list",
    ]
    leafy.send("MAP")
    assert leafy.lines_until(r" 007 ") == [
        ":leaf.test 006 leafy :leaf.test     users: 1",
        ":leaf.test 006 leafy :`-hub.test    users: 1",
        ":leaf.test 006 leafy :  `-two.test  users: 1",
        ":leaf.test 007 leafy :End of /MAP",
    ]
    # the hub's own answer, idle time included
    leafy.send("WHOIS hub.test hubby")
    assert leafy.expect(r" 317 ").startswith(":hub.test 317 leafy hubby ")
    leafy.expect(r"^:hub\.test 318 leafy hubby ")
    # two.test answers through the hub: another miniircd answering a peer's WHOIS
    leafy.send("WHOIS bob bob")
    lines = leafy.lines_until(r" 318 ")
    assert lines[0] == ":two.test 311 leafy bob ~bob 127.0.0.1 * :bob"
    assert ":two.test 312 leafy bob two.test :a miniircd leaf" in lines
    assert any(line.startswith(":two.test 317 leafy bob ") for line in lines)
    # and the hub's user asks the leaf
    hubby.send("WHOIS leaf.test leafy")
    assert hubby.expect(r" 317 ").startswith(":leaf.test 317 hubby leafy ")
    leafy.send("WHOIS nowhere.test bob")
    leafy.expect(r"^:leaf\.test 402 leafy nowhere\.test :No such server$")
    bob.send("QUIT")


def test_squit_then_connect_brings_the_link_back(tmp_path: Path) -> None:
    hub, leaf, two = network(tmp_path)
    bob = two.client("bob")
    leafy = leaf.client("leafy")
    together(leafy, bob)
    leafy.send("SQUIT hub.test :maintenance")
    leafy.expect(r"^:bob!~bob@127\.0\.0\.1 QUIT :leaf\.test hub\.test$")
    hub.wait_for(r"leaf\.test.*maintenance \(SQUIT from leafy\)")
    leafy.send("LINKS")
    assert leafy.lines_until(r" 365 ")[:-1] == [
        ":leaf.test 364 leafy leaf.test leaf.test :0 a miniircd leaf"
    ]
    leafy.send("CONNECT hub.test")
    leafy.expect(r"^:leaf\.test NOTICE leafy :\*\*\* CONNECT: Connecting to hub\.test ")
    wait_linked(leaf, 2)
    leafy.expect(r"^:bob!\S+ JOIN #room$")  # the bursts meet again
    leafy.send("CONNECT hub.test")
    leafy.expect(r"^:leaf\.test NOTICE leafy :\*\*\* CONNECT: Server hub\.test is already linked$")
    bob.send("QUIT")


def test_squit_of_a_server_behind_the_hub(tmp_path: Path) -> None:
    _, leaf, two = network(tmp_path)
    bob = two.client("bob")
    leafy = leaf.client("leafy")
    together(leafy, bob)
    leafy.send("SQUIT two.test :go away")  # the hub closes its link with two.test
    leafy.expect(r"^:bob!~bob@127\.0\.0\.1 QUIT :hub\.test two\.test$")
    bob.expect(r"^:leafy!~leafy@127\.0\.0\.1 QUIT :two\.test \S+\.test$")  # two.test split


def test_connect_dials_a_block_that_waits(tmp_path: Path) -> None:
    config = doc_block("hub-config")
    hub = NgircdHub(tmp_path / "hub", config)
    hub.start()
    directory = tmp_path / "leaf.test"
    directory.mkdir()
    toml = doc_block("leaf-config").replace("connect = true", "connect = false")
    toml = toml.replace("port = 6667", f"port = {hub.port}") + OPERATOR
    (directory / "leaf.toml").write_text(toml)
    args = ("--config", str(directory / "leaf.toml"))
    leaf = LiveServer(directory, *args, host="127.0.0.2", name="leaf.test")
    leaf.start()
    leafy = leaf.client("leafy")
    leafy.send("OPER admin pw", "LINKS")
    assert leafy.lines_until(r" 365 ")[-2].startswith(":leaf.test 364 leafy leaf.test ")
    leafy.send("CONNECT hub.test")
    leafy.expect(r"CONNECT: Connecting to hub\.test \(127\.0\.0\.1:\d+\)$")
    wait_linked(leaf)
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    seen_by(leafy, "hubby")


def test_connect_asks_the_hub_to_dial_another_server(tmp_path: Path) -> None:
    port = free_port("127.0.0.4")
    three_block = (
        f"[Server]\n\tName = three.test\n\tHost = 127.0.0.4\n\tPort = {port}\n"
        "\tMyPassword = leaf-to-hub\n\tPeerPassword = hub-to-leaf\n\tPassive = yes\n"
    )
    config = hub_config()
    hub = NgircdHub(tmp_path / "hub", config + three_block)
    hub.start()
    leaf = start_leaf(tmp_path, "leaf.test", "127.0.0.2", hub, doc_block("leaf-config") + OPERATOR)
    directory = tmp_path / "three.test"
    directory.mkdir()
    toml = doc_block("leaf-waits-config").replace("leaf.test", "three.test")
    (directory / "three.toml").write_text(toml.replace("127.0.0.2", "127.0.0.4"))
    args = ("--config", str(directory / "three.toml"), "--port", str(port))
    three = LiveServer(directory, *args, host="127.0.0.4", name="three.test")
    three.start()
    leafy = leaf.client("leafy")
    leafy.send("OPER admin pw")
    leafy.expect(r" 381 leafy ")
    leafy.send(f"CONNECT three.test {port} hub.test")
    wait_linked(three)
    carol = three.client("carol")
    seen_by(leafy, "carol")
    leafy.send("LINKS")
    assert leafy.lines_until(r" 365 ")[-2] == (
        ":leaf.test 364 leafy three.test hub.test :2 miniircd IRC server"
    )
    carol.send("QUIT")
