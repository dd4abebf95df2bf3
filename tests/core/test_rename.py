"""Transcript tests for RENAME (IRCv3 draft/channel-rename): the RENAME line, the fallback
for clients without the capability, the refusals, and everything a channel keeps."""

from __future__ import annotations

from harness import CoreClient, CoreHarness
from miniircd.core.user import RemoteUser

CAP = "draft/channel-rename"
A = "alice!~alice@127.0.0.1"
B = "bob!~bob@127.0.0.1"


def with_caps(core: CoreHarness, nick: str, caps: str) -> CoreClient:
    client = core.connect()
    client.send(f"CAP REQ :{caps}", f"NICK {nick}", f"USER {nick} 0 * :{nick.title()}")
    assert any(" 001 " in line for line in client.send("CAP END"))
    return client


def room(core: CoreHarness, name: str = "#old") -> tuple[CoreClient, CoreClient]:
    """alice (op, with the capability) and bob (without it) in `name`."""
    alice = with_caps(core, "alice", CAP)
    bob = core.register("bob")
    alice.send(f"JOIN {name}")
    bob.send(f"JOIN {name}")
    alice.take()
    return alice, bob


def test_members_with_and_without_the_capability(core: CoreHarness) -> None:
    alice, bob = room(core)
    alice.send("TOPIC #old :the topic")
    bob.take()
    assert alice.send("RENAME #old #new :better name") == [f":{A} RENAME #old #new :better name"]
    assert bob.take() == [
        f":{B} PART #old :better name",
        f":{B} JOIN #new",
        ":irc.test 332 bob #new :the topic",
        f":irc.test 333 bob #new {A} :1700000000",
        ":irc.test 353 bob = #new :@alice bob",
        ":irc.test 366 bob #new :End of /NAMES list",
    ]
    state = core.server.state
    channel = state.channels["#new"]
    assert "#old" not in state.channels and channel.name == "#new"
    assert alice.session.channels == {"#new": channel} == bob.session.channels


def test_without_a_reason_and_without_a_topic(core: CoreHarness) -> None:
    alice, bob = room(core)
    assert alice.send("RENAME #old #new") == [f":{A} RENAME #old #new :"]
    assert bob.take() == [
        f":{B} PART :#old",
        f":{B} JOIN #new",
        ":irc.test 353 bob = #new :@alice bob",
        ":irc.test 366 bob #new :End of /NAMES list",
    ]


def test_a_renamer_without_the_capability_gets_the_fallback(core: CoreHarness) -> None:
    bob = core.register("bob")
    carol = with_caps(core, "carol", f"{CAP} extended-join")
    bob.send("JOIN #old")
    carol.send("JOIN #old")
    bob.take()
    assert bob.send("RENAME #old #new :moving") == [
        f":{B} PART #old :moving",
        f":{B} JOIN #new",
        ":irc.test 353 bob = #new :@bob carol",
        ":irc.test 366 bob #new :End of /NAMES list",
    ]
    assert carol.take() == [f":{B} RENAME #old #new :moving"]


def test_fallback_join_in_its_extended_join_form(core: CoreHarness) -> None:
    alice = with_caps(core, "alice", CAP)
    dave = with_caps(core, "dave", "extended-join")
    alice.send("JOIN #old")
    dave.send("JOIN #old")
    alice.send("RENAME #old #new")
    assert dave.take()[:2] == [
        ":dave!~dave@127.0.0.1 PART :#old",
        ":dave!~dave@127.0.0.1 JOIN #new * :Dave",
    ]


def test_a_change_of_case_only(core: CoreHarness) -> None:
    alice, bob = room(core)
    bob.take()
    assert alice.send("RENAME #old #OLD :louder") == [f":{A} RENAME #old #OLD :louder"]
    assert bob.take() == []  # the same channel to a client without the capability
    assert core.server.state.channels["#old"].name == "#OLD"
    assert bob.send("NAMES #old")[0] == ":irc.test 353 bob = #OLD :@alice bob"


def test_the_channel_keeps_its_ranks_modes_and_lists(core: CoreHarness) -> None:
    alice, bob = room(core)
    carol = core.register("carol")
    alice.send("MODE #old +vk bob sesame", "MODE #old +b *!*@bad.example", "MODE #old +i")
    alice.send("INVITE carol #old", "RENAME #old #new")
    bob.take()
    assert alice.send("MODE #new")[0] == ":irc.test 324 alice #new +iknt :sesame"
    assert alice.send("MODE #new +b")[0].startswith(":irc.test 367 alice #new *!*@bad.example ")
    assert bob.send("NAMES #new")[0] == ":irc.test 353 bob = #new :@alice +bob"
    assert bob.send("PRIVMSG #new :still here") == []
    assert alice.take() == [f":{B} PRIVMSG #new :still here"]
    assert carol.take() == [f":{A} INVITE carol #old"]
    assert carol.send("JOIN #new sesame")[0] == ":carol!~carol@127.0.0.1 JOIN #new"  # invited


def test_the_old_name_is_free_again(core: CoreHarness) -> None:
    # irctest's testChannelRename: the old name makes a new channel, its creator op there
    alice, bob = room(core, "#bar")
    alice.send("RENAME #bar #qux :no reason")
    bob.take()
    assert bob.send("JOIN #bar")[:1] == [f":{B} JOIN #bar"]
    assert bob.send("MODE #bar +k beer") == [f":{B} MODE #bar +k beer"]
    assert set(core.server.state.channels) == {"#bar", "#qux"}


def test_refusals_change_nothing(core: CoreHarness) -> None:
    alice, bob = room(core)
    carol = core.register("carol")
    carol.send("JOIN #taken")
    alice.take()
    bob.take()
    replies = {
        "RENAME #old": ":irc.test 461 alice RENAME :Not enough parameters",
        "RENAME #old :": ":irc.test 461 alice RENAME :Not enough parameters",
        "RENAME #nowhere #new": ":irc.test 403 alice #nowhere :No such channel",
        "RENAME #taken #new": ":irc.test 442 alice #taken :You're not on that channel",
        "RENAME #old #TAKEN": (
            ":irc.test FAIL RENAME CHANNEL_NAME_IN_USE #old #TAKEN"
            " :The channel name is already taken"
        ),
        "RENAME #old new": (
            ":irc.test FAIL RENAME CANNOT_RENAME #old new :That is not a valid channel name"
        ),
        "RENAME #old #a,b": (
            ":irc.test FAIL RENAME CANNOT_RENAME #old #a,b :That is not a valid channel name"
        ),
        "RENAME #old #" + "x" * 64: (
            f":irc.test FAIL RENAME CANNOT_RENAME #old #{'x' * 64}"
            " :That is not a valid channel name"
        ),
        "RENAME #old ::x": (
            ":irc.test FAIL RENAME CANNOT_RENAME #old * :That is not a valid channel name"
        ),
        "RENAME #OLD #old": (
            ":irc.test FAIL RENAME CANNOT_RENAME #old #old :The channel already has that name"
        ),
    }
    for line, reply in replies.items():
        assert alice.send(line) == [reply], line
    assert bob.send("RENAME #old #new") == [":irc.test 482 bob #old :You're not channel operator"]
    assert set(core.server.state.channels) == {"#old", "#taken"}
    assert bob.take() == [] and carol.take() == []


def test_fail_goes_to_clients_without_standard_replies_as_fail(core: CoreHarness) -> None:
    bob = core.register("bob")
    bob.send("JOIN #a", "JOIN #b")
    assert bob.send("RENAME #a #b") == [
        ":irc.test FAIL RENAME CHANNEL_NAME_IN_USE #a #b :The channel name is already taken"
    ]


def test_a_secret_channel_is_no_such_channel_to_outsiders(core: CoreHarness) -> None:
    alice, _ = room(core)
    alice.send("MODE #old +s")
    carol = core.register("carol")
    assert carol.send("RENAME #old #new") == [":irc.test 403 carol #old :No such channel"]


def test_history_follows_the_channel(core: CoreHarness) -> None:
    alice, bob = room(core)
    bob.send("PRIVMSG #old :before the rename")
    alice.send("RENAME #old #new")
    bob.send("PRIVMSG #new :after it")
    alice.take()
    replay = alice.send("HISTORY #new")
    assert replay[1:3] == [
        f":{B} PRIVMSG #new :[2023-11-14 22:13:20] before the rename",
        f":{B} PRIVMSG #new :[2023-11-14 22:13:20] after it",
    ]
    assert alice.send("HISTORY #old") == [":irc.test 403 alice #old :No such channel"]
    dave = core.register("dave")
    joined = dave.send("JOIN #new")
    assert f":{B} PRIVMSG #new :[2023-11-14 22:13:20] before the rename" in joined
    # a new channel under the old name starts with no history
    lines = dave.send("JOIN #old")
    assert not any("PRIVMSG" in line for line in lines)


def test_a_registered_room_stays_registered_under_its_new_name(core: CoreHarness) -> None:
    alice = with_caps(core, "alice", CAP)
    alice.send("REGISTER * * password1", "JOIN #old", "TOPIC #old :kept")
    alice.send("RENAME #old #new")
    alice.send("PART #new")
    assert [room.name for room in core.store.load_rooms()] == ["#new"]
    restarted = CoreHarness.on_store(core.store)
    assert set(restarted.server.state.channels) == {"#new"}
    channel = restarted.server.state.channels["#new"]
    assert (channel.founder, channel.topic) == ("alice", "kept")
    bob = restarted.register("bob")
    info = bob.send("PRIVMSG ChanServ :INFO #new")
    assert info[0].startswith(
        ":ChanServ!ChanServ@services NOTICE bob :#new was registered by alice"
    )
    assert bob.send("PRIVMSG ChanServ :INFO #old") == [
        ":ChanServ!ChanServ@services NOTICE bob :#old is not a registered room."
    ]


def test_stored_events_name_the_new_room(core: CoreHarness) -> None:
    caps = f"{CAP} draft/event-playback draft/chathistory batch"
    alice = with_caps(core, "alice", caps)
    bob = core.register("bob")
    alice.send("JOIN #old")
    bob.send("JOIN #old", "PART #old :bye")
    alice.send("RENAME #old #new")
    alice.take()
    replay = alice.send("CHATHISTORY LATEST #new * 10")
    assert [line.split(" ", 2)[2] for line in replay[1:-1]] == [
        "JOIN #new", "JOIN #new", "PART #new :bye",
    ]


def test_a_registered_rooms_metadata_goes_with_it(core: CoreHarness) -> None:
    alice = with_caps(core, "alice", CAP)
    alice.send("REGISTER * * password1", "JOIN #old", "METADATA #old SET url :http://alice")
    alice.send("RENAME #old #new")
    restarted = CoreHarness.on_store(core.store)
    assert restarted.server.state.channels["#new"].metadata == {"url": "http://alice"}
    mallory = restarted.register("mallory")
    mallory.send("REGISTER * * password2", "JOIN #old")
    assert restarted.server.state.channels["#old"].metadata == {}


def test_read_markers_follow_the_channel(core: CoreHarness) -> None:
    marker = "draft/read-marker"
    alice = with_caps(core, "alice", f"{CAP} {marker}")
    alice.send("REGISTER * * password1", "JOIN #old")
    guest = with_caps(core, "guest", marker)
    guest.send("JOIN #old")
    stamp = "timestamp=2023-11-14T22:13:20.000Z"
    alice.send(f"MARKREAD #old {stamp}")
    guest.send(f"MARKREAD #old {stamp}")
    alice.take()
    guest.take()
    alice.send("RENAME #old #new")
    # the guest, without the capability, rejoins: its marker comes after its JOIN
    assert f":irc.test MARKREAD #new {stamp}" in guest.take()
    assert alice.send("MARKREAD #new") == [f":irc.test MARKREAD #new {stamp}"]
    assert alice.send("MARKREAD #old") == [":irc.test MARKREAD #old *"]
    assert guest.send("MARKREAD #old") == [":irc.test MARKREAD #old *"]


def test_a_remote_member_gets_the_rename_line(core: CoreHarness) -> None:
    alice, _ = room(core)
    state = core.server.state
    far = RemoteUser(state.next_id(), "~far", "far.example", "Far", "leaf.test", 0, [])
    state.add(far)
    state.claim_nick(far, "far", core.clock.now)
    state.register(far)
    state.join(far, state.channels["#old"], set())
    alice.send("RENAME #old #new :why")
    assert core.relayed["leaf.test"] == [f":{A} RENAME #old #new :why"]
    assert far.channels == {"#new": state.channels["#new"]}


def test_labeled_rename(core: CoreHarness) -> None:
    alice = with_caps(core, "alice", f"{CAP} labeled-response")
    alice.send("JOIN #old")
    assert alice.send("@label=r1 RENAME #old #new") == [f"@label=r1 :{A} RENAME #old #new :"]
