"""Transcript tests for connection registration, CAP, PASS, NICK, USER, PING and QUIT."""

from __future__ import annotations

from harness import CoreHarness

CAP_LS_302 = [
    (
        ":irc.test CAP * LS * :account-notify account-tag away-notify batch cap-notify"
        " draft/account-registration=before-connect,custom-account-name"
        " draft/channel-rename draft/chathistory draft/event-playback"
        " draft/message-redaction"
        " draft/metadata-2=before-connect,max-subs=50,max-keys=25,max-value-bytes=300"
        " draft/multiline=max-bytes=4096,max-lines=32 draft/read-marker echo-message"
        " extended-join extended-monitor invite-notify"
    ),
    (
        ":irc.test CAP * LS :labeled-response message-tags multi-prefix"
        " sasl=PLAIN,SCRAM-SHA-256 server-time setname standard-replies userhost-in-names"
    ),
]


def numerics(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines]


def test_welcome_burst_order(core: CoreHarness) -> None:
    client = core.connect()
    lines = client.send("NICK alice", "USER al 0 * :Alice Liddell")
    assert numerics(lines) == [
        "001", "002", "003", "004", "005", "005", "005",
        "251", "252", "253", "254", "255", "265", "266",
        "375", "372", "372", "376",
    ]  # fmt: skip
    assert lines[0] == ":irc.test 001 alice :Welcome to the miniircd Network, alice!~al@127.0.0.1"
    assert all(line.startswith(":irc.test ") for line in lines)
    isupport = " ".join(line for line in lines if " 005 " in line)
    for token in ("CASEMAPPING=rfc1459", "CHANTYPES=#", "NICKLEN=30", "CHANNELLEN=50",
                  "TOPICLEN=390", "NETWORK=miniircd"):  # fmt: skip
        assert token in isupport
    assert lines[-1] == ":irc.test 376 alice :End of /MOTD command."


def test_lusers_counts_zero_and_unknown(core: CoreHarness) -> None:
    core.connect()  # an unregistered connection
    lines = core.register("alice").send("LUSERS")
    assert lines[:5] == [
        ":irc.test 251 alice :There are 1 users and 0 invisible on 1 servers",
        ":irc.test 252 alice 0 :operator(s) online",
        ":irc.test 253 alice 1 :unknown connection(s)",
        ":irc.test 254 alice 0 :channels formed",
        ":irc.test 255 alice :I have 1 clients and 0 servers",
    ]


def test_no_motd_gives_422() -> None:
    core = CoreHarness(motd=None)
    lines = core.connect().send("NICK a", "USER a 0 * :a")
    assert lines[-1] == ":irc.test 422 a :MOTD File is missing"


def test_user_before_nick_and_realname(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("USER bob 0 * :Bob Smith") == []
    lines = client.send("NICK bob")
    assert lines[0].startswith(":irc.test 001 bob ")
    assert client.session.realname == "Bob Smith"


def test_user_with_an_empty_realname_or_user_name_461(core: CoreHarness) -> None:
    client = core.connect()
    refused = [":irc.test 461 a USER :Not enough parameters"]
    assert client.send("NICK a", "USER a 0 * :") == refused  # empty realname
    assert client.send("USER :") == refused  # empty user name (and too few parameters)
    assert client.session.user is None and not client.session.registered
    lines = client.send("USER a 0 * :A")  # the refusals changed nothing: a retry works
    assert lines[0] == ":irc.test 001 a :Welcome to the miniircd Network, a!~a@127.0.0.1"


def test_user_name_with_nothing_usable_gets_the_fallback(core: CoreHarness) -> None:
    client = core.connect()
    lines = client.send("NICK e", "USER 😀😀 0 * :Emoji")
    assert lines[0] == ":irc.test 001 e :Welcome to the miniircd Network, e!~user@127.0.0.1"
    assert core.connect().send("NICK f", "USER *!@ 0 * :f")[0].endswith(" f!~user@127.0.0.1")
    # only what is left after reduction counts: a usable part is kept as it is
    assert core.connect().send("NICK g", "USER 😀g😀 0 * :g")[0].endswith(" g!~g@127.0.0.1")


def test_cap_ls_holds_registration_until_cap_end(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("CAP LS 302") == CAP_LS_302
    assert client.send("NICK w", "USER w 0 * :w") == []
    lines = client.send("CAP END")
    assert lines[0].startswith(":irc.test 001 w ")


def test_cap_req_unknown_is_naked_whole(core: CoreHarness) -> None:
    client = core.connect()
    lines = client.send("CAP REQ :multi-prefix bogus")
    assert lines == [":irc.test CAP * NAK :multi-prefix bogus"]
    assert client.send("CAP REQ bogus") == [":irc.test CAP * NAK :bogus"]
    assert client.session.caps == set()
    assert client.send("NICK h", "USER h 0 * :h") == []  # REQ also holds registration
    assert client.send("CAP END")[0].startswith(":irc.test 001 h ")


def test_cap_list_and_bad_subcommand(core: CoreHarness) -> None:
    client = core.register("c")
    assert client.send("CAP LIST") == [":irc.test CAP c LIST :"]
    assert client.send("CAP FOO") == [":irc.test 410 c FOO :Invalid CAP command"]
    assert client.send("CAP") == [":irc.test 461 c CAP :Not enough parameters"]


def test_commands_before_registration_get_451(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("MOTD") == [":irc.test 451 * :You have not registered"]
    assert client.send("PING :abc") == [":irc.test PONG irc.test :abc"]


def test_unknown_command_421(core: CoreHarness) -> None:
    client = core.register("alice")
    assert client.send("FROB x") == [":irc.test 421 alice FROB :Unknown command"]


def test_nick_errors(core: CoreHarness) -> None:
    core.register("alice")
    client = core.connect()
    assert client.send("NICK") == [":irc.test 431 * :No nickname given"]
    assert client.send("NICK :") == [":irc.test 431 * :No nickname given"]
    assert client.send("NICK 9lives") == [":irc.test 432 * 9lives :Erroneous nickname"]
    assert client.send("NICK " + "n" * 31) == [f":irc.test 432 * {'n' * 31} :Erroneous nickname"]
    assert client.send("NICK ALICE") == [":irc.test 433 * ALICE :Nickname is already in use"]
    # rfc1459 casemapping: [ and { are the same letter
    core.register("a[b]")
    assert client.send("NICK A{B}") == [":irc.test 433 * A{B} :Nickname is already in use"]


def test_nick_change_after_registration(core: CoreHarness) -> None:
    client = core.register("alice")
    assert client.send("NICK Alice2") == [":alice!~alice@127.0.0.1 NICK Alice2"]
    assert core.server.state.find_nick("alice2") is client.session
    assert core.server.state.find_nick("alice") is None
    assert client.send("NICK ALICE2") == [":Alice2!~alice@127.0.0.1 NICK ALICE2"]
    assert client.send("NICK ALICE2") == []


def test_user_and_pass_after_registration_462(core: CoreHarness) -> None:
    client = core.register("alice")
    assert client.send("USER a 0 * :a") == [":irc.test 462 alice :You may not reregister"]
    assert client.send("PASS x") == [":irc.test 462 alice :You may not reregister"]
    assert client.send("USER a") == [":irc.test 461 alice USER :Not enough parameters"]


def test_server_password() -> None:
    core = CoreHarness(password="sesame")
    good = core.connect()
    assert good.send("PASS sesame", "NICK g", "USER g 0 * :g")[0].startswith(":irc.test 001 g")
    bad = core.connect()
    lines = bad.send("PASS wrong", "NICK b", "USER b 0 * :b")
    assert lines == [
        ":irc.test 464 b :Password incorrect",
        "ERROR :Closing link: b[127.0.0.1] (Bad password)",
    ]
    assert bad.closed
    missing = core.connect()
    assert missing.send("NICK m", "USER m 0 * :m")[0] == ":irc.test 464 m :Password incorrect"


def test_pass_without_server_password_is_an_account_login(core: CoreHarness) -> None:
    client = core.connect()
    lines = client.send("PASS whatever", "NICK p", "USER p 0 * :p")
    assert lines[0] == ":irc.test NOTICE p :Login failed: invalid account or password"
    assert lines[1].startswith(":irc.test 001 p ")  # registration goes on as a guest


def test_cap_ls_without_version_has_no_values(core: CoreHarness) -> None:
    client = core.connect()
    assert client.send("CAP LS") == [
        ":irc.test CAP * LS :account-notify account-tag away-notify batch cap-notify"
        " draft/account-registration draft/channel-rename draft/chathistory"
        " draft/event-playback draft/message-redaction draft/metadata-2 draft/multiline"
        " draft/read-marker echo-message extended-join extended-monitor invite-notify"
        " labeled-response message-tags multi-prefix sasl server-time setname"
        " standard-replies userhost-in-names"
    ]
    assert client.send("CAP REQ :sasl extended-join") == [
        ":irc.test CAP * ACK :sasl extended-join"
    ]
    assert client.session.caps == {"sasl", "extended-join"}
    assert client.send("CAP REQ -sasl") == [":irc.test CAP * ACK :-sasl"]
    assert client.session.caps == {"extended-join"}


def test_quit(core: CoreHarness) -> None:
    client = core.register("alice")
    assert client.send("QUIT :gone fishing") == [
        "ERROR :Closing link: alice[127.0.0.1] (Quit: gone fishing)"
    ]
    assert client.closed
    assert core.server.state.find_nick("alice") is None
    assert core.register("alice")  # the nick is free again


def test_overlong_line_417_and_nul(core: CoreHarness) -> None:
    client = core.register("alice")
    assert client.send("PING :" + "x" * 600) == [":irc.test 417 alice :Input line was too long"]
    tags = "@+a=" + "b" * 5000
    assert client.send(tags + " PING x") == [":irc.test 417 alice :Input line was too long"]
    assert client.send("PING :a\x00b") == [":irc.test 400 alice * :Line contains a NUL byte"]
    assert client.send("PING :" + "x" * 504) == [":irc.test PONG irc.test :" + "x" * 504]


def test_invalid_utf8_is_refused_under_utf8only(core: CoreHarness) -> None:
    client = core.register("alice")
    core.server.receive(client.session, b"PRIVMSG alice :caf\xe9", core.clock.now)
    core.deliver()
    assert client.take() == [
        ":irc.test FAIL PRIVMSG INVALID_UTF8 :Message rejected, your IRC software MUST use"
        " UTF-8 encoding on this network"
    ]
    assert "UTF8ONLY" in " ".join(core.server.isupport())
    core.server.receive(client.session, b"\xff\xfe bad bytes", core.clock.now)
    core.deliver()
    assert client.take() == [
        ":irc.test FAIL * INVALID_UTF8 :Message rejected, your IRC software MUST use"
        " UTF-8 encoding on this network"
    ]


def test_invalid_utf8_refusal_keeps_its_label(core: CoreHarness) -> None:
    client = core.register("alice")
    client.send("CAP REQ :labeled-response")
    core.server.receive(client.session, b"@label=xyz PRIVMSG alice :caf\xe9", core.clock.now)
    core.deliver()
    assert client.take() == [
        "@label=xyz :irc.test FAIL PRIVMSG INVALID_UTF8 :Message rejected, your IRC software"
        " MUST use UTF-8 encoding on this network"
    ]


def test_invalid_utf8_falls_back_to_latin1_when_allowed() -> None:
    core = CoreHarness(utf8_only=False)
    client = core.register("alice")
    core.server.receive(client.session, b"PING :caf\xe9", core.clock.now)
    core.deliver()
    assert client.take() == [":irc.test PONG irc.test :café"]
    assert "UTF8ONLY" not in core.server.isupport()


def test_ping_timeout_sequence() -> None:
    core = CoreHarness(ping_interval=10.0, ping_timeout=20.0)
    client = core.register("alice")
    core.tick(9)
    assert client.take() == []
    core.tick(1)
    assert client.take() == ["PING :irc.test"]
    client.send("PONG irc.test")
    core.tick(15)
    assert client.take() == ["PING :irc.test"]
    core.tick(4.5)
    assert client.take() == []
    core.tick(0.5)  # 20 s since the PONG
    assert client.take() == ["ERROR :Closing link: alice[127.0.0.1] (Ping timeout: 20 seconds)"]
    assert client.closed


def test_registration_timeout() -> None:
    core = CoreHarness(registration_timeout=5.0)
    client = core.connect()
    client.send("NICK slow")
    core.tick(5)
    assert client.take() == ["ERROR :Closing link: slow[127.0.0.1] (Registration timed out)"]
    assert core.server.state.find_nick("slow") is None


def test_ipv6_host_does_not_start_with_colon(core: CoreHarness) -> None:
    client = core.connect("::1")
    lines = client.send("NICK six", "USER six 0 * :six")
    assert lines[0].endswith("six!~six@0::1")


def test_version_and_time(core: CoreHarness) -> None:
    client = core.register("alice")
    lines = client.send("VERSION")
    assert lines[0].startswith(":irc.test 351 alice miniircd-")
    assert " 005 " in lines[1]
    assert client.send("VERSION other.server") == [
        ":irc.test 402 alice other.server :No such server"
    ]
    (time_line,) = client.send("TIME")
    assert time_line.startswith(":irc.test 391 alice irc.test 1700000000 0 :")


def test_info(core: CoreHarness) -> None:
    client = core.register("alice")
    lines = client.send("INFO")
    assert [line.split()[1] for line in lines] == ["371", "371", "371", "374"]
    assert lines[0].startswith(":irc.test 371 alice :miniircd-")
    assert lines[-1] == ":irc.test 374 alice :End of INFO list"
    assert client.send("INFO elsewhere") == [":irc.test 402 alice elsewhere :No such server"]


def test_a_client_is_always_pinged_before_a_ping_timeout() -> None:
    # the loop ticks about once a second: a tick may land after both deadlines at once
    core = CoreHarness(ping_interval=1, ping_timeout=1.5)
    client = core.register("sleepy")
    core.tick(2)
    assert client.take() == ["PING :irc.test"]
    core.tick(1)
    assert client.take()[-1] == "ERROR :Closing link: sleepy[127.0.0.1] (Ping timeout: 1 seconds)"
