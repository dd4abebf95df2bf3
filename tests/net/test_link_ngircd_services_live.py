"""Real sockets: a miniircd services hub linked to Debian's ngIRCd shows it NickServ,
ChanServ and MemoServ, and a user on ngIRCd leaves a message for an account that is
offline everywhere with `/msg MemoServ SEND` (docs/linking.md "Services for ngIRCd's
users")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from liveserver import DEADLINE, LineClient
from ngircd import NGIRCD, NgircdHub, doc_block, start_leaf

pytestmark = pytest.mark.skipif(NGIRCD is None, reason="needs ngircd (apt-get install ngircd)")

PW = "correct-horse"


def wait_whois(client: LineClient, nick: str, pattern: str) -> str:
    """`nick`'s WHOIS line matching `pattern`, once the link has brought it."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        client.send(f"WHOIS {nick}")
        lines = client.lines_until(r" 318 ")
        found = [line for line in lines if pattern in line]
        if found:
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"{nick} never showed {pattern!r}")


def test_a_user_on_ngircd_leaves_a_memo_for_an_offline_account(tmp_path: Path) -> None:
    config = doc_block("hub-config") + doc_block("service-mask-config")
    hub = NgircdHub(tmp_path / "hub", config)
    hub.start()
    toml = doc_block("leaf-config") + doc_block("services-hub-config")
    leaf = start_leaf(tmp_path, "leaf.test", "127.0.0.2", hub, toml)
    alice = leaf.client("alice")
    alice.send(f"REGISTER * * {PW}")
    alice.expect(r" REGISTER SUCCESS alice ")
    alice.send("QUIT")
    alice.expect_closed()
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    # ngIRCd knows MemoServ as a service of leaf.test (its ServiceMask)
    assert " MemoServ services * :Memo services" in wait_whois(hubby, "MemoServ", " 311 ")
    assert wait_whois(hubby, "MemoServ", " 310 ").endswith(" MemoServ :is an IRC service")
    hubby.send("PRIVMSG alice :hello?")  # ngIRCd's own answer: no such nick
    hubby.expect(r"^:hub\.test 401 hubby alice ")
    hubby.send("PRIVMSG MemoServ :SEND alice hello from ngIRCd")
    hubby.expect(
        r"^:MemoServ!MemoServ@services NOTICE hubby :alice is offline; your message will"
        r" be delivered when they log in\.$"
    )
    hubby.send("PRIVMSG NickServ :IDENTIFY alice nope")
    hubby.expect(
        r"^:NickServ!NickServ@services NOTICE hubby :IDENTIFY needs a connection to leaf\.test\.$"
    )
    # alice logs in on the leaf: the memo comes once, from hubby as he is
    back = LineClient(leaf.port, leaf.host)
    back.send(f"PASS alice:{PW}", "NICK alice", "USER a 0 * :a")
    lines = back.lines_until(r"end of unread messages")
    memo = [line for line in lines if " PRIVMSG alice " in line]
    assert len(memo) == 1 and memo[0].startswith(":hubby!~hubby@127.0.0.1 PRIVMSG alice :[")
    assert memo[0].endswith("] hello from ngIRCd")
    again = LineClient(leaf.port, leaf.host)
    again.send(f"PASS alice:{PW}", "NICK alice2", "USER a 0 * :a", "PING :done")
    seen = again.lines_until("PONG")
    assert not any("PRIVMSG alice" in line or "unread" in line for line in seen)
    # online now: delivered at once
    hubby.send("PRIVMSG MemoServ :SEND alice and now?")
    back.expect(r"^:hubby!~hubby@127\.0\.0\.1 PRIVMSG alice :and now\?$")
    hubby.expect(r"^:MemoServ!\S+ NOTICE hubby :Your message to alice was delivered\.$")


def test_a_user_on_ngircd_holding_a_service_nick_gives_way(tmp_path: Path) -> None:
    hub = NgircdHub(tmp_path / "hub", doc_block("hub-config"))  # no ServiceMask
    hub.start()
    squatter = LineClient(hub.port, hub.host)
    squatter.register("MemoServ")
    toml = doc_block("leaf-config") + doc_block("services-hub-config")
    start_leaf(tmp_path, "leaf.test", "127.0.0.2", hub, toml)
    squatter.expect_closed()
    hubby = LineClient(hub.port, hub.host)
    hubby.register("hubby")
    assert " MemoServ services * :Memo services" in wait_whois(hubby, "MemoServ", " 311 ")
    hubby.send("PRIVMSG MemoServ :HELP")
    hubby.expect(r"^:MemoServ!MemoServ@services NOTICE hubby :MemoServ leaves messages ")
