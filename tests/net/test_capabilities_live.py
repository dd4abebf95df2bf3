"""Every capability in CAP LS, requested with CAP REQ over a real socket, with its lines.

`test_every_offered_capability_has_a_live_test` keeps this honest: a capability added
to CAP LS without a `test_cap_<name>` here fails the suite.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from liveserver import LineClient, LiveServer
from miniircd.core.capabilities import CAPABILITIES

TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
MSGID = r"[\w-]+"


def modern(live: LiveServer, nick: str, caps: str) -> LineClient:
    """A client that negotiates `caps` (space-separated) and registers as `nick`."""
    client = LineClient(live.port)
    client.send("CAP LS 302", f"CAP REQ :{caps}")
    assert client.expect(" ACK | NAK ") == f":irc.test CAP * ACK :{caps}"
    client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick.title()} Person", "CAP END")
    client.expect(" 376 ")
    return client


def joined(client: LineClient, channel: str) -> None:
    client.send(f"JOIN {channel}")
    client.expect(f" 366 \\S+ {re.escape(channel)} ")


def with_account(live: LiveServer, nick: str) -> LineClient:
    client = live.client(nick)
    client.send(f"REGISTER * * {nick}-password")
    client.expect("REGISTER SUCCESS")
    return client


def prefix(nick: str) -> str:
    return f"{nick}!~{nick}@127.0.0.1"


def test_every_offered_capability_has_a_live_test() -> None:
    missing = [
        name for name in CAPABILITIES
        if f"test_cap_{re.sub(r'[/.-]', '_', name)}" not in globals()
    ]  # fmt: skip
    assert missing == []


def test_cap_account_notify(live: LiveServer) -> None:
    watcher = modern(live, "watcher", "account-notify")
    joined(watcher, "#c")
    bob = with_account(live, "bob")
    bob.send("PRIVMSG NickServ :LOGOUT")
    bob.expect(" 901 ")
    joined(bob, "#c")
    watcher.expect("JOIN")
    bob.send("PRIVMSG NickServ :IDENTIFY bob-password")
    assert watcher.expect("ACCOUNT") == f":{prefix('bob')} ACCOUNT bob"
    bob.send("PRIVMSG NickServ :LOGOUT")
    assert watcher.expect("ACCOUNT") == f":{prefix('bob')} ACCOUNT *"


def test_cap_account_tag(live: LiveServer) -> None:
    watcher = modern(live, "watcher", "account-tag")
    joined(watcher, "#c")
    bob = with_account(live, "bob")
    joined(bob, "#c")
    bob.send("PRIVMSG #c :tagged")
    assert watcher.expect("PRIVMSG") == f"@account=bob :{prefix('bob')} PRIVMSG #c :tagged"


def test_cap_away_notify(live: LiveServer) -> None:
    watcher = modern(live, "watcher", "away-notify")
    joined(watcher, "#c")
    bob = live.client("bob")
    bob.send("AWAY :lunch")
    bob.expect(" 306 ")
    joined(bob, "#c")
    watcher.expect("JOIN")
    assert watcher.expect("AWAY") == f":{prefix('bob')} AWAY :lunch"  # away when joining
    bob.send("AWAY")
    assert watcher.expect("AWAY") == f":{prefix('bob')} AWAY"
    bob.send("AWAY :back soon")
    assert watcher.expect("AWAY") == f":{prefix('bob')} AWAY :back soon"


def test_cap_batch(live: LiveServer) -> None:
    talker = live.client("talker")
    joined(talker, "#c")
    talker.send("PRIVMSG #c :remember me")
    reader = modern(live, "reader", "batch")
    reader.send("JOIN #c")
    start = reader.expect("BATCH")
    found = re.fullmatch(r":irc\.test BATCH \+(\w+) chathistory #c", start)
    assert found is not None
    ref = found.group(1)
    line = reader.expect("PRIVMSG")
    talker_re = re.escape(prefix("talker"))
    assert re.fullmatch(rf"@batch={ref} :{talker_re} PRIVMSG #c :\[.*\] remember me", line)
    assert reader.expect("BATCH") == f":irc.test BATCH -{ref}"


def test_cap_cap_notify(live: LiveServer) -> None:
    client = LineClient(live.port)
    client.send("CAP LS", "CAP REQ :cap-notify")
    assert client.expect("ACK") == ":irc.test CAP * ACK :cap-notify"
    client.send("CAP LIST")
    assert client.expect("LIST") == ":irc.test CAP * LIST :cap-notify"


def account_registration_value(client: LineClient) -> str:
    """What `CAP LS 302` gives as the value of draft/account-registration."""
    client.send("CAP LS 302")
    tokens = client.cap_ls()
    (value,) = [t.split("=", 1)[1] for t in tokens if t.startswith("draft/account-registration=")]
    return value


def test_cap_draft_account_registration(live: LiveServer) -> None:
    client = LineClient(live.port)
    # The policy in force, exactly: early REGISTER, any account name, no email needed.
    assert account_registration_value(client) == "before-connect,custom-account-name"
    client.send("CAP REQ :draft/account-registration", "NICK newbie")
    client.expect("ACK")
    client.send("REGISTER * * newbie-password")  # before connection registration
    assert client.expect(" 900 ").endswith(" newbie :You are now logged in as newbie")
    assert client.expect("REGISTER") == (
        ":irc.test REGISTER SUCCESS newbie :Account successfully registered"
    )
    client.send("REGISTER other * other-password")
    assert client.expect("FAIL") == (
        ":irc.test FAIL REGISTER ALREADY_AUTHENTICATED other :You are already logged in"
    )


def test_cap_draft_account_registration_with_a_server_password(tmp_path: Path) -> None:
    """With a server password REGISTER before the welcome would get round it: the value
    leaves out `before-connect`, and an early REGISTER gets the FAIL the spec then allows."""
    server = LiveServer(tmp_path, "--password", "letmein")
    server.start()
    try:
        client = LineClient(server.port)
        assert account_registration_value(client) == "custom-account-name"
        client.send("CAP REQ :draft/account-registration", "PASS letmein", "NICK newbie")
        client.expect("ACK")
        client.send("REGISTER * * newbie-password")
        assert client.expect("FAIL|REGISTER") == (
            ":irc.test FAIL REGISTER COMPLETE_CONNECTION_REQUIRED newbie"
            " :You must complete connection registration first"
        )
        client.send("USER newbie 0 * :Newbie", "CAP END")
        client.expect(" 001 ")
        client.send("REGISTER * * newbie-password")
        assert client.expect("REGISTER") == (
            ":irc.test REGISTER SUCCESS newbie :Account successfully registered"
        )
    finally:
        server.stop()


def test_cap_draft_channel_rename(live: LiveServer) -> None:
    aware = modern(live, "aware", "draft/channel-rename")
    plain = live.client("plain")
    joined(aware, "#bar")
    joined(plain, "#bar")
    aware.send("RENAME #bar #qux :no reason")
    assert aware.expect("RENAME") == f":{prefix('aware')} RENAME #bar #qux :no reason"
    assert plain.expect("PART") == f":{prefix('plain')} PART #bar :no reason"
    assert plain.expect("JOIN") == f":{prefix('plain')} JOIN #qux"
    assert plain.expect(" 353 ") == ":irc.test 353 plain = #qux :@aware plain"
    plain.send("RENAME #qux #other")
    assert plain.expect(" 482 ") == ":irc.test 482 plain #qux :You're not channel operator"
    aware.send("RENAME #qux #QUX")  # a change of case: no fallback for plain
    assert aware.expect("RENAME") == f":{prefix('aware')} RENAME #qux #QUX :"
    plain.send("NAMES #qux")
    assert plain.expect(".") == ":irc.test 353 plain = #QUX :@aware plain"  # nothing before


def test_cap_draft_chathistory(live: LiveServer) -> None:
    talker = live.client("talker")
    joined(talker, "#c")
    talker.send("PRIVMSG #c :one", "PRIVMSG #c :two")
    reader = modern(live, "reader", "draft/chathistory batch server-time message-tags")
    reader.send("JOIN #c")
    assert reader.expect(" 366 ") == ":irc.test 366 reader #c :End of /NAMES list"
    reader.send("CHATHISTORY LATEST #c * 1")
    found = re.fullmatch(r":irc\.test BATCH \+(\w+) chathistory #c", reader.expect("BATCH"))
    assert found is not None
    assert re.fullmatch(
        rf"@time={TIME};msgid={MSGID};batch={found.group(1)} "
        rf":{re.escape(prefix('talker'))} PRIVMSG #c :two",
        reader.expect("PRIVMSG"),
    )


def test_cap_draft_multiline(live: LiveServer) -> None:
    client = LineClient(live.port)
    client.send("CAP LS 302")
    assert "draft/multiline=max-bytes=4096,max-lines=32" in client.expect(" LS ").split()
    sender = modern(live, "sender", "batch draft/multiline")
    joined(sender, "#c")
    reader = modern(live, "reader", "batch draft/multiline")
    joined(reader, "#c")
    sender.send("BATCH +m draft/multiline #c", "@batch=m PRIVMSG #c :a", "@batch=m PRIVMSG #c :b")
    sender.send("BATCH -m")
    start = reader.expect("BATCH")
    found = re.fullmatch(rf":{re.escape(prefix('sender'))} BATCH \+(\w+) draft/multiline #c", start)
    assert found is not None, start
    assert reader.expect("PRIVMSG") == f"@batch={found.group(1)} :{prefix('sender')} PRIVMSG #c :a"
    assert reader.expect("PRIVMSG") == f"@batch={found.group(1)} :{prefix('sender')} PRIVMSG #c :b"
    assert reader.expect("BATCH") == f":{prefix('sender')} BATCH -{found.group(1)}"


def test_cap_draft_event_playback(live: LiveServer) -> None:
    talker = live.client("talker")
    joined(talker, "#c")  # the room's operator, who may set its topic
    reader = modern(
        live, "reader", "draft/chathistory draft/event-playback batch server-time message-tags"
    )
    joined(reader, "#c")
    talker.send("TOPIC #c :news", "PRIVMSG #c :hello", "QUIT :bye")
    live_topic = reader.expect("TOPIC")
    assert re.fullmatch(
        rf"@time={TIME};msgid={MSGID} :{re.escape(prefix('talker'))} TOPIC #c :news", live_topic
    )
    reader.expect("QUIT")
    reader.send("CHATHISTORY LATEST #c * 3")
    lines = reader.lines_until("BATCH -")
    found = re.fullmatch(r":irc\.test BATCH \+(\w+) chathistory #c", lines[0])
    assert found is not None
    tags = live_topic.split(" ", 1)[0]
    assert [line.split(" ", 1)[1] for line in lines[1:-1]] == [
        f":{prefix('talker')} TOPIC #c :news",
        f":{prefix('talker')} PRIVMSG #c :hello",
        f":{prefix('talker')} QUIT :Quit: bye",
    ]
    assert lines[1].split(" ", 1)[0] == f"{tags};batch={found.group(1)}"  # the live tags


def test_cap_draft_message_redaction(live: LiveServer) -> None:
    caps = "draft/message-redaction message-tags echo-message"
    alice, bob = modern(live, "alice", caps), modern(live, "bob", caps)
    plain = live.client("plain")
    for client in (alice, bob, plain):
        joined(client, "#c")
    bob.send("PRIVMSG #c :oops")
    msgid = bob.expect("PRIVMSG").split(" ", 1)[0].split("msgid=")[1].split(";")[0]
    plain.expect("PRIVMSG")
    bob.send(f"REDACT #c {msgid} :typo")
    redact = rf"@msgid={MSGID} :{re.escape(prefix('bob'))} REDACT #c {msgid} typo"
    assert re.fullmatch(redact, bob.expect("REDACT"))
    assert re.fullmatch(redact, alice.expect("REDACT"))
    plain.send("HISTORY #c")  # plain gets no REDACT, and the history forgot the message
    assert plain.lines_until("end of history") == [
        ":irc.test NOTICE #c :*** history: 0 message(s) follow",
        ":irc.test NOTICE #c :*** end of history",
    ]
    alice.send(f"REDACT #c {msgid}")
    assert alice.expect("FAIL") == (
        f":irc.test FAIL REDACT UNKNOWN_MSGID #c {msgid} :This message does not exist or is too old"
    )


def test_cap_draft_metadata_2(live: LiveServer) -> None:
    watcher = modern(live, "watcher", "draft/metadata-2")  # batch not negotiated: bare lines
    watcher.send("METADATA * SUB avatar")
    assert watcher.expect(" 770 ") == ":irc.test 770 watcher :avatar"
    joined(watcher, "#c")
    setter = live.client("setter")  # the command works without the capability too
    joined(setter, "#c")
    setter.send("METADATA * SET avatar :https://example.com/a.png")
    assert (
        setter.expect(" 761 ") == ":irc.test 761 setter setter avatar * :https://example.com/a.png"
    )
    assert (
        watcher.expect("METADATA") == ":irc.test METADATA setter avatar * https://example.com/a.png"
    )


def test_cap_draft_read_marker(live: LiveServer) -> None:
    with_account(live, "reader").send("QUIT")
    devices = []
    for nick in ("laptop", "phone"):
        client = LineClient(live.port)
        client.send("CAP REQ :draft/read-marker", "PASS reader:reader-password")
        client.send(f"NICK {nick}", f"USER {nick} 0 * :{nick}", "CAP END")
        client.expect(" 376 ")
        devices.append(client)
    laptop, phone = devices
    laptop.send("JOIN #c")
    assert laptop.lines_until(" 366 ")[1] == ":irc.test MARKREAD #c *"
    stamp = "timestamp=2020-01-02T03:04:05.678Z"
    laptop.send(f"MARKREAD #c {stamp}")
    assert laptop.expect("MARKREAD") == f":irc.test MARKREAD #c {stamp}"
    assert phone.expect("MARKREAD") == f":irc.test MARKREAD #c {stamp}"


def test_cap_echo_message(live: LiveServer) -> None:
    client = modern(live, "echoer", "echo-message")
    joined(client, "#c")
    client.send("PRIVMSG #c :hear myself")
    assert client.expect("PRIVMSG") == f":{prefix('echoer')} PRIVMSG #c :hear myself"


def test_cap_extended_join(live: LiveServer) -> None:
    watcher = modern(live, "watcher", "extended-join")
    joined(watcher, "#c")
    bob = live.client("bob")
    joined(bob, "#c")
    assert watcher.expect("JOIN") == f":{prefix('bob')} JOIN #c * :bob"
    carol = with_account(live, "carol")
    joined(carol, "#c")
    assert watcher.expect("JOIN") == f":{prefix('carol')} JOIN #c carol :carol"


def test_cap_extended_monitor(live: LiveServer) -> None:
    watcher = modern(live, "watcher", "extended-monitor away-notify setname")
    watcher.send("MONITOR + bob")
    watcher.expect(" 731 ")
    bob = live.client("bob")  # shares no channel with the watcher
    assert watcher.expect(" 730 ") == f":irc.test 730 watcher :{prefix('bob')}"
    bob.send("AWAY :lunch")
    assert watcher.expect("AWAY") == f":{prefix('bob')} AWAY :lunch"
    joined(watcher, "#c")
    joined(bob, "#c")  # now a peer too: still told once
    bob.send("SETNAME :Bob Renamed", "AWAY")
    assert watcher.expect("JOIN") == f":{prefix('bob')} JOIN #c"
    assert watcher.expect("AWAY :lunch") == f":{prefix('bob')} AWAY :lunch"  # away-notify's
    assert read(watcher, 2) == [f":{prefix('bob')} SETNAME :Bob Renamed", f":{prefix('bob')} AWAY"]
    watcher.send("PING :end")
    assert watcher.expect(".") == ":irc.test PONG irc.test :end"  # nothing more came first


def test_cap_invite_notify(live: LiveServer) -> None:
    op = live.client("op")
    joined(op, "#c")
    watcher = modern(live, "watcher", "invite-notify")
    joined(watcher, "#c")
    guest = live.client("guest")
    op.send("INVITE guest #c")
    assert watcher.expect("INVITE") == f":{prefix('op')} INVITE guest #c"
    assert guest.expect("INVITE") == f":{prefix('op')} INVITE guest #c"


def test_cap_labeled_response(live: LiveServer) -> None:
    client = modern(live, "labeler", "labeled-response batch")
    client.send("@label=one PING :x")
    assert client.expect("PONG") == "@label=one :irc.test PONG irc.test :x"
    client.send("@label=two PONG :nothing to say")
    assert client.expect("ACK") == "@label=two :irc.test ACK"
    client.send("@label=three JOIN #c")
    opening = client.expect("BATCH")
    found = re.fullmatch(r"@label=three :irc\.test BATCH \+(\w+) labeled-response", opening)
    assert found is not None
    ref = found.group(1)
    assert client.expect("JOIN") == f"@batch={ref} :{prefix('labeler')} JOIN #c"
    assert client.expect(" 353 ") == f"@batch={ref} :irc.test 353 labeler = #c :@labeler"
    assert client.expect(" 366 ") == f"@batch={ref} :irc.test 366 labeler #c :End of /NAMES list"
    assert client.expect("BATCH") == f":irc.test BATCH -{ref}"
    client.send("@label=four REGISTER * * labeler-password")  # answered from a worker thread
    opening = client.expect("BATCH")
    found = re.fullmatch(r"@label=four :irc\.test BATCH \+(\w+) labeled-response", opening)
    assert found is not None
    assert client.expect(" 900 ").startswith(f"@batch={found.group(1)} :irc.test 900 ")


def test_labelled_message_to_oneself_with_echo_message(live: LiveServer) -> None:
    client = modern(live, "selfie", "labeled-response batch echo-message")
    line = f":{prefix('selfie')} PRIVMSG selfie :note to self"
    client.send("@label=me PRIVMSG selfie :note to self", "PING :done")
    # the delivery, then the echo, which is the answer and alone carries the label: no batch
    assert client.lines_until("PONG") == [
        line,
        f"@label=me {line}",
        ":irc.test PONG irc.test :done",
    ]
    bob = live.client("bob")
    client.send("@label=other NOTICE bob :hi", "PING :done")
    assert client.lines_until("PONG") == [
        f"@label=other :{prefix('selfie')} NOTICE bob :hi",
        ":irc.test PONG irc.test :done",
    ]
    assert bob.expect("NOTICE") == f":{prefix('selfie')} NOTICE bob :hi"


def test_cap_message_tags(live: LiveServer) -> None:
    sender = modern(live, "sender", "message-tags")
    receiver = modern(live, "receiver", "message-tags")
    plain = live.client("plain")
    for client in (sender, receiver, plain):
        joined(client, "#c")
    sender.send("@+draft/react=👍;not-client-only=x TAGMSG #c")
    assert re.fullmatch(
        rf"@msgid={MSGID};\+draft/react=👍 :{re.escape(prefix('sender'))} TAGMSG #c",
        receiver.expect("TAGMSG"),
    )
    sender.send("@+example=1 PRIVMSG #c :hi")
    assert re.fullmatch(
        rf"@msgid={MSGID};\+example=1 :{re.escape(prefix('sender'))} PRIVMSG #c :hi",
        receiver.expect("PRIVMSG"),
    )
    assert plain.expect("PRIVMSG") == f":{prefix('sender')} PRIVMSG #c :hi"  # no TAGMSG first


def test_cap_multi_prefix(live: LiveServer) -> None:
    op = modern(live, "op", "multi-prefix")
    joined(op, "#c")
    op.send("MODE #c +v op", "NAMES #c")
    assert op.expect(" 353 ") == ":irc.test 353 op = #c :@+op"
    op.send("WHO #c")
    assert op.expect(" 352 ") == ":irc.test 352 op #c ~op 127.0.0.1 irc.test op H@+ :0 Op Person"


def test_cap_sasl(live: LiveServer) -> None:
    with_account(live, "saslam").send("QUIT")
    client = LineClient(live.port)
    client.send("CAP LS 302", "CAP REQ :sasl", "NICK saslam", "USER saslam 0 * :s")
    client.expect("ACK")
    client.send("AUTHENTICATE PLAIN")
    assert client.expect("AUTHENTICATE") == "AUTHENTICATE +"
    client.send("AUTHENTICATE " + base64.b64encode(b"\0saslam\0saslam-password").decode())
    assert client.expect(" 900 ") == (
        ":irc.test 900 saslam saslam!~saslam@127.0.0.1 saslam :You are now logged in as saslam"
    )
    assert client.expect(" 903 ") == ":irc.test 903 saslam :SASL authentication successful"
    client.send("CAP END")
    client.expect(" 001 ")


def test_cap_server_time(live: LiveServer) -> None:
    watcher = modern(live, "watcher", "server-time")
    joined(watcher, "#c")
    bob = live.client("bob")
    joined(bob, "#c")
    bob.send("PRIVMSG #c :what time is it")
    line = watcher.expect("PRIVMSG")
    bob_re = re.escape(prefix("bob"))
    assert re.fullmatch(rf"@time={TIME} :{bob_re} PRIVMSG #c :what time is it", line)


def test_cap_setname(live: LiveServer) -> None:
    me = modern(live, "me", "setname")
    watcher = modern(live, "watcher", "setname")
    plain = live.client("plain")
    for client in (me, watcher, plain):
        joined(client, "#c")
    me.send("SETNAME :A New Name")
    assert me.expect("SETNAME") == f":{prefix('me')} SETNAME :A New Name"
    assert watcher.expect("SETNAME") == f":{prefix('me')} SETNAME :A New Name"
    me.send("SETNAME :" + "x" * 129)
    assert me.expect("FAIL") == ":irc.test FAIL SETNAME INVALID_REALNAME :Realname is not valid"
    plain.send("WHOIS me")
    assert plain.expect(" 311 ") == ":irc.test 311 plain me ~me 127.0.0.1 * :A New Name"


def test_cap_standard_replies(live: LiveServer) -> None:
    modern_client = modern(live, "modern", "standard-replies")
    modern_client.send("HISTORY #c nope")
    assert modern_client.expect("FAIL") == (
        ":irc.test FAIL HISTORY INVALID_PARAMS nope :The count must be a positive number"
    )
    plain = live.client("plain")
    plain.send("HISTORY #c nope")
    assert plain.expect("NOTICE") == (
        ":irc.test NOTICE plain :HISTORY failed: The count must be a positive number"
    )


def test_cap_userhost_in_names(live: LiveServer) -> None:
    client = modern(live, "uhn", "userhost-in-names")
    joined(client, "#c")
    client.send("NAMES #c")
    assert client.expect(" 353 ") == f":irc.test 353 uhn = #c :@{prefix('uhn')}"


def read(client: LineClient, count: int) -> list[str]:
    return [client.expect(".") for _ in range(count)]


def test_everything_and_nothing_side_by_side(live: LiveServer) -> None:
    """A client with every capability (as The Lounge asks) and one with none, in one room."""
    everything = (
        "account-notify account-tag away-notify batch cap-notify echo-message extended-join"
        " invite-notify labeled-response message-tags multi-prefix server-time setname"
        " standard-replies userhost-in-names"
    )
    lounge = modern(live, "lounge", everything)
    plain = live.client("plain")
    joined(lounge, "#both")
    joined(plain, "#both")
    lounge.expect("JOIN")  # plain's join
    actor = with_account(live, "actor")
    joined(actor, "#both")
    actor.send("PRIVMSG #both :hello", "AWAY :brb", "SETNAME :Actor Renamed", "NICK actor2")
    actor.send("PART #both :bye")
    old, new = re.escape(prefix("actor")), re.escape("actor2!~actor@127.0.0.1")
    expected_lounge = [
        rf"@time={TIME};msgid={MSGID};account=actor :{old} JOIN #both actor :actor",
        rf"@time={TIME};msgid={MSGID};account=actor :{old} PRIVMSG #both :hello",
        rf"@account=actor :{old} AWAY :brb",
        rf"@account=actor :{old} SETNAME :Actor Renamed",
        rf"@time={TIME};account=actor :{old} NICK actor2",
        rf"@time={TIME};msgid={MSGID};account=actor :{new} PART #both :bye",
    ]
    for pattern, line in zip(expected_lounge, read(lounge, 6), strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)
    assert read(plain, 4) == [
        f":{prefix('actor')} JOIN #both",
        f":{prefix('actor')} PRIVMSG #both :hello",
        f":{prefix('actor')} NICK actor2",
        ":actor2!~actor@127.0.0.1 PART #both :bye",
    ]
