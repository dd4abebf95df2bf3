"""Transcript tests for REDACT (IRCv3 draft/message-redaction)."""

from __future__ import annotations

import pytest

from harness import CoreClient, CoreHarness
from miniircd.config import Operator
from miniircd.store.passwords import hash_password

CAPS = "message-tags echo-message draft/message-redaction"
A = "alice!~alice@127.0.0.1"
B = "bob!~bob@127.0.0.1"


@pytest.fixture
def core() -> CoreHarness:
    return CoreHarness(operators=(Operator("admin", hash_password("pw")),))


def client(
    core: CoreHarness, nick: str, caps: str = CAPS, password: str | None = None
) -> CoreClient:
    one = core.connect()
    one.send(f"CAP REQ :{caps}", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    assert " 001 " in one.send("CAP END")[0]
    if password is not None:
        assert "SUCCESS" in one.send(f"REGISTER {nick} * {password}")[-1]
    return one


def msgid_of(line: str) -> str:
    tags = dict(tag.split("=", 1) for tag in line[1:].split(" ", 1)[0].split(";"))
    return tags["msgid"]


def said(sender: CoreClient, target: str, text: str) -> str:
    """Send a PRIVMSG (the sender has echo-message); its msgid."""
    return msgid_of(sender.send(f"PRIVMSG {target} :{text}")[0])


def room(core: CoreHarness) -> tuple[CoreClient, CoreClient, CoreClient]:
    """alice (op) and bob with the capability, plain without it, all in #r."""
    alice, bob, plain = client(core, "alice"), client(core, "bob"), core.register("plain")
    for each in (alice, bob, plain):
        each.send("JOIN #r")
    for each in (alice, bob, plain):
        each.take()
    return alice, bob, plain


def history_texts(core: CoreHarness, target: str) -> list[str]:
    rows = core.store.messages(target, limit=100, verbs=None)
    return [f"{row.verb} {row.text}" for row in rows if row.verb != "JOIN"]


def test_capabilities_are_offered(core: CoreHarness) -> None:
    offered = " ".join(core.connect().send("CAP LS 302")).split()
    assert "draft/message-redaction" in offered
    assert "draft/event-playback" in offered


def test_sender_redacts_own_room_message(core: CoreHarness) -> None:
    alice, bob, plain = room(core)
    msgid = said(bob, "#r", "oops")
    alice.take()
    plain.take()
    (echo,) = bob.send(f"REDACT #r {msgid} :typo")
    assert echo == f"@msgid=msg5 :{B} REDACT #r {msgid} typo"
    assert alice.take() == [echo]
    assert plain.take() == []  # no capability: nothing at all
    # forgotten: the text is gone, and no history shows it
    assert history_texts(core, "#r") == ["REDACT "]
    assert core.register("late").send("JOIN #r")[-1].endswith(" 366 late #r :End of /NAMES list")
    plain.take()
    assert plain.send("HISTORY #r") == [
        ":irc.test NOTICE #r :*** history: 0 message(s) follow",
        ":irc.test NOTICE #r :*** end of history",
    ]


def test_without_reason_two_parameters(core: CoreHarness) -> None:
    alice, bob, _ = room(core)
    msgid = said(alice, "#r", "hi")
    assert alice.send(f"REDACT #r {msgid}") == [f"@msgid=msg5 :{A} REDACT #r {msgid}"]
    assert bob.take()[-1] == f"@msgid=msg5 :{A} REDACT #r {msgid}"


def test_channel_operator_redacts_others_but_members_cannot(core: CoreHarness) -> None:
    alice, bob, _ = room(core)
    from_alice = said(alice, "#r", "mine")
    bob.take()
    assert bob.send(f"REDACT #r {from_alice} :no") == [
        f":irc.test FAIL REDACT REDACT_FORBIDDEN #r {from_alice} "
        ":You are not authorised to delete this message"
    ]
    assert alice.take() == []
    assert history_texts(core, "#r") == ["PRIVMSG mine"]
    from_bob = said(bob, "#r", "spam")
    alice.take()
    assert alice.send(f"REDACT #r {from_bob} :spam")[0].endswith(f"REDACT #r {from_bob} spam")
    assert bob.take()[0].endswith(f":{A} REDACT #r {from_bob} spam")
    assert history_texts(core, "#r") == ["PRIVMSG mine", "REDACT "]


def test_irc_operator_redacts_from_outside(core: CoreHarness) -> None:
    alice, bob, _ = room(core)
    msgid = said(bob, "#r", "spam")
    alice.take()
    oper = client(core, "oper")
    oper.send("OPER admin pw")
    (echo,) = oper.send(f"REDACT #r {msgid} :spam")
    assert echo.endswith(f" :oper!~oper@127.0.0.1 REDACT #r {msgid} spam")
    assert alice.take() == [echo]
    assert bob.take() == [echo]


def test_invalid_target(core: CoreHarness) -> None:
    alice, _, _ = room(core)
    msgid = said(alice, "#r", "hi")
    outsider = client(core, "out")
    refused = ":You cannot delete messages from there"
    assert outsider.send(f"REDACT #r {msgid}") == [
        f":irc.test FAIL REDACT INVALID_TARGET #r {refused}"
    ]
    assert outsider.send(f"REDACT #nowhere {msgid}") == [
        f":irc.test FAIL REDACT INVALID_TARGET #nowhere {refused}"
    ]
    assert outsider.send(f"REDACT nobody {msgid}") == [
        f":irc.test FAIL REDACT INVALID_TARGET nobody {refused}"
    ]
    assert history_texts(core, "#r") == ["PRIVMSG hi"]


def test_unknown_msgid(core: CoreHarness) -> None:
    alice, _, _ = room(core)
    msgid = said(alice, "#r", "hi")
    alice.send("JOIN #other")
    unknown = ":This message does not exist or is too old"
    assert alice.send("REDACT #r nonexistent") == [
        f":irc.test FAIL REDACT UNKNOWN_MSGID #r nonexistent {unknown}"
    ]
    assert alice.send(f"REDACT #other {msgid}") == [  # a message of another room
        f":irc.test FAIL REDACT UNKNOWN_MSGID #other {msgid} {unknown}"
    ]
    (join_line,) = core.store.messages("#r", limit=1, verbs=("JOIN",))
    assert alice.send(f"REDACT #r {join_line.msgid}") == [  # an event, not a message
        f":irc.test FAIL REDACT UNKNOWN_MSGID #r {join_line.msgid} {unknown}"
    ]
    alice.send(f"REDACT #r {msgid}")
    assert alice.send(f"REDACT #r {msgid}") == [  # already redacted
        f":irc.test FAIL REDACT UNKNOWN_MSGID #r {msgid} {unknown}"
    ]
    (tagmsg,) = alice.send("@+typing=active TAGMSG #r")
    tagmsg_id = msgid_of(tagmsg)
    assert alice.send(f"REDACT #r {tagmsg_id}") == [  # not stored
        f":irc.test FAIL REDACT UNKNOWN_MSGID #r {tagmsg_id} {unknown}"
    ]


def test_missing_parameters(core: CoreHarness) -> None:
    alice = client(core, "alice")
    assert alice.send("REDACT #r") == [":irc.test 461 alice REDACT :Not enough parameters"]


def test_a_guest_is_the_sender_only_on_its_connection(core: CoreHarness) -> None:
    _, bob, _ = room(core)
    msgid = said(bob, "#r", "hi")
    bob.send("QUIT")
    core.tick(1)
    again = client(core, "bob")  # the same nick!user@host, another connection
    again.send("JOIN #r")
    assert again.send(f"REDACT #r {msgid}")[0].startswith(
        ":irc.test FAIL REDACT REDACT_FORBIDDEN #r"
    )
    renamed = said(again, "#r", "second")
    again.send("NICK robert")
    assert "REDACT_FORBIDDEN" in again.send(f"REDACT #r {renamed}")[0]


def test_a_guest_who_takes_the_nick_later_is_not_the_sender(core: CoreHarness) -> None:
    _, bob, _ = room(core)
    mallory = core.connect()  # connected before bob spoke, with bob's user name
    mallory.send(f"CAP REQ :{CAPS}", "NICK mallory", "USER bob 0 * :M", "CAP END", "JOIN #r")
    bob.take()
    core.tick(1)
    msgid = said(bob, "#r", "my message")
    bob.send("QUIT :bye")
    core.tick(1)
    mallory.send("NICK bob")
    assert mallory.send(f"REDACT #r {msgid}")[0].startswith(
        ":irc.test FAIL REDACT REDACT_FORBIDDEN #r"
    )


def test_an_account_is_the_sender_on_any_connection(core: CoreHarness) -> None:
    alice = client(core, "alice", password="password1")
    alice.send("JOIN #r")
    msgid = said(alice, "#r", "hi")
    alice.send("QUIT")
    again = client(core, "alice2")
    again.send("JOIN #r")
    assert "REDACT_FORBIDDEN" in again.send(f"REDACT #r {msgid}")[0]  # not logged in yet
    again.send("PRIVMSG NickServ :IDENTIFY alice password1")
    again.take()
    assert again.send(f"REDACT #r {msgid}")[0].endswith(f"REDACT #r {msgid}")


def test_private_messages(core: CoreHarness) -> None:
    alice = client(core, "alice", password="password1")
    bob = client(core, "bob", "message-tags echo-message draft/message-redaction "
                 "batch draft/chathistory", password="password2")  # fmt: skip
    third = client(core, "third", password="password3")
    msgid = said(alice, "bob", "hello")
    bob.take()
    assert "REDACT_FORBIDDEN" in bob.send(f"REDACT alice {msgid}")[0]  # the recipient
    assert "UNKNOWN_MSGID" in third.send(f"REDACT bob {msgid}")[0]  # another conversation
    assert "UNKNOWN_MSGID" in third.send(f"REDACT alice {msgid}")[0]
    assert alice.take() == []
    (echo,) = alice.send(f"REDACT bob {msgid} :oops")
    assert echo.endswith(f":{A} REDACT bob {msgid} oops")
    assert bob.take() == [echo]
    # the conversation is still one: an empty batch, not INVALID_TARGET
    lines = bob.send("CHATHISTORY LATEST alice * 10")
    assert [line.split()[1] for line in lines] == ["BATCH", "BATCH"]


def test_redacted_unread_message_leaves_the_inbox(core: CoreHarness) -> None:
    alice = client(core, "alice", password="password1")
    bob = client(core, "bob", password="password2")
    bob.send("QUIT")
    msgid = said(alice, "bob", "while you were away")
    alice.take()
    assert core.store.unread_count("bob") == 1
    assert alice.send(f"REDACT bob {msgid}")[0].endswith(f"REDACT bob {msgid}")
    assert core.store.unread_count("bob") == 0
    assert core.store.personal("bob", 10) == []


def test_a_kept_reaction_can_be_redacted(core: CoreHarness) -> None:
    alice, bob, _ = room(core)
    (react,) = alice.send("@+draft/react=1 TAGMSG #r")
    (echo,) = alice.send(f"REDACT #r {msgid_of(react)}")
    assert echo.endswith(f":{A} REDACT #r {msgid_of(react)}")
    assert bob.take() == [react, echo]
