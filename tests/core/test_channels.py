"""Transcript tests for JOIN, PART, TOPIC, NAMES, LIST, KICK and INVITE."""

from __future__ import annotations

from harness import CoreHarness

A = "alice!~alice@127.0.0.1"
B = "bob!~bob@127.0.0.1"


def test_join_creates_channel_with_op(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("JOIN #chat") == [
        f":{A} JOIN #chat",
        ":irc.test 353 alice = #chat :@alice",
        ":irc.test 366 alice #chat :End of /NAMES list",
    ]
    channel = core.server.state.find_channel("#CHAT")
    assert channel is not None and channel.is_op(alice.session)


def test_join_existing_seen_by_all_and_topic_burst(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #chat", "TOPIC #chat :Welcome here")
    assert bob.send("JOIN #Chat") == [
        f":{B} JOIN #chat",
        ":irc.test 332 bob #chat :Welcome here",
        f":irc.test 333 bob #chat {A} :1700000000",
        ":irc.test 353 bob = #chat :@alice bob",
        ":irc.test 366 bob #chat :End of /NAMES list",
    ]
    assert alice.take() == [f":{B} JOIN #chat"]
    assert bob.send("JOIN #chat") == []  # already there: nothing


def test_join_several_with_keys_and_errors(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("JOIN #locked", "MODE #locked +k sesame")
    bob = core.register("bob")
    lines = bob.send("JOIN #a,#locked,bad,#b\x07x #free wrong")
    assert lines[0] == f":{B} JOIN #a"
    assert ":irc.test 475 bob #locked :Cannot join channel (+k)" in lines
    assert ":irc.test 403 bob bad :No such channel" in lines
    assert ":irc.test 476 bob #b\x07x :Bad Channel Mask" in lines
    assert bob.send("JOIN #locked sesame")[0] == f":{B} JOIN #locked"


def test_join_limits_and_modes() -> None:
    core = CoreHarness(chanlimit=2)
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    lines = carol.send("JOIN #1,#2,#3")
    assert lines[-1] == ":irc.test 405 carol #3 :You have joined too many channels"
    alice.send("JOIN #full", "MODE #full +l 1")
    assert bob.send("JOIN #full") == [":irc.test 471 bob #full :Cannot join channel (+l)"]
    alice.send("INVITE bob #full")
    bob.take()
    assert bob.send("JOIN #full")[0] == f":{B} JOIN #full"  # an invitation passes +l
    erin = core.register("erin")
    assert erin.send("JOIN #full") == [":irc.test 471 erin #full :Cannot join channel (+l)"]
    alice.send("JOIN #inv", "MODE #inv +i")
    assert bob.send("JOIN #inv") == [":irc.test 473 bob #inv :Cannot join channel (+i)"]
    dave = core.register("dave")  # alice is at her CHANLIMIT of 2
    dave.send("JOIN #ban", "MODE #ban +b bob")
    assert bob.send("JOIN #ban") == [":irc.test 474 bob #ban :Cannot join channel (+b)"]


def test_invite_passes_invite_only(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #inv", "MODE #inv +i")
    assert alice.send("INVITE bob #inv") == [":irc.test 341 alice bob :#inv"]
    assert bob.take() == [f":{A} INVITE bob #inv"]
    assert bob.send("JOIN #inv")[0] == f":{B} JOIN #inv"
    alice.take()
    assert alice.send("INVITE bob #inv") == [":irc.test 443 alice bob #inv :is already on channel"]


def test_invite_errors(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    alice.send("JOIN #inv", "MODE #inv +i")
    bob.send("JOIN #other")
    assert alice.send("INVITE nobody #inv") == [":irc.test 401 alice nobody :No such nick/channel"]
    assert carol.send("INVITE bob #inv") == [
        ":irc.test 442 carol #inv :You're not on that channel"
    ]
    alice.send("INVITE carol #inv")
    carol.send("JOIN #inv")
    alice.take()
    assert carol.send("INVITE bob #inv") == [
        ":irc.test 482 carol #inv :You're not channel operator"
    ]
    assert alice.send("INVITE bob #nowhere") == [":irc.test 403 alice #nowhere :No such channel"]


def test_part(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #chat")
    bob.send("JOIN #chat")
    alice.take()
    assert bob.send("PART #chat,#nope,#chat :see you") == [
        f":{B} PART #chat :see you",
        ":irc.test 403 bob #nope :No such channel",
        ":irc.test 442 bob #chat :You're not on that channel",
    ]
    assert alice.take() == [f":{B} PART #chat :see you"]
    assert alice.send("PART #chat") == [f":{A} PART :#chat"]
    assert core.server.state.find_channel("#chat") is None  # gone with its last member


def test_join_zero_parts_all(core: CoreHarness) -> None:
    alice = core.register("alice")
    alice.send("JOIN #a,#b")
    assert alice.send("JOIN 0") == [f":{A} PART :#a", f":{A} PART :#b"]
    assert alice.session.channels == {}


def test_topic(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    alice.send("JOIN #t")
    bob.send("JOIN #t")
    alice.take()
    assert bob.send("TOPIC #t") == [":irc.test 331 bob #t :No topic is set"]
    assert bob.send("TOPIC #t :mine") == [":irc.test 482 bob #t :You're not channel operator"]
    assert carol.send("TOPIC #t :x") == [":irc.test 442 carol #t :You're not on that channel"]
    assert carol.send("TOPIC #none") == [":irc.test 403 carol #none :No such channel"]
    assert alice.send("TOPIC #t :" + "x" * 400) == [f":{A} TOPIC #t :" + "x" * 390]
    assert bob.take() == [f":{A} TOPIC #t :" + "x" * 390]
    alice.send("MODE #t -t")
    bob.take()
    assert bob.send("TOPIC #t :ours") == [f":{B} TOPIC #t :ours"]
    assert carol.send("TOPIC #t") == [
        ":irc.test 332 carol #t :ours",
        f":irc.test 333 carol #t {B} :1700000000",
    ]


def test_names_split_to_512_bytes(core: CoreHarness) -> None:
    members = [core.register(f"member{i:03d}xxxxxxxxxxxxxxxxxx") for i in range(60)]
    for member in members:
        member.send("JOIN #big")
    lines = members[0].send("NAMES #big")
    names = [line for line in lines if " 353 " in line]
    assert len(names) > 1
    assert all(len(line.encode()) + 2 <= 512 for line in names)
    listed = " ".join(line.split(" :", 1)[1] for line in names).split()
    assert len(listed) == 60 and listed[0] == "@member000xxxxxxxxxxxxxxxxxx"
    assert lines[-1] == ":irc.test 366 member000xxxxxxxxxxxxxxxxxx #big :End of /NAMES list"


def test_names_and_list_hide_secret(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #secret,#open", "MODE #secret +s", "TOPIC #open :hi")
    assert bob.send("NAMES #secret") == [":irc.test 366 bob #secret :End of /NAMES list"]
    assert bob.send("LIST") == [
        ":irc.test 321 bob Channel :Users  Name",
        ":irc.test 322 bob #open 1 :hi",
        ":irc.test 323 bob :End of /LIST",
    ]
    assert alice.send("NAMES #secret") == [
        ":irc.test 353 alice @ #secret :@alice",
        ":irc.test 366 alice #secret :End of /NAMES list",
    ]
    assert alice.send("LIST #secret,#none") == [
        ":irc.test 321 alice Channel :Users  Name",
        ":irc.test 322 alice #secret 1 :",
        ":irc.test 323 alice :End of /LIST",
    ]
    assert bob.send("NAMES") == [
        ":irc.test 353 bob = #open :@alice",
        ":irc.test 366 bob * :End of /NAMES list",
    ]


def test_kick(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    for client in (alice, bob):
        client.send("JOIN #k")
    alice.take()
    assert bob.send("KICK #k alice") == [":irc.test 482 bob #k :You're not channel operator"]
    assert carol.send("KICK #k bob") == [":irc.test 442 carol #k :You're not on that channel"]
    assert alice.send("KICK #none bob") == [":irc.test 403 alice #none :No such channel"]
    assert alice.send("KICK #k carol") == [
        ":irc.test 441 alice carol #k :They aren't on that channel"
    ]
    assert alice.send("KICK #k ghost") == [":irc.test 401 alice ghost :No such nick/channel"]
    assert alice.send("KICK #k bob :behave") == [f":{A} KICK #k bob :behave"]
    assert bob.take() == [f":{A} KICK #k bob :behave"]
    assert bob.session.channels == {}
    assert alice.send("KICK #k alice") == [f":{A} KICK #k alice :alice"]


def test_quit_and_nick_relayed_once_to_peers(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    for client in (alice, bob):
        client.send("JOIN #a,#b")
    carol.send("JOIN #c")
    alice.take()
    assert bob.send("NICK robert") == [f":{B} NICK robert"]
    assert alice.take() == [f":{B} NICK robert"]  # once, though they share two channels
    assert carol.take() == []
    bob.send("QUIT :later")
    assert alice.take() == [":robert!~bob@127.0.0.1 QUIT :Quit: later"]
    assert carol.take() == []


def test_lost_connection_relayed_as_quit(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    alice.send("JOIN #x")
    bob.send("JOIN #x")
    alice.take()
    core.server.connection_lost(bob.session, "Remote host closed the connection", core.clock.now)
    core.deliver()
    assert alice.take() == [f":{B} QUIT :Remote host closed the connection"]
