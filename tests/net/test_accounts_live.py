"""Accounts on the real server: survive restarts and kill -9, never store a plaintext password."""

from __future__ import annotations

import base64
from pathlib import Path

from liveserver import LineClient, LiveServer

PW = "correct-horse"


def plain(authcid: str, password: str) -> str:
    return base64.b64encode(f"\0{authcid}\0{password}".encode()).decode()


def register_account(server: LiveServer, nick: str, password: str) -> LineClient:
    client = server.client(nick)
    client.send(f"REGISTER * * {password}")
    assert client.lines_until("REGISTER") == [
        f":irc.test 900 {nick} {nick}!~{nick}@127.0.0.1 {nick} :You are now logged in as {nick}",
        f":irc.test REGISTER SUCCESS {nick} :Account successfully registered",
    ]
    return client


def sasl_login(server: LiveServer, nick: str, account: str, password: str) -> list[str]:
    """Register a connection with SASL PLAIN during CAP negotiation; return every line."""
    client = LineClient(server.port)
    client.send("CAP LS 302", f"NICK {nick}", f"USER {nick} 0 * :{nick}")
    client.expect("CAP .* LS")
    client.send("CAP REQ :sasl")
    assert client.expect("CAP") == f":irc.test CAP {nick} ACK :sasl"
    client.send("AUTHENTICATE PLAIN")
    assert client.expect("AUTHENTICATE") == "AUTHENTICATE +"
    client.send(f"AUTHENTICATE {plain(account, password)}")
    lines = client.lines_until(" 90[34] ")
    client.send("CAP END")
    lines += client.lines_until(" 376 ")
    client.close()
    return lines


def identify(server: LiveServer, nick: str, args: str) -> list[str]:
    client = server.client(nick)
    client.send(f"PRIVMSG NickServ :IDENTIFY {args}")
    lines = client.lines_until(r"NOTICE \S+ :(You are now logged in|Invalid account)")
    client.close()
    return lines


def test_accounts_survive_a_restart(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        register_account(server, "alice", PW).close()
    finally:
        assert server.stop() == 0
    server = LiveServer(tmp_path)
    server.start()
    try:
        lines = sasl_login(server, "alice", "alice", PW)
        assert lines[:2] == [
            ":irc.test 900 alice alice!~alice@127.0.0.1 alice :You are now logged in as alice",
            ":irc.test 903 alice :SASL authentication successful",
        ]
        assert lines[2].startswith(":irc.test 001 alice ")
        assert identify(server, "bob", f"alice {PW}") == [
            ":irc.test 900 bob bob!~bob@127.0.0.1 alice :You are now logged in as alice",
            ":NickServ!NickServ@services NOTICE bob :You are now logged in as alice.",
        ]
    finally:
        server.stop()


def test_no_plaintext_password_on_disk_or_in_logs(tmp_path: Path) -> None:
    first, second, third = "Plaintext-Canary-4711", "Plaintext-Canary-0815", "Plaintext-Canary-1234"
    server = LiveServer(tmp_path)
    server.start()
    try:
        alice = register_account(server, "alice", first)
        alice.send(f"PRIVMSG NickServ :PASSWD {first} {second}")
        assert alice.expect("NickServ") == (
            ":NickServ!NickServ@services NOTICE alice :Your password has been changed."
        )
        assert identify(server, "bob", f"alice {third}")[-1] == (
            ":NickServ!NickServ@services NOTICE bob :Invalid account or password."
        )
        assert sasl_login(server, "carol", "alice", third)[0] == (
            ":irc.test 904 carol :SASL authentication failed"
        )
        assert identify(server, "dave", f"alice {second}")[-1].endswith("logged in as alice.")
        alice.close()
    finally:
        assert server.stop() == 0
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"miniircd.sqlite3", "server.log"} <= names
    for path in files:
        data = path.read_bytes()
        for canary in (first, second, third):
            assert canary.encode() not in data, f"{canary} found in {path}"


def test_kill_9_right_after_register_success_keeps_the_account(tmp_path: Path) -> None:
    server = LiveServer(tmp_path)
    server.start()
    register_account(server, "alice", PW)  # SUCCESS was seen, so it must have been committed
    server.kill9()
    server = LiveServer(tmp_path)
    server.start()
    try:
        assert identify(server, "alice", PW)[-1] == (
            ":NickServ!NickServ@services NOTICE alice :You are now logged in as alice."
        )
    finally:
        server.stop()


def test_cap_ls_and_req_sasl(live: LiveServer) -> None:
    client = LineClient(live.port)
    client.send("CAP LS")
    ls = client.expect("CAP").split(" :", 1)[1].split()
    assert "sasl" in ls
    assert not any(token.startswith("sasl=") for token in ls)
    client.send("CAP LS 302")
    assert "sasl=PLAIN" in client.expect("CAP").split(" :", 1)[1].split()
    client.send("CAP REQ :sasl")
    assert client.expect("CAP") == ":irc.test CAP * ACK :sasl"
    client.send("CAP LIST")
    assert client.expect("CAP") == ":irc.test CAP * LIST :sasl"
    client.send("NICK bob", "USER bob 0 * :Bob", "CAP END")
    assert client.expect(" 001 ").startswith(":irc.test 001 bob ")
