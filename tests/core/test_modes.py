"""Transcript tests for MODE: channel modes, ban lists, prefixes, user modes."""

from __future__ import annotations

from harness import CoreClient, CoreHarness, in_channel
from miniircd.core.channel import Channel
from miniircd.core.masks import normalize_mask

NOW = "1700000000"
ALICE = ":alice!~alice@127.0.0.1"


def channel(core: CoreHarness, name: str = "#c") -> Channel:
    found = core.server.state.find_channel(name)
    assert found is not None
    return found


# -- queries ---------------------------------------------------------------------------------


def test_no_such_channel_403(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("MODE #nope") == [":irc.test 403 alice #nope :No such channel"]
    assert alice.send("MODE #nope +n") == [":irc.test 403 alice #nope :No such channel"]
    assert alice.send("MODE :#a b") == [":irc.test 403 alice * :No such channel"]


def test_mode_needs_a_target_461(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("MODE") == [":irc.test 461 alice MODE :Not enough parameters"]


def test_query_new_channel(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    assert alice.send("MODE #C") == [
        ":irc.test 324 alice #c :+nt",
        f":irc.test 329 alice #c :{NOW}",
    ]


def test_query_shows_key_and_limit_to_members_only(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    outsider = core.register("carol")
    assert alice.send("MODE #c +lk 10 secret") == [f"{ALICE} MODE #c +lk 10 secret"]
    assert bob.take() == [f"{ALICE} MODE #c +lk 10 secret"]
    expected_member = [":irc.test 324 {} #c +klnt secret :10", f":irc.test 329 {{}} #c :{NOW}"]
    assert alice.send("MODE #c") == [line.format("alice") for line in expected_member]
    assert bob.send("MODE #c") == [line.format("bob") for line in expected_member]
    assert outsider.send("MODE #c") == [
        ":irc.test 324 carol #c :+klnt",
        f":irc.test 329 carol #c :{NOW}",
    ]


# -- changes and their broadcast -------------------------------------------------------------


def test_multi_change_broadcast_to_all_members(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    alice.send("MODE #c +k key")
    bob.take()
    line = f"{ALICE} MODE #c +ov-k bob bob key"
    assert alice.send("MODE #c +ov-k bob bob key") == [line]
    assert bob.take() == [line]
    assert channel(core).members[bob.session] == {"o", "v"}
    assert channel(core).key is None


def test_no_ops_are_not_broadcast(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    alice.send("MODE #c +k key")
    bob.take()
    # +o alice: already op; so only +v bob and -k are applied
    line = f"{ALICE} MODE #c +v-k bob key"
    assert alice.send("MODE #c +ov-k alice bob key") == [line]
    assert bob.take() == [line]
    assert alice.send("MODE #c +nt") == []
    assert alice.send("MODE #c -b nobody!*@*") == []
    assert alice.send("MODE #c +v bob") == []
    assert alice.send("MODE #c -k") == []
    assert alice.send("MODE #c -l") == []
    assert alice.send("MODE #c -i") == []
    assert bob.take() == []


def test_signs_and_flags(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    line = f"{ALICE} MODE #c +ims-nt"
    assert alice.send("MODE #c +i+m+s-n-t") == [line]
    assert bob.take() == [line]
    assert channel(core).modes == {"i", "m", "s"}
    assert alice.send("MODE #c -i+i") == [f"{ALICE} MODE #c -i+i"]


def test_non_member_442_and_non_op_482(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    carol = core.register("carol")
    assert bob.send("MODE #c +i") == [":irc.test 482 bob #c :You're not channel operator"]
    assert carol.send("MODE #c -t") == [":irc.test 442 carol #c :You're not on that channel"]
    # a refused command changes nothing, even the parts that would be fine on their own
    assert bob.send("MODE #c +bi x") == [":irc.test 482 bob #c :You're not channel operator"]
    assert channel(core).modes == {"n", "t"}
    assert channel(core).bans == {}
    assert alice.take() == []


def test_list_queries_need_no_privilege(core: CoreHarness) -> None:
    _, bob = in_channel(core, "alice", "bob")
    carol = core.register("carol")
    end = "#c :End of channel ban list"
    assert bob.send("MODE #c b") == [f":irc.test 368 bob {end}"]
    assert bob.send("MODE #c +b") == [f":irc.test 368 bob {end}"]
    assert carol.send("MODE #c b") == [f":irc.test 368 carol {end}"]
    assert carol.send("MODE #c +Z") == [":irc.test 472 carol Z :is unknown mode char to me"]


def test_unknown_mode_char_472_continues(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    assert alice.send("MODE #c +Zi-Y") == [
        ":irc.test 472 alice Z :is unknown mode char to me",
        ":irc.test 472 alice Y :is unknown mode char to me",
        f"{ALICE} MODE #c +i",
    ]
    assert bob.take() == [f"{ALICE} MODE #c +i"]


def test_prefix_mode_errors_401_441(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    core.register("carol")
    assert alice.send("MODE #c +o ghost") == [":irc.test 401 alice ghost :No such nick/channel"]
    assert alice.send("MODE #c +v CAROL") == [
        ":irc.test 441 alice carol #c :They aren't on that channel"
    ]
    # the canonical nick is broadcast, whatever case it was given in
    assert alice.send("MODE #c +vo ghost BOB") == [
        ":irc.test 401 alice ghost :No such nick/channel",
        f"{ALICE} MODE #c +o bob",
    ]
    assert alice.send("MODE #c -o alice") == [f"{ALICE} MODE #c -o alice"]
    assert bob.take() == [f"{ALICE} MODE #c +o bob", f"{ALICE} MODE #c -o alice"]
    assert alice.send("MODE #c +o alice") == [":irc.test 482 alice #c :You're not channel operator"]


def test_missing_parameter_696(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    missing = ":irc.test 696 alice #c {} * :You must specify a parameter for the {} mode"
    assert alice.send("MODE #c +o") == [missing.format("o", "op")]
    assert alice.send("MODE #c +v") == [missing.format("v", "voice")]
    assert alice.send("MODE #c +k") == [missing.format("k", "key")]
    assert alice.send("MODE #c +ims-l") == [f"{ALICE} MODE #c +ims"]  # -l takes none
    assert alice.send("MODE #c +l-i") == [missing.format("l", "limit"), f"{ALICE} MODE #c -i"]


def test_invalid_limit_696(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    for bad in ("abc", "0", "-5", "1.5", "٣"):
        assert alice.send(f"MODE #c +l {bad}") == [f":irc.test 696 alice #c l {bad} :Invalid limit"]
    assert channel(core).limit is None
    assert "l" not in channel(core).modes
    assert alice.send("MODE #c +l 007") == [f"{ALICE} MODE #c +l 7"]
    assert alice.send("MODE #c +l 7") == []


def test_modes_limit_ignores_extra_parameterised_modes(core: CoreHarness) -> None:
    alice, *_ = in_channel(core, "alice", "b", "c", "d", "e", "f")
    assert alice.send("MODE #c +vvvvvi b c d e f") == [f"{ALICE} MODE #c +vvvvi b c d e"]
    assert channel(core).members[core.server.state.nicks["f"]] == set()


def test_modes_limit_from_config() -> None:
    core = CoreHarness(modes=1)
    alice, _ = in_channel(core, "alice", "bob")
    assert alice.send("MODE #c +kv key bob") == [f"{ALICE} MODE #c +k key"]


def test_parameters_that_cannot_be_echoed(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    assert alice.send("MODE #c +b ::x") == [":irc.test 696 alice #c b * :Invalid ban mask"]
    assert alice.send("MODE #c +o :a b") == [":irc.test 401 alice * :No such nick/channel"]
    assert alice.send("MODE #c +l :a b") == [":irc.test 696 alice #c l * :Invalid limit"]
    assert alice.send("MODE #c :+: x") == [
        ":irc.test 472 alice * :is unknown mode char to me",
        ":irc.test 472 alice * :is unknown mode char to me",
        ":irc.test 472 alice x :is unknown mode char to me",
    ]
    alice.send("MODE #c +k key")
    assert alice.send("MODE #c -k :a b") == [f"{ALICE} MODE #c -k *"]
    assert channel(core).bans == {}


# -- key and limit invariants ----------------------------------------------------------------


def test_key_invariant(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    chan = channel(core)
    assert alice.send("MODE #c +k one") == [f"{ALICE} MODE #c +k one"]
    assert (chan.key, "k" in chan.modes) == ("one", True)
    assert alice.send("MODE #c +k one") == []
    assert alice.send("MODE #c +k two") == [f"{ALICE} MODE #c +k two"]
    assert chan.key == "two"
    assert alice.send("MODE #c -k") == [f"{ALICE} MODE #c -k *"]
    assert (chan.key, "k" in chan.modes) == (None, False)


def test_invalid_key_525(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    invalid = ":irc.test 525 alice #c :Key is not well-formed"
    assert alice.send("MODE #c +k a,b") == [invalid]
    assert alice.send("MODE #c +k :a b") == [invalid]
    assert alice.send("MODE #c +k :") == [invalid]
    assert alice.send("MODE #c +k ::x") == [invalid]
    chan = channel(core)
    assert (chan.key, "k" in chan.modes) == (None, False)


def test_limit_invariant(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    chan = channel(core)
    assert alice.send("MODE #c +l 5") == [f"{ALICE} MODE #c +l 5"]
    assert (chan.limit, "l" in chan.modes) == (5, True)
    assert alice.send("MODE #c +l 9") == [f"{ALICE} MODE #c +l 9"]
    assert alice.send("MODE #c -l") == [f"{ALICE} MODE #c -l"]
    assert (chan.limit, "l" in chan.modes) == (None, False)


# -- bans ------------------------------------------------------------------------------------


def test_ban_add_list_remove(core: CoreHarness) -> None:
    alice, bob = in_channel(core, "alice", "bob")
    line = f"{ALICE} MODE #c +bbb bob!*@* *!u@h.example *!*@*.net"
    assert alice.send("MODE #c +bbb bob u@h.example *!*@*.net") == [line]
    assert bob.take() == [line]
    assert alice.send("MODE #c +b BOB!*@*") == []  # already there, compared under casemapping
    listing = [
        f":irc.test 367 bob #c {mask} alice!~alice@127.0.0.1 :{NOW}"
        for mask in ("bob!*@*", "*!u@h.example", "*!*@*.net")
    ] + [":irc.test 368 bob #c :End of channel ban list"]
    assert bob.send("MODE #c b") == listing
    assert alice.send("MODE #c -b Bob") == [f"{ALICE} MODE #c -b bob!*@*"]
    assert list(channel(core).bans) == ["*!u@h.example", "*!*@*.net"]


def test_ban_list_query_inside_changes(core: CoreHarness) -> None:
    (alice,) = in_channel(core, "alice")
    assert alice.send("MODE #c +ib") == [
        ":irc.test 368 alice #c :End of channel ban list",
        f"{ALICE} MODE #c +i",
    ]


def test_ban_list_full_478() -> None:
    core = CoreHarness(maxlist=2)
    alice, bob = in_channel(core, "alice", "bob")
    assert alice.send("MODE #c +bbb a b c") == [
        ":irc.test 478 alice #c c!*@* :Channel ban list is full",
        f"{ALICE} MODE #c +bb a!*@* b!*@*",
    ]
    assert bob.take() == [f"{ALICE} MODE #c +bb a!*@* b!*@*"]
    assert alice.send("MODE #c -b+b a c") == [f"{ALICE} MODE #c -b+b a!*@* c!*@*"]
    assert list(channel(core).bans) == ["b!*@*", "c!*@*"]


def test_normalize_mask_and_is_banned(core: CoreHarness) -> None:
    assert normalize_mask("nick") == "nick!*@*"
    assert normalize_mask("u@h") == "*!u@h"
    assert normalize_mask("nick!u") == "nick!u@*"
    assert normalize_mask("!@") == "*!*@*"
    assert normalize_mask("n!u@h") == "n!u@h"
    alice, bob = in_channel(core, "alice", "bob")
    chan = channel(core)
    assert not chan.is_banned(bob.session)
    alice.send("MODE #c +b *!~BOB@127.0.0.*")
    assert chan.is_banned(bob.session)
    assert not chan.is_banned(alice.session)


# -- user modes ------------------------------------------------------------------------------


def lusers_counts(client: CoreClient) -> tuple[str, str]:
    """The 251 line's text and the 252 oper count."""
    lines = client.send("LUSERS")
    return lines[0].split(" :", 1)[1], lines[1].split()[3]


def test_user_mode_query_and_invisible(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("MODE alice") == [":irc.test 221 alice :+"]
    assert alice.send("MODE Alice +i") == [":alice MODE alice +i"]
    assert alice.send("MODE alice +i") == []
    assert alice.send("MODE alice") == [":irc.test 221 alice :+i"]
    assert lusers_counts(alice) == ("There are 0 users and 1 invisible on 1 servers", "0")
    assert alice.send("MODE alice -i+i-i") == [":alice MODE alice -i+i-i"]
    assert lusers_counts(alice) == ("There are 1 users and 0 invisible on 1 servers", "0")


def test_invisible_count_follows_quit(core: CoreHarness) -> None:
    alice = core.register("alice")
    bob = core.register("bob")
    bob.send("MODE bob +i")
    bob.send("QUIT")
    assert lusers_counts(alice) == ("There are 1 users and 0 invisible on 1 servers", "0")


def test_user_mode_errors(core: CoreHarness) -> None:
    alice = core.register("alice")
    core.register("bob")
    assert alice.send("MODE ghost") == [":irc.test 401 alice ghost :No such nick/channel"]
    assert alice.send("MODE bob") == [":irc.test 502 alice :Cant change mode for other users"]
    assert alice.send("MODE bob +i") == [":irc.test 502 alice :Cant change mode for other users"]
    assert alice.send("MODE alice +x") == [":irc.test 501 alice :Unknown MODE flag"]
    assert alice.send("MODE alice +xiy") == [
        ":irc.test 501 alice :Unknown MODE flag",
        ":alice MODE alice +i",
    ]


def test_user_mode_o_only_removable(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("MODE alice +o") == []
    assert "o" not in alice.session.modes
    # as OPER would; see test_oper.py for the real thing
    core.server.state.set_user_mode(alice.session, "o", True)
    assert alice.send("MODE alice -o") == [":alice MODE alice -o"]
    assert lusers_counts(alice) == ("There are 1 users and 0 invisible on 1 servers", "0")
    assert alice.send("MODE alice -o") == []
