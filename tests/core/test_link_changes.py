"""A user's login, logout and new realname cross the links (ngIRCd's `METADATA <nick>
accountname|info`), and the far servers tell their local users who asked to hear of them
(account-notify, setname), as for a local user (core.links, core.s2s_ngircd `metadata`)."""

from __future__ import annotations

import pytest

from network import A, B, CoreNetwork, chain, in_room


@pytest.fixture
def net() -> CoreNetwork:
    return chain()




def test_a_new_realname_reaches_the_far_end(net: CoreNetwork) -> None:
    alice, carol = in_room(net, "account-notify", "setname")
    alice.send("SETNAME :Alice Liddell")
    net.settle()
    assert carol.take() == [":alice!~alice@127.0.0.1 SETNAME :Alice Liddell"]
    assert (
        carol.send("WHOIS alice")[0] == ":c.test 311 carol alice ~alice 127.0.0.1 * :Alice Liddell"
    )
    assert net[B].server.state.find_user("alice").realname == "Alice Liddell"  # the hub's too


def test_a_login_and_a_logout_reach_the_far_end(net: CoreNetwork) -> None:
    alice, carol = in_room(net, "account-notify", "setname")
    alice.send("REGISTER * * hunter2hunter2")
    net[A].finish_jobs()
    net.settle()
    assert carol.take() == [":alice!~alice@127.0.0.1 ACCOUNT alice"]
    alice.send("PRIVMSG NickServ :LOGOUT")
    net.settle()
    assert carol.take() == [":alice!~alice@127.0.0.1 ACCOUNT *"]


def test_without_the_capability_nothing_is_told(net: CoreNetwork) -> None:
    alice = net.register(A, "alice")
    bob = net.register(B, "bob")  # no account-notify, no setname
    for client in (alice, bob):
        client.send("JOIN #room")
        net.settle()
    bob.take()
    alice.send("SETNAME :Someone Else", "REGISTER * * hunter2hunter2")
    net[A].finish_jobs()
    net.settle()
    assert bob.take() == []
    whois = bob.send("WHOIS alice")
    assert whois[0] == ":b.test 311 bob alice ~alice 127.0.0.1 * :Someone Else"
    assert ":b.test 330 bob alice alice :is logged in as" in whois
