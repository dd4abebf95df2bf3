"""labeled-response in the core: answers that come from worker jobs keep their label."""

from __future__ import annotations

import re

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
    lines = client.send("@label=r1 REGISTER * * bob-password")
    opening = re.fullmatch(r"@label=r1 :irc\.test BATCH \+(\w+) labeled-response", lines[0])
    assert opening is not None
    ref = opening.group(1)
    assert lines[1].startswith(f"@batch={ref} :irc.test 900 bob ")
    assert lines[2] == (
        f"@batch={ref} :irc.test REGISTER SUCCESS bob :Account successfully registered"
    )
    assert lines[3] == f":irc.test BATCH -{ref}"


def test_who_with_an_empty_field_list_is_an_ordinary_who(core: CoreHarness) -> None:
    client = core.register("carol")
    assert client.send("WHO carol %")[0].startswith(":irc.test 352 carol * ~carol ")
