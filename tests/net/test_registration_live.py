"""Registration and liveness over real loopback sockets, as real clients talk to the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liveserver import LineClient, LiveServer


def codes(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith(":irc.test ")]


WELCOME_BURST = [
    "001", "002", "003", "004", "005", "005", "005",
    "251", "252", "253", "254", "255", "265", "266",
    "375", "372", "372", "376",
]  # fmt: skip


def test_netcat_style_bare_lf(live: LiveServer) -> None:
    client = LineClient(live.port)
    client.send_raw(b"NICK nc\nUSER nc 0 * :netcat user\n")
    lines = client.lines_until(" 376 ")
    assert codes(lines) == WELCOME_BURST
    client.send_raw(b"PING :hello\n")
    assert client.expect("PONG") == ":irc.test PONG irc.test :hello"
    client.send_raw(b"QUIT :bye\n")
    assert client.expect_closed() == ["ERROR :Closing link: nc[127.0.0.1] (Quit: bye)"]


def test_user_with_empty_realname_is_refused_and_unusable_user_name_replaced(
    live: LiveServer,
) -> None:
    client = LineClient(live.port)
    client.send("NICK empty", "USER empty 0 * :")
    assert client.expect(" 461 | 001 ") == ":irc.test 461 empty USER :Not enough parameters"
    client.send("USER empty 0 * :Empty")  # a second try registers
    assert client.expect(" 001 ").endswith(" empty!~empty@127.0.0.1")
    emoji = LineClient(live.port)
    emoji.send("NICK emoji", "USER \U0001f600\U0001f600 0 * :Emoji")
    # never left waiting: registered under the fallback user name
    assert emoji.expect(" 461 | 001 ") == (
        ":irc.test 001 emoji :Welcome to the miniircd Network, emoji!~user@127.0.0.1"
    )
    assert codes(emoji.lines_until(" 376 "))[-1] == "376"
    client.close()
    emoji.close()


def test_irssi_style(live: LiveServer) -> None:
    client = LineClient(live.port)
    client.send("CAP LS 302", "JOIN :")
    assert client.cap_ls()[0] == "account-notify"
    assert client.expect("451") == ":irc.test 451 * :You have not registered"
    client.send("CAP END", "NICK irssi", "USER irssi irssi 127.0.0.1 :Irssi User")
    assert codes(client.lines_until(" 376 ")) == WELCOME_BURST


def test_hexchat_style_registration_waits_for_cap_end(live: LiveServer) -> None:
    client = LineClient(live.port)
    client.send("CAP LS 302", "NICK hex", "USER hex 0 * :HexChat")
    assert client.cap_ls()[0] == "account-notify"
    client.send("CAP REQ multi-prefix bogus")  # one unknown name: the whole REQ is refused
    assert client.expect("CAP") == ":irc.test CAP hex NAK :multi-prefix bogus"
    client.send("CAP REQ multi-prefix multi-prefix")  # no ':' and a name twice, as HexChat does
    assert client.expect("CAP") == ":irc.test CAP hex ACK :multi-prefix multi-prefix"
    client.send("PING :still-waiting")
    # nothing but the PONG: registration is held until CAP END
    assert client.expect(".") == ":irc.test PONG irc.test :still-waiting"
    client.send("CAP END")
    assert codes(client.lines_until(" 376 ")) == WELCOME_BURST


def test_nick_collision_and_change_broadcast(live: LiveServer) -> None:
    alice = live.client("alice")
    bob = LineClient(live.port)
    bob.send("NICK alice")
    assert bob.expect("433") == ":irc.test 433 * alice :Nickname is already in use"
    bob.send("NICK bob", "USER bob 0 * :Bob")
    bob.expect(" 376 ")
    bob.send("NICK Alice")
    assert bob.expect("433") == ":irc.test 433 bob Alice :Nickname is already in use"
    bob.send("NICK robert")
    assert bob.expect("NICK") == ":bob!~bob@127.0.0.1 NICK robert"
    alice.close()


def test_wrong_server_password(tmp_path: Path) -> None:
    server = LiveServer(tmp_path, "--password", "sesame")
    server.start()
    try:
        bad = LineClient(server.port)
        bad.send("PASS nope", "NICK bad", "USER bad 0 * :bad")
        assert bad.expect_closed() == [
            ":irc.test 464 bad :Password incorrect",
            "ERROR :Closing link: bad[127.0.0.1] (Bad password)",
        ]
        good = LineClient(server.port)
        good.send("PASS sesame", "NICK good", "USER good 0 * :good")
        good.expect(" 001 good ")
    finally:
        server.stop()


def test_overlong_line_and_invalid_utf8(live: LiveServer) -> None:
    client = live.client("long")
    client.send("PRIVMSG x :" + "y" * 600)
    assert client.expect("417") == ":irc.test 417 long :Input line was too long"
    client.send_raw(b"PING :\xff\xfe caf\xc3\xa9\r\n")
    assert client.expect("FAIL").startswith(":irc.test FAIL PING INVALID_UTF8 :")
    client.send("PING :still here")
    assert client.expect("PONG").endswith("still here")
    client.send("CAP REQ labeled-response")
    client.expect("ACK")
    client.send_raw(b"@label=xyz PRIVMSG long :caf\xe9\r\n")
    assert client.expect("FAIL").startswith("@label=xyz :irc.test FAIL PRIVMSG INVALID_UTF8 :")


def test_no_newline_flood_is_dropped(live: LiveServer) -> None:
    client = live.client("flood")
    client.send_raw(b"A" * 9000)
    lines = client.expect_closed()
    assert lines == ["ERROR :Closing link: flood[127.0.0.1] (Input line too long)"]
    other = live.client("other")  # the server is fine
    other.send("PING :ok")
    other.expect("PONG")


def test_ping_timeout_with_short_timeouts(tmp_path: Path) -> None:
    config = tmp_path / "fast.toml"
    config.write_text("[timeouts]\nping_interval = 1\nping_timeout = 2\n")
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    try:
        client = server.client("sleepy")
        assert client.expect("PING", timeout=5) == "PING :irc.test"
        assert client.expect_closed(timeout=5) == [
            "ERROR :Closing link: sleepy[127.0.0.1] (Ping timeout: 2 seconds)"
        ]
    finally:
        server.stop()


def test_registration_timeout_live(tmp_path: Path) -> None:
    config = tmp_path / "fast.toml"
    config.write_text("registration_timeout = 1\n")
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    try:
        client = LineClient(server.port)
        client.send("NICK idle")
        assert client.expect_closed(timeout=5) == [
            "ERROR :Closing link: idle[127.0.0.1] (Registration timed out)"
        ]
    finally:
        server.stop()


def test_sigterm_sends_error_and_exits_zero(live: LiveServer) -> None:
    clients = [live.client(f"c{i}") for i in range(3)]
    unregistered = LineClient(live.port)
    unregistered.send("NICK halfway")
    assert live.proc is not None
    live.proc.send_signal(signal.SIGTERM)
    for client in [*clients, unregistered]:
        assert client.expect_closed() == ["ERROR :Server shutting down"]
    assert live.stop() == 0


def test_more_connections_than_select_allows(tmp_path: Path) -> None:
    """1,100 registered clients: past select()'s 1,024-descriptor ceiling."""
    config = tmp_path / "many.toml"  # all from one address: lift the per-address limit
    config.write_text("[limits]\nmax_connections_per_ip = 2000\n")
    live = LiveServer(tmp_path, "--config", str(config))
    live.start()
    try:
        _many_clients(live)
    finally:
        live.stop()


def _many_clients(live: LiveServer) -> None:
    clients = []
    for i in range(1100):
        client = LineClient(live.port)
        client.send(f"NICK u{i}", f"USER u{i} 0 * :u")
        clients.append(client)
    for client in clients:
        client.expect(" 376 ")
    last = clients[-1]
    last.send("LUSERS")
    assert last.expect(" 251 ").endswith("There are 1100 users and 0 invisible on 1 servers")
    for client in clients:
        client.close()


def run_cli(*args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "miniircd", *args],
        capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_version_flag() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("miniircd ")


def test_bad_flag_is_one_line() -> None:
    result = run_cli("--nonsense")
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_unusable_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp_path))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"miniircd: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_data_dir_created_on_demand(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        assert server.data_dir.is_dir()
    finally:
        server.stop()


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="POSIX only")
def test_sigint_exits_zero(live: LiveServer) -> None:
    client = live.client("ctrlc")
    assert live.proc is not None
    live.proc.send_signal(signal.SIGINT)
    assert client.expect_closed() == ["ERROR :Server shutting down"]
    deadline = time.monotonic() + 10
    while live.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert live.proc.returncode == 0


def test_info_live(live: LiveServer) -> None:
    client = live.client("alice")
    client.send("INFO")
    lines = client.lines_until(" 374 ")
    assert [line.split()[1] for line in lines] == ["371", "371", "371", "374"]
