"""labeled-response in the core: answers that come from worker jobs keep their label."""

from __future__ import annotations

from harness import CoreClient, CoreHarness


def labeled_client(core: CoreHarness, nick: str) -> CoreClient:
    client = core.connect()
    client.send("CAP REQ :labeled-response batch", f"NICK {nick}", f"USER {nick} 0 * :x")
    client.send("CAP END")
    return client


def test_answer_after_two_chained_jobs_keeps_its_label(core: CoreHarness) -> None:
    client = labeled_client(core, "alice")
    client.send("REGISTER * * first-password")
    # PASSWD checks the old password (one job), then hashes the new one (another)
    lines = client.send("@label=pw PRIVMSG NickServ :PASSWD first-password second-password")
    assert lines == [
        "@label=pw :NickServ!NickServ@services NOTICE alice :Your password has been changed."
    ]


def test_registration_answer_is_one_labelled_batch(core: CoreHarness) -> None:
    client = labeled_client(core, "bob")
    assert client.send("@label=r1 REGISTER * * bob-password") == [
        "@label=r1 :irc.test BATCH +batch1 labeled-response",
        "@batch=batch1 :irc.test 900 bob bob!~bob@127.0.0.1 bob :You are now logged in as bob",
        "@batch=batch1 :irc.test REGISTER SUCCESS bob :Account successfully registered",
        ":irc.test BATCH -batch1",
    ]


def test_who_with_an_empty_field_list_is_an_ordinary_who(core: CoreHarness) -> None:
    client = core.register("carol")
    assert client.send("WHO carol %")[0].startswith(":irc.test 352 carol * ~carol ")


# -- echo-message: the echo is the answer ----------------------------------------------


def echo_client(core: CoreHarness, nick: str, *more_caps: str) -> CoreClient:
    client = core.connect()
    caps = " ".join(("labeled-response", "batch", "echo-message", *more_caps))
    client.send(f"CAP REQ :{caps}", f"NICK {nick}", f"USER {nick} 0 * :x", "CAP END")
    return client


def test_message_to_oneself_is_the_delivery_then_the_labelled_echo(core: CoreHarness) -> None:
    client = echo_client(core, "me")
    for verb in ("PRIVMSG", "NOTICE"):
        line = f":me!~me@127.0.0.1 {verb} me :hi"
        # no batch: the delivery is a side effect, not part of the answer; the echo is
        assert client.send(f"@label=s1 {verb} ME :hi") == [line, f"@label=s1 {line}"]


def test_tagmsg_to_oneself_labels_only_the_echo(core: CoreHarness) -> None:
    client = echo_client(core, "me", "message-tags")
    # the delivery is unlabelled and outside any batch; the echo, the same line, labelled
    assert client.send("@label=t1;+typing=active TAGMSG me") == [
        "@msgid=msg1;+typing=active :me!~me@127.0.0.1 TAGMSG me",
        "@msgid=msg1;+typing=active;label=t1 :me!~me@127.0.0.1 TAGMSG me",
    ]


def test_message_to_oneself_without_echo_is_delivered_unlabelled_then_ack(
    core: CoreHarness,
) -> None:
    client = labeled_client(core, "me")
    assert client.send("@label=n1 PRIVMSG me :hi") == [
        ":me!~me@127.0.0.1 PRIVMSG me :hi",
        "@label=n1 :irc.test ACK",
    ]


def test_message_to_another_labels_its_echo(core: CoreHarness) -> None:
    client = echo_client(core, "me")
    other = core.register("bob")
    assert client.send("@label=o1 PRIVMSG bob :hi") == [
        "@label=o1 :me!~me@127.0.0.1 PRIVMSG bob :hi"
    ]
    assert other.take() == [":me!~me@127.0.0.1 PRIVMSG bob :hi"]  # never labelled


def test_oneself_and_another_target_batch_only_the_echoes(core: CoreHarness) -> None:
    client = echo_client(core, "me")
    core.register("bob")
    assert client.send("@label=b1 PRIVMSG me,bob :hi") == [
        ":me!~me@127.0.0.1 PRIVMSG me :hi",  # the delivery, outside the batch
        "@label=b1 :irc.test BATCH +batch1 labeled-response",
        "@batch=batch1 :me!~me@127.0.0.1 PRIVMSG me :hi",
        "@batch=batch1 :me!~me@127.0.0.1 PRIVMSG bob :hi",
        ":irc.test BATCH -batch1",
    ]


def test_a_command_with_several_replies_keeps_its_batch(core: CoreHarness) -> None:
    client = echo_client(core, "me")
    lines = client.send("@label=w1 WHOIS me")
    assert lines[0] == "@label=w1 :irc.test BATCH +batch1 labeled-response"
    assert " 311 me me " in lines[1]
    assert " 318 me me " in lines[-2]
    assert lines[-1] == ":irc.test BATCH -batch1"
