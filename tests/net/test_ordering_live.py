"""In order over real sockets: a command that waits on a password check (REGISTER,
AUTHENTICATE, PASS, IDENTIFY, OPER) or on a reload (REHASH) is answered before the PING
written right behind it, in the same packet, as clients that use PING as a barrier expect."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from liveserver import LineClient, LiveServer, rss_kib
from miniircd.store.passwords import hash_password

PW = "correct-horse"
CONFIG = f"""
[accounts]
required = true
[[operators]]
name = "admin"
password_hash = "{hash_password("s3cret")}"
"""


def verbs(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("ordering")
    config = tmp_path / "miniircd.toml"
    config.write_text(CONFIG)
    server = LiveServer(tmp_path, "--config", str(config))
    server.start()
    try:
        first = LineClient(server.port)  # accounts are required: REGISTER before USER
        first.send("NICK alice", f"REGISTER * * {PW}", "USER alice 0 * :A", "PING :done")
        first.expect("PONG")
        first.close()
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_server_left_behind() -> None:
    """Replaces conftest's per-test cleanup: the module's one server outlives each test
    (its fixture stops it)."""


def test_register_then_ping(server: LiveServer) -> None:
    client = LineClient(server.port)
    client.send("NICK bob", f"REGISTER * * {PW}", "PING :barrier")
    assert verbs(client.lines_until("PONG")) == ["900", "REGISTER", "PONG"]
    client.close()


def test_register_ping_quit_in_one_packet(server: LiveServer) -> None:
    """As `printf ... | nc` does it: the QUIT waits for the account to be made."""
    client = LineClient(server.port)
    client.send("NICK dora", f"REGISTER * * {PW}", "PING :barrier", "QUIT :done", "PING :no")
    lines = client.expect_closed()
    assert verbs(lines) == ["900", "REGISTER", "PONG", ":Closing"]  # ERROR :Closing link
    client.close()


def test_authenticate_then_ping(server: LiveServer) -> None:
    client = LineClient(server.port)
    client.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
    client.expect("^AUTHENTICATE")
    payload = base64.b64encode(f"\0alice\0{PW}".encode()).decode()
    client.send(f"AUTHENTICATE {payload}", "PING :barrier")
    assert verbs(client.lines_until("PONG")) == ["900", "903", "PONG"]
    client.close()


def test_pass_then_ping(server: LiveServer) -> None:
    client = LineClient(server.port)
    client.send(f"PASS alice:{PW}", "NICK alice2", "USER alice 0 * :A", "PING :barrier")
    lines = client.lines_until("PONG")
    assert verbs(lines)[:2] == ["900", "001"]
    assert " 376 " in lines[-2]  # the PONG comes after the whole welcome
    client.close()


def test_identify_then_join_with_accounts_required(server: LiveServer) -> None:
    client = server.client("alice3")
    client.send(f"PRIVMSG NickServ :IDENTIFY alice {PW}", "JOIN #bots", "PING :barrier")
    lines = client.lines_until("PONG")
    assert " 900 " in lines[0]
    assert ":alice3!~alice3@127.0.0.1 JOIN #bots" in lines
    assert not any("You must log in first" in line for line in lines)
    client.close()


def test_oper_and_rehash_then_ping(server: LiveServer) -> None:
    client = server.client("admin")
    client.send("OPER admin s3cret", "PING :one", "REHASH", "PING :two")
    assert verbs(client.lines_until("PONG .*:two")) == [
        "381", "MODE", "PONG", "382", "NOTICE", "PONG",
    ]  # fmt: skip
    client.close()


def test_labels_stay_on_their_replies(server: LiveServer) -> None:
    client = LineClient(server.port)
    client.send("CAP LS 302", "CAP REQ :labeled-response batch", "CAP END", "NICK carol")
    client.send("@label=r1 REGISTER * * correct-horse", "@label=p1 PING :x")
    lines = client.lines_until("PONG")
    assert lines[-1] == "@label=p1 :irc.test PONG irc.test :x"
    opening = next(i for i, line in enumerate(lines) if line.startswith("@label=r1 "))
    assert "BATCH +" in lines[opening] and "REGISTER SUCCESS" in lines[opening + 2]
    client.close()


def test_a_flood_behind_a_password_check_is_cut_off(server: LiveServer) -> None:
    assert server.proc is not None
    # Two password checks at once grow both worker threads' malloc arenas to scrypt's
    # 16 MiB working set: a one-time cost, paid before the measurement.
    pair = [LineClient(server.port), LineClient(server.port)]
    for n, client in enumerate(pair):
        client.send(f"NICK warm{n}", f"REGISTER * * {PW}", "PING :x")
    for client in pair:
        client.expect("PONG")
        client.close()
    sizes = []
    for round_ in range(20):
        client = LineClient(server.port)
        flood = "".join(f"PING :{n}\r\n" for n in range(3000))
        client.send_raw(f"NICK flood{round_}\r\nREGISTER * * {PW}\r\n{flood}".encode())
        lines = client.expect_closed()
        # nothing behind the REGISTER ran: the backlog overflowed while the hash was made
        assert not any("PONG" in line for line in lines), lines[:5]
        assert lines[-1].endswith("(Excess Flood)")
        client.close()
        sizes.append(rss_kib(server.proc.pid))
    assert sizes[-1] - sizes[0] < 1024, sizes  # KiB, for 57,000 lines
    assert server.alive()
