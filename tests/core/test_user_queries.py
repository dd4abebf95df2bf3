"""Transcript tests for WHO, WHOIS, WHOWAS, ISON, USERHOST and AWAY."""

from __future__ import annotations

from harness import CoreClient, CoreHarness
from miniircd.core.commands.user_queries import away_reply


def make_oper(core: CoreHarness, client: CoreClient) -> None:
    core.server.state.set_user_mode(client.session, "o", True)


def make_invisible(core: CoreHarness, client: CoreClient) -> None:
    core.server.state.set_user_mode(client.session, "i", True)


def register_at(core: CoreHarness, nick: str, host: str, realname: str) -> CoreClient:
    client = core.connect(host)
    lines = client.send(f"NICK {nick}", f"USER {nick} 0 * :{realname}")
    assert any(" 001 " in line for line in lines), lines
    return client


def who_nicks(lines: list[str]) -> list[str]:
    """The nick field of each 352 reply."""
    return [line.split()[7] for line in lines if " 352 " in line]


def whowas_hosts(lines: list[str]) -> list[str]:
    """The host field of each 314 reply."""
    return [line.split()[5] for line in lines if " 314 " in line]


def joined(core: CoreHarness, channel: str, *clients: CoreClient) -> None:
    for client in clients:
        client.send(f"JOIN {channel}")
    for client in core.clients.values():
        client.take()


# -- WHO ---------------------------------------------------------------------------------


def test_who_channel_flags_and_end(core: CoreHarness) -> None:
    alice, bob, carol = core.register("alice"), core.register("bob"), core.register("carol")
    joined(core, "#Chan", alice, bob, carol)
    make_oper(core, bob)
    carol.send("AWAY :lunch")
    assert alice.send("WHO #chan") == [
        ":irc.test 352 alice #Chan ~alice 127.0.0.1 irc.test alice H@ :0 Alice",
        ":irc.test 352 alice #Chan ~bob 127.0.0.1 irc.test bob H* :0 Bob",
        ":irc.test 352 alice #Chan ~carol 127.0.0.1 irc.test carol G :0 Carol",
        ":irc.test 315 alice #chan :End of WHO list",
    ]


def test_who_flags_order_away_oper_prefix(core: CoreHarness) -> None:
    alice = core.register("alice")
    joined(core, "#c", alice)
    make_oper(core, alice)
    alice.send("AWAY :brb")
    lines = alice.send("WHO #c")
    assert lines[0] == ":irc.test 352 alice #c ~alice 127.0.0.1 irc.test alice G*@ :0 Alice"


def test_who_unknown_channel_only_ends(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("WHO #nowhere") == [":irc.test 315 alice #nowhere :End of WHO list"]


def test_who_secret_channel_hidden_from_outsiders(core: CoreHarness) -> None:
    alice, bob, eve = core.register("alice"), core.register("bob"), core.register("eve")
    joined(core, "#s", alice, bob)
    core.server.state.channels["#s"].modes.add("s")
    assert eve.send("WHO #s") == [":irc.test 315 eve #s :End of WHO list"]
    assert len(bob.send("WHO #s")) == 3
    # and a mask search does not reveal the channel either: the channel field is '*'
    assert eve.send("WHO alice")[0] == (
        ":irc.test 352 eve * ~alice 127.0.0.1 irc.test alice H :0 Alice"
    )


def test_who_channel_hides_invisible_members_from_outsiders(core: CoreHarness) -> None:
    alice, ghost, eve = core.register("alice"), core.register("ghost"), core.register("eve")
    joined(core, "#c", alice, ghost)
    make_invisible(core, ghost)
    assert who_nicks(eve.send("WHO #c")) == ["alice"]
    assert who_nicks(alice.send("WHO #c")) == ["alice", "ghost"]


def test_who_mask_matches_nick_user_host_realname(core: CoreHarness) -> None:
    asker = core.register("asker")
    register_at(core, "zed", "10.0.0.5", "Zed Zebra")
    register_at(core, "yan", "host.example", "Yan Yak")
    assert who_nicks(asker.send("WHO z*")) == ["zed"]
    assert who_nicks(asker.send("WHO ZED")) == ["zed"]  # case-insensitive
    assert who_nicks(asker.send("WHO ~yan")) == ["yan"]  # user name
    assert who_nicks(asker.send("WHO *.example")) == ["yan"]  # host
    assert who_nicks(asker.send("WHO 10.0.0.?")) == ["zed"]
    assert who_nicks(asker.send("WHO :*Zebra")) == ["zed"]  # realname
    assert who_nicks(asker.send("WHO nobody")) == []
    lines = asker.send("WHO zed")
    assert lines == [
        ":irc.test 352 asker * ~zed 10.0.0.5 irc.test zed H :0 Zed Zebra",
        ":irc.test 315 asker zed :End of WHO list",
    ]


def test_who_everyone_and_invisible_users(core: CoreHarness) -> None:
    asker, seen, ghost = core.register("asker"), core.register("seen"), core.register("ghost")
    friend = core.register("friend")
    core.connect().send("NICK pending")  # unregistered: never listed
    for client in (ghost, friend):
        make_invisible(core, client)
    make_invisible(core, asker)
    joined(core, "#shared", asker, friend)
    for mask in ("0", "*"):
        lines = asker.send(f"WHO {mask}")
        assert who_nicks(lines) == ["asker", "seen", "friend"]
        assert lines[-1] == f":irc.test 315 asker {mask} :End of WHO list"
        assert all(line.split()[3] == "*" for line in lines[:-1])
    assert who_nicks(asker.send("WHO gho*")) == []
    assert who_nicks(asker.send("WHO ghost")) == ["ghost"]  # an exact nick: always listed
    assert who_nicks(seen.send("WHO *")) == ["seen"]
    assert who_nicks(ghost.send("WHO ghost")) == ["ghost"]  # oneself is always visible


def test_who_invisible_user_by_exact_nick_mask_and_channel(core: CoreHarness) -> None:
    ghost = register_at(core, "ghost", "10.1.2.3", "Casper")
    eve, friend = core.register("eve"), core.register("friend")
    joined(core, "#c", ghost, friend)
    make_invisible(core, ghost)
    # an exact nick (in any case) names one user, invisible or not
    assert eve.send("WHO GHOST") == [
        ":irc.test 352 eve * ~ghost 10.1.2.3 irc.test ghost H :0 Casper",
        ":irc.test 315 eve GHOST :End of WHO list",
    ]
    # a mask lists only visible users: not an invisible one eve shares no channel with
    for mask in ("gh*", "GHOS?", "*", "0", "10.1.2.3", ":Casper", "~ghost"):
        assert who_nicks(eve.send(f"WHO {mask}")) in ([], ["eve", "friend"]), mask
    assert who_nicks(eve.send("WHO #c")) == ["friend"]  # a channel eve is not on
    # sharing a channel makes the invisible user visible to a mask
    assert who_nicks(friend.send("WHO gh*")) == ["ghost"]
    assert who_nicks(friend.send("WHO :Casper")) == ["ghost"]
    # the exact nick answers for that one user, not for others matching it elsewhere
    register_at(core, "casper", "10.0.0.9", "ghost")
    assert who_nicks(eve.send("WHO ghost")) == ["ghost"]
    assert who_nicks(eve.send("WHO gho*")) == ["casper"]  # its realname; ghost stays hidden


def test_who_opers_only(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    joined(core, "#c", alice, bob)
    make_oper(core, bob)
    assert alice.send("WHO * o") == [
        ":irc.test 352 alice * ~bob 127.0.0.1 irc.test bob H* :0 Bob",
        ":irc.test 315 alice * :End of WHO list",
    ]
    assert alice.send("WHO #c o") == [
        ":irc.test 352 alice #c ~bob 127.0.0.1 irc.test bob H* :0 Bob",
        ":irc.test 315 alice #c :End of WHO list",
    ]


def test_who_needs_a_mask_and_echoes_safely(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("WHO") == [":irc.test 461 alice WHO :Not enough parameters"]
    assert alice.send("WHO :no such person") == [":irc.test 315 alice * :End of WHO list"]


# -- WHOIS -------------------------------------------------------------------------------


def test_whois_full_reply(core: CoreHarness) -> None:
    alice = core.register("alice")
    bob = register_at(core, "Bob", "bob.example", "Bob Builder")
    joined(core, "#one", bob)
    joined(core, "#two", alice, bob)
    make_oper(core, bob)
    bob.send("AWAY :building")
    core.tick(42)
    assert alice.send("WHOIS BOB") == [
        ":irc.test 311 alice Bob ~Bob bob.example * :Bob Builder",
        ":irc.test 319 alice Bob :@#one #two",
        ":irc.test 312 alice Bob irc.test :miniircd IRC server",
        ":irc.test 313 alice Bob :is an IRC operator",
        ":irc.test 301 alice Bob :building",
        ":irc.test 317 alice Bob 42 1700000000 :seconds idle, signon time",
        ":irc.test 318 alice BOB :End of /WHOIS list",
    ]


def test_whois_minimal_reply_without_channels(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    assert alice.send("WHOIS bob") == [
        ":irc.test 311 alice bob ~bob 127.0.0.1 * :Bob",
        ":irc.test 312 alice bob irc.test :miniircd IRC server",
        ":irc.test 317 alice bob 0 1700000000 :seconds idle, signon time",
        ":irc.test 318 alice bob :End of /WHOIS list",
    ]
    assert bob.session.channels == {}


def test_whois_hides_secret_channels_from_non_members(core: CoreHarness) -> None:
    alice, bob, eve = core.register("alice"), core.register("bob"), core.register("eve")
    joined(core, "#open", bob)
    joined(core, "#hidden", bob, alice)
    core.server.state.channels["#hidden"].modes.add("s")
    assert eve.send("WHOIS bob")[1] == ":irc.test 319 eve bob :@#open"
    assert alice.send("WHOIS bob")[1] == ":irc.test 319 alice bob :@#open @#hidden"
    core.server.state.channels["#open"].modes.add("s")
    assert [line.split()[1] for line in eve.send("WHOIS bob")] == ["311", "312", "317", "318"]


def test_whois_unknown_nick_and_no_nick(core: CoreHarness) -> None:
    alice = core.register("alice")
    core.connect().send("NICK pending")  # claimed but not registered
    assert alice.send("WHOIS ghost") == [
        ":irc.test 401 alice ghost :No such nick/channel",
        ":irc.test 318 alice ghost :End of /WHOIS list",
    ]
    assert alice.send("WHOIS pending")[0] == ":irc.test 401 alice pending :No such nick/channel"
    assert alice.send("WHOIS") == [":irc.test 431 alice :No nickname given"]
    assert alice.send("WHOIS :") == [":irc.test 431 alice :No nickname given"]
    assert alice.send("WHOIS :a b")[0] == ":irc.test 401 alice * :No such nick/channel"


def test_whois_server_form_and_first_target_only(core: CoreHarness) -> None:
    alice = core.register("alice")
    core.register("bob")
    core.register("carol")
    lines = alice.send("WHOIS irc.test bob")
    assert lines[0].startswith(":irc.test 311 alice bob ")
    assert lines[-1] == ":irc.test 318 alice bob :End of /WHOIS list"
    lines = alice.send("WHOIS bob bob")  # how clients ask the user's own server
    assert lines[0].startswith(":irc.test 311 alice bob ")
    lines = alice.send("WHOIS bob,carol")  # TARGMAX WHOIS:1
    assert [line.split()[3] for line in lines] == ["bob"] * len(lines)


def test_whois_idle_resets_on_privmsg(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    core.tick(30)
    assert alice.send("WHOIS bob")[-2].split()[4] == "30"
    bob.send("PRIVMSG alice :hi")
    core.tick(5)
    idle_line = alice.send("WHOIS bob")[-2]
    assert idle_line == ":irc.test 317 alice bob 5 1700000000 :seconds idle, signon time"


def test_whois_channel_list_is_split_to_fit_lines() -> None:
    core = CoreHarness(chanlimit=50)
    alice, bob = core.register("alice"), core.register("bob")
    names = [f"#{index:02d}" + "x" * 45 for index in range(20)]
    for name in names:
        joined(core, name, bob)
    lines = [line for line in alice.send("WHOIS bob") if " 319 " in line]
    assert len(lines) > 1
    assert all(len(line.encode()) <= 510 for line in lines)
    shown = " ".join(line.split(" :", 1)[1] for line in lines).split()
    assert shown == ["@" + name for name in names]


def test_whois_account_when_logged_in(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    bob.session.account = "Bobby"
    assert ":irc.test 330 alice bob Bobby :is logged in as" in alice.send("WHOIS bob")


# -- WHOWAS ------------------------------------------------------------------------------


def test_whowas_after_nick_change_and_quit(core: CoreHarness) -> None:
    alice = core.register("alice")
    old = register_at(core, "Oldie", "old.example", "Old Timer")
    old.send("NICK newbie")
    assert alice.send("WHOWAS oldie") == [
        ":irc.test 314 alice Oldie ~Oldie old.example * :Old Timer",
        ":irc.test 312 alice Oldie irc.test :Tue Nov 14 22:13:20 2023",
        ":irc.test 369 alice oldie :End of WHOWAS",
    ]
    core.tick(60)
    old.send("QUIT :bye")
    assert alice.send("WHOWAS NEWBIE") == [
        ":irc.test 314 alice newbie ~Oldie old.example * :Old Timer",
        ":irc.test 312 alice newbie irc.test :Tue Nov 14 22:14:20 2023",
        ":irc.test 369 alice NEWBIE :End of WHOWAS",
    ]


def test_whowas_newest_first_and_count(core: CoreHarness) -> None:
    alice = core.register("alice")
    for host, delay in (("first.example", 0), ("second.example", 10), ("third.example", 10)):
        core.tick(delay)
        register_at(core, "rover", host, "Rover").send("QUIT")
    newest_first = ["third.example", "second.example", "first.example"]
    assert whowas_hosts(alice.send("WHOWAS rover")) == newest_first
    assert whowas_hosts(alice.send("WHOWAS rover 2")) == newest_first[:2]
    assert whowas_hosts(alice.send("WHOWAS rover 0")) == newest_first
    assert whowas_hosts(alice.send("WHOWAS rover -1")) == newest_first
    assert alice.send("WHOWAS rover 1")[1].endswith(":Tue Nov 14 22:13:40 2023")


def test_whowas_unknown_and_no_nick(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("WHOWAS nobody") == [
        ":irc.test 406 alice nobody :There was no such nickname",
        ":irc.test 369 alice nobody :End of WHOWAS",
    ]
    assert alice.send("WHOWAS") == [":irc.test 431 alice :No nickname given"]
    # a nick still in use has no history until it is given up
    assert alice.send("WHOWAS alice")[0].split()[1] == "406"


# -- ISON, USERHOST ----------------------------------------------------------------------


def test_ison(core: CoreHarness) -> None:
    alice = core.register("alice")
    core.register("Bob")
    core.register("carol")
    core.connect().send("NICK pending")
    assert alice.send("ISON bob nobody CAROL pending") == [":irc.test 303 alice :Bob carol"]
    assert alice.send("ISON :bob  carol") == [":irc.test 303 alice :Bob carol"]
    assert alice.send("ISON nobody") == [":irc.test 303 alice :"]
    assert alice.send("ISON") == [":irc.test 461 alice ISON :Not enough parameters"]


def test_userhost(core: CoreHarness) -> None:
    alice = core.register("alice")
    oper = core.register("Oper")
    make_oper(core, oper)
    loafer = register_at(core, "loafer", "l.example", "L")
    loafer.send("AWAY :zzz")
    assert alice.send("USERHOST oper nobody loafer alice") == [
        ":irc.test 302 alice :Oper*=+~Oper@127.0.0.1 loafer=-~loafer@l.example "
        "alice=+~alice@127.0.0.1"
    ]
    assert alice.send("USERHOST nobody") == [":irc.test 302 alice :"]
    six = alice.send("USERHOST a b c d e alice")  # only the first five are answered
    assert six == [":irc.test 302 alice :"]
    assert alice.send("USERHOST") == [":irc.test 461 alice USERHOST :Not enough parameters"]


# -- AWAY --------------------------------------------------------------------------------


def test_away_set_and_clear(core: CoreHarness) -> None:
    alice = core.register("alice")
    assert alice.send("AWAY :gone to lunch") == [
        ":irc.test 306 alice :You have been marked as being away"
    ]
    assert alice.session.away == "gone to lunch"
    assert alice.send("AWAY") == [":irc.test 305 alice :You are no longer marked as being away"]
    assert alice.session.away is None
    alice.send("AWAY x")
    assert alice.send("AWAY :") == [":irc.test 305 alice :You are no longer marked as being away"]
    assert alice.session.away is None


def test_away_is_truncated_to_awaylen() -> None:
    core = CoreHarness(awaylen=5)
    alice = core.register("alice")
    alice.send("AWAY :abcdefgh")
    assert alice.session.away == "abcde"


def test_away_reply_helper_and_privmsg(core: CoreHarness) -> None:
    alice, bob = core.register("alice"), core.register("bob")
    away_reply(core.server, alice.session, bob.session)
    core.deliver()
    assert alice.take() == []
    bob.send("AWAY :out for a walk")
    away_reply(core.server, alice.session, bob.session)
    core.deliver()
    assert alice.take() == [":irc.test 301 alice bob :out for a walk"]
    assert alice.send("PRIVMSG bob :hello") == [":irc.test 301 alice bob :out for a walk"]
