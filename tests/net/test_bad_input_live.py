"""Bad input never hurts: random and hostile byte streams over real sockets, one live server.

Every example opens a fresh connection (registered or not), sends its bytes, then checks
that the server is still running, that the connection answers a PING unless the server
rightly closed it, that an honest client connected all along still gets its PONG in time,
that no client was ever sent "Traceback" or "Exception", and that the server log gained
no traceback (the dispatcher logs a crashing handler with `log.exception`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveserver import LineClient, LiveServer, unlimited_config
from miniircd.core.dispatch import COMMANDS

ALIVE_DEADLINE = 5.0  # an honest PING must be answered within this
LEAKS = ("Traceback", "Exception")
_ids = itertools.count()


@dataclass
class Target:
    server: LiveServer
    honest: LineClient
    log_offset: int = 0
    seen: list[str] = field(default_factory=list)  # every line any fuzz connection got


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp = tmp_path_factory.mktemp("bad-input")
    # Flood control would hold the fuzz lines back and slow every example down.
    server = LiveServer(tmp, "--config", str(unlimited_config(tmp)))
    server.start()
    LiveServer.running.discard(server)  # shared by the whole module: stopped below, not per test
    honest = server.client("honest")
    try:
        honest.send("REGISTER * * honest-password")
        honest.expect("REGISTER SUCCESS")
        # a registered room with a topic and some history for the fuzz to poke at
        honest.send("JOIN #honest", "TOPIC #honest :a room", "PRIVMSG #honest :some history")
        honest.expect("TOPIC #honest")
        yield Target(server, honest)
    finally:
        honest.close()
        code = server.stop()
    assert code == 0, server.log()[-2000:]


def assert_no_leak(lines: list[str]) -> None:
    for line in lines:
        assert not any(word in line for word in LEAKS), line


def check_server(target: Target, what: object) -> None:
    """The server runs, answers the honest client in time and logged no traceback."""
    log = target.server.log()
    assert target.server.alive(), f"the server died after {what!r:.2000}:\n{log[-3000:]}"
    token = f"alive-{next(_ids)}"
    target.honest.send(f"PING :{token}")
    lines = target.honest.lines_until(f"PONG .*{token}", timeout=ALIVE_DEADLINE)
    assert_no_leak(lines)
    log = target.server.log()  # read again: the PONG means the lines before it are handled
    new, target.log_offset = log[target.log_offset :], len(log)
    assert "Traceback" not in new, f"a handler crashed on {what!r:.2000}:\n{new}"


def sync(client: LineClient) -> list[str]:
    """Everything the server sends until it answers a PING, or until it closes the link.

    The leading line ending completes whatever partial line the input left behind."""
    token = f"sync-{next(_ids)}"
    start = len(client.seen)
    try:
        client.send_raw(f"\r\nPING :{token}\r\n".encode())
        client.expect(f"PONG .*{token}", timeout=ALIVE_DEADLINE)
    except (ConnectionError, BrokenPipeError):
        pass  # the server closed this link (QUIT, an endless line, ...): fine
    return client.seen[start:]


def feed(target: Target, chunks: list[bytes], registered: bool, account: bool = False) -> list[str]:
    """Send `chunks` on a fresh connection, registered (and with an account) or not;
    return what it was sent."""
    client = LineClient(target.server.port)
    try:
        nick = f"fz{next(_ids)}"
        lines = client.register(nick) if registered else []
        if account:
            client.send(f"REGISTER * * pw-{nick}")
            lines += client.lines_until("REGISTER SUCCESS")
        for chunk in chunks:
            try:
                client.send_raw(chunk)
            except OSError:
                break  # closed on us, e.g. after an endless line
        lines += sync(client)
    finally:
        client.close()
    target.seen += lines
    return lines


# -- strategies ------------------------------------------------------------------------------

VERBS = sorted(COMMANDS)
WORDS = [
    "", "*", ":", "::", "+", "-", "#", "&", ",", ",,", "#honest", "#fuzz", "#a,#b,", "honest",
    "NickServ", "ChanServ", "nickserv", "+o", "-o", "+v", "+b", "-b", "+k", "+l", "+i", "+ntmis",
    "+ovb-k", "+lk", "b", "o", "*!*@*", "a!b@c", "LS", "302", "REQ", "END", "LIST", "sasl",
    "-sasl", "PLAIN", "EXTERNAL", "AAAA", "=", "latest", "before", "after", "between", "around",
    "targets", "timestamp=2024-01-01T00:00:00.000Z", "timestamp=", "timestamp=x", "msgid=x",
    "msgid=", "a@b.c", "IDENTIFY", "REGISTER", "HELP", "DROP", "INBOX", "GHOST", "\u00e9",
    "\u65e5\u672c\u8a9e", "\u200b", "\U0001f600", "x" * 300, "\x01ACTION hi\x01", "\x01",
    "labeled-response", "echo-message", "message-tags", "batch", "draft/chathistory",
]  # fmt: skip
# counts, limits, versions: "\u00b2".isdigit() is True, but int("\u00b2") raises
NUMBERS = [
    "0", "1", "-1", "+1", "007", "400", "1_000", "1e3", "0x10", " 1", "99999999999999999999999",
    "\u00b2", "\u2479", "\u0663", "\uff11",
]  # fmt: skip
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
param = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(NUMBERS),
    text,
    st.sampled_from(WORDS).map(lambda w: ":" + w),
)
ending = st.sampled_from([b"\r\n", b"\n", b"\r", b"\n\r", b"\r\r\n", b""])
verb = st.one_of(
    st.sampled_from(VERBS),
    st.sampled_from(VERBS),
    st.sampled_from(VERBS).map(str.lower),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12),
)


@st.composite
def command(draw: st.DrawFn) -> bytes:
    """A verb and 0..20 parameters: missing, extra, empty and ':'-prefixed ones."""
    params = draw(st.one_of(st.lists(param, max_size=4), st.lists(param, max_size=20)))
    sep = draw(st.sampled_from([" ", "  "]))
    line = draw(verb) + "".join(sep + p for p in params)
    if params and draw(st.booleans()):
        line += " :" + draw(text)
    return line.encode("utf-8") + draw(ending)


@st.composite
def tagged(draw: st.DrawFn) -> bytes:
    """A tag section near the 4096-byte limit ('@' + tags + ' '), or a few odd tags."""
    if draw(st.booleans()):
        size = draw(st.integers(4090, 4100))
        tags = b"a=" + b"x" * (size - 4)
        return b"@" + tags + b" PING :tagged\r\n"
    tags = draw(st.lists(st.sampled_from(["label=x", "+typing", "=", ";", "a=\\", "time"])))
    return ("@" + ";".join(tags) + " ").encode() + draw(command())


cap_sasl = st.sampled_from([
    "CAP LS", "CAP LS 302", "CAP LS \u2479", "CAP REQ :sasl", "CAP REQ", "CAP REQ :",
    "CAP REQ :-sasl nonsense", "CAP REQ :labeled-response message-tags batch", "CAP END",
    "CAP LIST", "CAP FOO", "AUTHENTICATE PLAIN", "AUTHENTICATE EXTERNAL", "AUTHENTICATE +",
    "AUTHENTICATE *", "AUTHENTICATE =", "AUTHENTICATE " + "A" * 400, "AUTHENTICATE " + "A" * 401,
    "AUTHENTICATE AGhvbmVzdABob25lc3QtcGFzc3dvcmQ=", "AUTHENTICATE AGhvbmVzdAB3cm9uZw==",
    "AUTHENTICATE AAAA", "AUTHENTICATE //79", "AUTHENTICATE :", "REGISTER * * fuzz-password",
    "REGISTER honest * x", "PASS honest:honest-password", "PASS", "NICK \u00e9t\u00e9",
    "USER a 0 * :a",
]).map(lambda line: line.encode() + b"\r\n")  # fmt: skip
garbage = st.binary(max_size=300).map(lambda data: data + b"\r\n")
nul = st.tuples(command(), st.integers(0, 40)).map(lambda c: c[0][: c[1]] + b"\0" + c[0][c[1] :])
invalid_utf8 = st.tuples(st.sampled_from(VERBS), st.binary(max_size=60)).map(
    lambda c: c[0].encode() + b" #honest :\xff\xfe\xc3" + c[1] + b"\r\n"
)
nick = text.map(lambda name: f"NICK {name}\r\n".encode())
long_line = st.tuples(st.sampled_from([511, 512, 513, 4097, 8191, 8193, 100_000]), ending).map(
    lambda c: b"PRIVMSG #honest :" + b"y" * c[0] + c[1]
)
chunk = st.one_of(
    command(), command(), command(), tagged(), cap_sasl, cap_sasl, garbage, nul, invalid_utf8,
    nick, long_line,
)  # fmt: skip


@settings(
    max_examples=1200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(chunks=st.lists(chunk, min_size=1, max_size=20), registered=st.booleans())
def test_random_input_never_hurts(target: Target, chunks: list[bytes], registered: bool) -> None:
    assert_no_leak(feed(target, chunks, registered))
    check_server(target, chunks)


# -- every verb, every shape of parameters --------------------------------------------------

SHAPES = [
    "", " ", " :", " : ", " ::", "  ", " *", " * *", " :*", " \u00e9", " \u2479 \u00b2",
    " " + " ".join(["x"] * 20), " " + " ".join([":"] * 3), " " + " ".join(WORDS[:20]),
    " #honest honest 1 2 3 :", " honest #honest * :x", " 0 0 0 0 0 0", " - + - +",
    " #honest \u00b2 \u2479", " honest \u2479 \u00b2", " * 99999999999999999999 -1 0",
    " LS \u00b2", " PLAIN \u00b2", " #honest +l \u00b2", " latest * \u00b2",
    " NickServ :INBOX \u00b2", " NickServ :HELP \u2479", " ChanServ :INFO \u00b2",
    " " + "z" * 400,
]  # fmt: skip


@pytest.mark.parametrize("state", ["before", "after", "account"])
def test_every_verb_with_odd_parameters(target: Target, state: str) -> None:
    """Before registration, after it, and logged in to an account (which INBOX wants)."""
    for name in VERBS:
        lines = [f"{name}{shape}".encode() + b"\r\n" for shape in SHAPES]
        # QUIT ends the link, and so may SERVER (a server introducing itself under a name
        # that is not configured: a disconnect with its reason): one connection per shape;
        # any other verb gets them all at once
        ending = name in ("QUIT", "SERVER")
        for batch in [[line] for line in lines] if ending else [lines]:
            replies = feed(target, batch, state != "before", account=state == "account")
            assert_no_leak(replies)
            if name == "SERVER":
                assert "PONG" in replies[-1] or replies[-1].startswith("ERROR :Closing link:")
            elif name != "QUIT":  # odd parameters are refused, never a reason to drop the link
                assert "PONG" in replies[-1], (name, replies[-5:])
        check_server(target, name)


# -- deterministic hostile cases --------------------------------------------------------------


def test_100k_line_without_newline_is_dropped(target: Target) -> None:
    client = target.server.client("huge1")
    client.send_raw(b"PRIVMSG #honest :" + b"y" * 100_000)
    assert client.expect_closed() == ["ERROR :Closing link: huge1[127.0.0.1] (Input line too long)"]
    check_server(target, "100 KB without newline")


def test_100k_line_with_newline_is_dropped_too(target: Target) -> None:
    """Framing keeps at most max_line_pending (8192) bytes: the newline comes too late."""
    client = target.server.client("huge2")
    client.send_raw(b"PRIVMSG #honest :" + b"y" * 100_000 + b"\r\n")
    assert client.expect_closed() == ["ERROR :Closing link: huge2[127.0.0.1] (Input line too long)"]
    check_server(target, "100 KB with newline")


def test_tag_sections_at_and_over_the_limit(target: Target) -> None:
    client = target.server.client("tags")
    at_limit = b"@a=" + b"x" * (4096 - 4) + b" "  # '@' + tag data + ' ' = 4096 bytes
    assert len(at_limit) == 4096
    client.send_raw(at_limit + b"PING :at-the-limit\r\n")
    assert client.expect("PONG|417") == ":irc.test PONG irc.test :at-the-limit"
    client.send_raw(b"@a=" + b"x" * (4097 - 4) + b" PING :over\r\n")
    assert client.expect("PONG|417") == ":irc.test 417 tags :Input line was too long"
    client.send_raw(b"@a=" + b"x" * 4996 + b" PING :way-over\r\n")  # a 5000-byte tag section
    assert client.expect("PONG|417") == ":irc.test 417 tags :Input line was too long"
    client.send("PING :still-here")
    assert client.expect("PONG") == ":irc.test PONG irc.test :still-here"
    client.close()
    check_server(target, "tag sections")


def test_nul_bytes_are_refused(target: Target) -> None:
    client = target.server.client("nul")
    for line in (b"PRIVMSG #honest :a\0b", b"\0", b"NICK \0x", b"PING :\0"):
        client.send_raw(line + b"\r\n")
        assert client.expect(" 400 ") == ":irc.test 400 nul * :Line contains a NUL byte"
    client.send("PING :after-nul")
    assert client.expect("PONG").endswith("after-nul")
    client.close()
    check_server(target, "NUL bytes")


def test_lone_carriage_returns_end_lines(target: Target) -> None:
    client = LineClient(target.server.port)
    client.send_raw(b"NICK lonecr\rUSER lonecr 0 * :cr only\r\r\rPING :cr\r")
    client.expect(" 001 lonecr ")
    assert client.expect("PONG") == ":irc.test PONG irc.test :cr"
    client.close()
    check_server(target, "lone CRs")


def test_binary_garbage_leaves_the_link_usable(target: Target) -> None:
    client = target.server.client("garbage")
    noise = bytes(range(256)) * 4 + bytes(range(255, -1, -1)) * 4
    client.send_raw(noise + b"\r\n" + noise.replace(b"\n", b"").replace(b"\r", b"") + b"\n")
    client.send("PING :after-garbage")
    lines = client.lines_until("PONG .*after-garbage")
    assert_no_leak(lines)
    client.close()
    check_server(target, "binary garbage")


def test_non_ascii_nicks_are_refused_cleanly(target: Target) -> None:
    client = LineClient(target.server.port)
    for name in ("\u00e9t\u00e9", "\u65e5\u672c", "a\u200bb", "\U0001f600", "\u2479"):
        client.send(f"NICK {name}")
        assert " 432 " in client.expect(" 4[0-9][0-9] "), client.seen[-1]  # erroneous nick
    client.send("NICK ascii", "USER ascii 0 * :ascii")
    client.expect(" 001 ascii ")
    client.close()
    check_server(target, "non-ASCII nicks")


def test_zz_the_server_log_shows_no_traceback(target: Target) -> None:
    """Last in the module: the whole run left no traceback in the log."""
    assert target.server.alive()
    assert "Traceback" not in target.server.log()
    assert_no_leak(target.seen)
