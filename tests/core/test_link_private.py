"""Private messages to a user on another server (core.commands.messages, core.history
`party`): that user's account is its own server's, and another person may own an account
of that name here, so the message is kept under the user's nick, never in a local
account's history or inbox."""

from __future__ import annotations

from network import CoreNetwork

A, B = "a.test", "b.test"


def test_a_message_to_a_remote_account_is_not_a_local_accounts() -> None:
    net = CoreNetwork(A, B)
    net.link(A, B)
    far = net.register(B, "farava")
    far.send("REGISTER ava * far-password")  # b.test's ava
    net[B].finish_jobs()
    sam = net.register(A, "sam")
    sam.send("REGISTER sam * sam-password")
    net[A].finish_jobs()
    net.settle()
    sam.send("PRIVMSG farava :for b's ava only")
    net.settle()
    assert far.take()[-1] == ":sam!~sam@127.0.0.1 PRIVMSG farava :for b's ava only"
    near = net.register(A, "nearava")
    near.send("REGISTER ava * near-password")  # a.test's ava: someone else
    net[A].finish_jobs()
    near.take()
    assert near.send("HISTORY sam", "INBOX") == [
        ":a.test NOTICE nearava :*** history: 0 message(s) follow",
        ":a.test NOTICE nearava :*** end of history",
        ":a.test NOTICE nearava :*** inbox: 0 message(s) follow",
        ":a.test NOTICE nearava :*** end of inbox",
    ]
    # sam, who sent it, still finds it under farava's nick
    assert sam.send("HISTORY farava")[1:-1] == [
        ":sam!~sam@127.0.0.1 PRIVMSG farava :[2023-11-14 22:13:20] for b's ava only"
    ]
